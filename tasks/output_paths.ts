// Output paths checked before any work: each names its flag, its parent is created or refused.

/** A bad command line or output path: the task prints the message and exits with status 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** The folder a path lies in ("." for a bare name). */
export function parentOf(path: string): string {
  const i = path.replace(/\/+$/, "").lastIndexOf("/");
  return i < 0 ? "." : i === 0 ? "/" : path.slice(0, i);
}

async function kind(path: string): Promise<"file" | "dir" | "none" | "other"> {
  try {
    const s = await Deno.stat(path);
    return s.isDirectory ? "dir" : s.isFile ? "file" : "other";
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return "none";
    if (e instanceof Deno.errors.NotADirectory) return "none"; // its parent check says why
    throw e;
  }
}

/**
 * Makes sure `path` can be written as a file: not a folder, its parent folder created (or
 * refused when a file stands in the way) and writable. Throws a {@linkcode UsageError} naming
 * `flag` and the path.
 */
export async function checkOutputPath(flag: string, path: string): Promise<void> {
  const where = `${flag} ${path}`;
  if (path === "" || path.endsWith("/")) throw new UsageError(`${where}: give a file name`);
  const k = await kind(path);
  if (k === "dir") throw new UsageError(`${where}: is a folder; give a file path`);
  if (k === "other") throw new UsageError(`${where}: is not a regular file`);
  const parent = parentOf(path);
  try {
    await Deno.mkdir(parent, { recursive: true });
  } catch (e) {
    const why = e instanceof Deno.errors.AlreadyExists || e instanceof Deno.errors.NotADirectory
      ? "a file stands where a folder is needed"
      : (e as Error).message;
    throw new UsageError(`${where}: cannot create its folder ${parent} (${why})`);
  }
  const probe = `${parent}/.write-test-${Deno.pid}`;
  try {
    await Deno.writeFile(probe, new Uint8Array());
    await Deno.remove(probe);
  } catch (e) {
    throw new UsageError(
      `${where}: its folder ${parent} is not writable (${(e as Error).message})`,
    );
  }
}
