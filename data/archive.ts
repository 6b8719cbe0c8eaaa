// The CIFAR-10 archive: a safe, atomic extraction that records its source (path, size, MD5).
import { Md5 } from "./md5.ts";
import { partialPath, removeStale, syncDir, writeFileAtomic } from "../engine/files.ts";
import { checkGzipSignature, FILES, FOLDER, readCifarMembers } from "./cifar_files.ts";

export { FILES, FOLDER };

/** Where the official binary archive is published. */
export const CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz";
/** MD5 of the official archive (a downloaded file must match it). */
export const CIFAR10_MD5 = "c32a1d4ab5d03f1284b67883e8d87530";
/** The file name of the archive. */
export const ARCHIVE = "cifar-10-binary.tar.gz";
/** The manifest an extraction writes into its folder: which archive it came from. */
export const MANIFEST = ".source.json";
const OLD_MARKER = ".extracted-from"; // earlier versions' marker: such a folder is ours too

/** Which archive an extracted folder came from (the contents of {@linkcode MANIFEST}). */
export interface Manifest {
  /** Absolute path of the archive when it was extracted. */
  archive: string;
  /** Its size in bytes. */
  size: number;
  /** Its MD5 (hex). */
  md5: string;
  /** Size in bytes of each extracted file. */
  files: Record<string, number>;
}

/** Options for {@linkcode extractArchive}. */
export interface ArchiveOptions {
  /** Folder to extract into (default: the user's cache folder, {@linkcode cacheDir}). */
  extractTo?: string;
  /** The one info line saying what was extracted or reused (default: console.error). */
  log?: (line: string) => void;
}

/** `a/b` joined with single slashes. */
export function join(...parts: string[]): string {
  return parts.join("/").replace(/\/+/g, "/");
}

async function stat(path: string): Promise<Deno.FileInfo | null> {
  try {
    return await Deno.stat(path);
  } catch {
    return null;
  }
}

/**
 * The user's cache folder for this project: `$XDG_CACHE_HOME/resnet-webgpu`, else
 * `~/.cache/resnet-webgpu` (`%LOCALAPPDATA%\resnet-webgpu` on Windows), else under $TMPDIR.
 */
export function cacheDir(): string {
  const env = (k: string) => Deno.env.get(k) || undefined;
  const base = env("XDG_CACHE_HOME") ??
    (Deno.build.os === "windows" ? env("LOCALAPPDATA") : undefined) ??
    (env("HOME") ? join(env("HOME")!, ".cache") : undefined);
  return base ? join(base, "resnet-webgpu") : join(env("TMPDIR") ?? "/tmp", "resnet-webgpu-cache");
}

/** Names of FILES missing in `dir` (all of them when `dir` does not exist). */
export async function missingFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const f of FILES) if (!(await stat(join(dir, f)))?.isFile) out.push(f);
  return out;
}

/** Hex MD5 of a file. */
export async function md5File(path: string): Promise<string> {
  const h = new Md5();
  const f = await Deno.open(path);
  for await (const chunk of f.readable) h.update(chunk);
  return h.hex();
}

/** The manifest of an extracted folder; null when it has none or it is unreadable. */
export async function readManifest(dir: string): Promise<Manifest | null> {
  try {
    const m = JSON.parse(await Deno.readTextFile(join(dir, MANIFEST)));
    const ok = typeof m?.archive === "string" && typeof m.size === "number" &&
      typeof m.md5 === "string" && typeof m.files === "object" && m.files !== null;
    return ok ? m : null;
  } catch {
    return null;
  }
}

/** "173,809,224 bytes, MD5 …" (", the official archive" when it is). */
export function describeArchive(size: number, md5: string): string {
  const official = md5 === CIFAR10_MD5 ? ", the official archive" : "";
  return `${size.toLocaleString("en-US")} bytes, MD5 ${md5}${official}`;
}

/** Whether `dir` holds every file of `m` at its recorded size. */
async function filesIntact(dir: string, m: Manifest): Promise<boolean> {
  for (const f of FILES) {
    const st = await stat(join(dir, f));
    if (!st?.isFile || st.size !== m.files[f]) return false;
  }
  return true;
}

/** Unpacks the seven CIFAR files of `archive` and the manifest into the new folder `staging`. */
async function unpack(archive: string, staging: string, source: Manifest): Promise<void> {
  await Deno.mkdir(staging);
  const file = await Deno.open(archive);
  // The stream closes the file when it ends or is cancelled.
  await readCifarMembers(file.readable, archive, source.size, async (f, bytes) => {
    await writeFileAtomic(join(staging, f), bytes);
    source.files[f] = bytes.length;
  });
  await writeFileAtomic(join(staging, MANIFEST), new TextEncoder().encode(JSON.stringify(source)));
}

/** Refuses a file that cannot be a .tar.gz (no gzip signature) before any work is done. */
async function checkSignature(archive: string): Promise<void> {
  const head = new Uint8Array(2);
  const f = await Deno.open(archive);
  let n: number | null;
  try {
    n = await f.read(head);
  } finally {
    f.close();
  }
  checkGzipSignature(head.subarray(0, n ?? 0), archive);
}

/**
 * Extracts a local `cifar-10-binary.tar.gz` into `<extractTo>/cifar-10-batches-bin` (default
 * extractTo: {@linkcode cacheDir}, so the archive's own folder may be read-only) and returns that
 * folder. The folder records the archive's path, size and MD5 ({@linkcode MANIFEST}); it is
 * reused only for the same archive (same size and MD5) and otherwise extracted anew, replacing
 * an earlier extraction but never a folder this loader did not write. Logs one line.
 */
export async function extractArchive(
  archive: string,
  options: ArchiveOptions = {},
): Promise<string> {
  const log = options.log ?? ((s: string) => console.error(s));
  const st = await stat(archive);
  if (!st) throw new Error(`Cannot read CIFAR-10: ${archive} does not exist`);
  if (!st.isFile) throw new Error(`Cannot extract ${archive}: it is not a file`);
  await checkSignature(archive);
  const source: Manifest = {
    archive: await Deno.realPath(archive),
    size: st.size,
    md5: await md5File(archive),
    files: {},
  };
  const about = describeArchive(source.size, source.md5);
  const root = options.extractTo ?? cacheDir();
  const dir = join(root, FOLDER);
  await removeStale(root).catch(() => {}); // litter of killed runs; cleaning is not essential
  const old = await readManifest(dir);
  if (old && old.size === source.size && old.md5 === source.md5 && await filesIntact(dir, old)) {
    log(`CIFAR-10: using ${dir}, extracted from ${archive} (${about})`);
    return dir;
  }
  const here = await stat(dir);
  const ours = old !== null || (await stat(join(dir, OLD_MARKER))) !== null;
  if (here && !(here.isDirectory && (ours || (await missingFiles(dir)).length === FILES.length))) {
    throw new Error(
      `Cannot extract ${archive} to ${dir}: that ${here.isDirectory ? "folder" : "path"} was not ` +
        `extracted by this loader; give it as the data folder to use it, move it away, or extract ` +
        `elsewhere (extractTo)`,
    );
  }
  try {
    await Deno.mkdir(root, { recursive: true });
  } catch (e) {
    throw new Error(`Cannot extract ${archive}: cannot use ${root} (${(e as Error).message})`);
  }
  const t0 = performance.now();
  const staging = partialPath(dir);
  const retired = partialPath(dir);
  try {
    await unpack(archive, staging, source);
    if (here) await Deno.rename(dir, retired);
    try {
      await Deno.rename(staging, dir);
    } catch (e) {
      // Another process extracted the same archive meanwhile: use its folder.
      const now = await readManifest(dir);
      if (now?.md5 !== source.md5 || !(await filesIntact(dir, now))) throw e;
    }
    await syncDir(root);
  } finally {
    await Deno.remove(staging, { recursive: true }).catch(() => {});
    await Deno.remove(retired, { recursive: true }).catch(() => {});
  }
  const secs = ((performance.now() - t0) / 1000).toFixed(1);
  const replaced = old ? ` (replacing its extraction of ${old.archive}, MD5 ${old.md5})` : "";
  log(`CIFAR-10: extracted ${archive} (${about}) to ${dir} in ${secs} s${replaced}`);
  return dir;
}
