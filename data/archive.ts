// The CIFAR-10 archive: download with MD5 check, and a safe, atomic, once-only extraction.
import { createHash } from "node:crypto";
import { gunzip, readTar } from "./tar.ts";

/** Where the official binary archive is published. */
export const CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz";
/** MD5 of the official archive (a downloaded file must match it). */
export const CIFAR10_MD5 = "c32a1d4ab5d03f1284b67883e8d87530";
/** The folder the archive unpacks to. */
export const FOLDER = "cifar-10-batches-bin";
/** The files a CIFAR-10 folder must hold. */
export const FILES = [
  "data_batch_1.bin",
  "data_batch_2.bin",
  "data_batch_3.bin",
  "data_batch_4.bin",
  "data_batch_5.bin",
  "test_batch.bin",
  "batches.meta.txt",
] as const;
const MARKER = ".extracted-from";

/** Options for {@linkcode extractArchive} and {@linkcode downloadArchive}. */
export interface ArchiveOptions {
  /** Folder to extract into (default: next to the archive, else ./data, else $TMPDIR). */
  extractTo?: string;
  /** Info lines (default: console.error). */
  log?: (line: string) => void;
}

function join(...parts: string[]): string {
  return parts.join("/").replace(/\/+/g, "/");
}

function dirname(path: string): string {
  const i = path.replace(/\/+$/, "").lastIndexOf("/");
  return i < 0 ? "." : i === 0 ? "/" : path.slice(0, i);
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

/** Names of FILES missing in `dir` (all of them when `dir` does not exist). */
export async function missingFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const f of FILES) if (!(await exists(join(dir, f)))) out.push(f);
  return out;
}

async function sourceTag(archive: string): Promise<string> {
  const st = await Deno.stat(archive);
  return JSON.stringify({ archive: await Deno.realPath(archive), size: st.size, mtime: st.mtime });
}

async function markerMatches(dir: string, tag: string): Promise<boolean> {
  try {
    return (await Deno.readTextFile(join(dir, MARKER))) === tag;
  } catch {
    return false;
  }
}

/** Classifies a member: the CIFAR file it provides, null to skip; throws for a hostile member. */
function memberFile(name: string, type: string, archive: string): string | null {
  const bad = (why: string) =>
    new Error(`Cannot extract ${archive}: member "${name}" ${why}; refusing this archive`);
  if (name.startsWith("/") || /^[A-Za-z]:[\\/]/.test(name)) throw bad("has an absolute path");
  if (name.split(/[\\/]/).includes("..")) throw bad('has a ".." path component');
  if (type === "1" || type === "2") throw bad(`is a ${type === "1" ? "hard" : "symbolic"} link`);
  const parts = name.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.length !== 2 || parts[0] !== FOLDER) return null;
  if (!(FILES as readonly string[]).includes(parts[1])) return null;
  if (type !== "0" && type !== "7") throw bad(`is not a regular file (type "${type}")`);
  return parts[1];
}

/** Writes `data` to `path` atomically: a fresh temp file beside it, then rename. */
async function writeAtomic(path: string, data: Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${Deno.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    await Deno.writeFile(tmp, data, { createNew: true });
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}

/** Unpacks the seven CIFAR files of `archive` into `target` (which must be writable). */
async function unpack(archive: string, target: string): Promise<void> {
  const staging = `${target}.partial-${Deno.pid}-${Math.random().toString(36).slice(2)}`;
  await Deno.mkdir(staging, { recursive: true });
  try {
    const file = await Deno.open(archive);
    const got = new Set<string>();
    try {
      for await (const m of readTar(gunzip(file.readable))) {
        const f = memberFile(m.name, m.type, archive);
        if (f === null || got.has(f)) continue;
        await writeAtomic(join(staging, f), await m.bytes());
        got.add(f);
      }
    } catch (e) {
      if (e instanceof Error && e.message.startsWith(`Cannot extract ${archive}`)) throw e;
      throw new Error(
        `Cannot extract ${archive}: the archive is unreadable or corrupt (${(e as Error).message})`,
      );
    }
    const lacking = FILES.filter((f) => !got.has(f));
    if (lacking.length) {
      throw new Error(`Cannot extract ${archive}: it lacks ${FOLDER}/${lacking.join(", ")}`);
    }
    await Deno.writeTextFile(join(staging, MARKER), await sourceTag(archive));
    if (!(await exists(target))) {
      await Deno.rename(staging, target);
      return;
    }
    // The folder exists (a partial earlier copy): move each file in atomically, marker last.
    for (const f of [...FILES, MARKER]) await Deno.rename(join(staging, f), join(target, f));
  } finally {
    await Deno.remove(staging, { recursive: true }).catch(() => {});
  }
}

async function writable(root: string): Promise<boolean> {
  try {
    await Deno.mkdir(root, { recursive: true });
    const probe = join(root, `.write-probe-${Deno.pid}-${Math.random().toString(36).slice(2)}`);
    await Deno.writeFile(probe, new Uint8Array(0), { createNew: true });
    await Deno.remove(probe);
    return true;
  } catch {
    return false;
  }
}

function tmpRoot(): string {
  return join(Deno.env.get("TMPDIR") || "/tmp", "cifar10-cache");
}

/**
 * Extracts a local `cifar-10-binary.tar.gz` once and returns the folder holding the files:
 * `<dir of archive>/cifar-10-batches-bin`, or, if that place is not writable, ./data or $TMPDIR.
 * A complete earlier extraction of the same archive is reused.
 */
export async function extractArchive(
  archive: string,
  options: ArchiveOptions = {},
): Promise<string> {
  const log = options.log ?? ((s: string) => console.error(s));
  if (!(await exists(archive))) throw new Error(`Cannot read CIFAR-10: ${archive} does not exist`);
  const tag = await sourceTag(archive);
  const roots = options.extractTo ? [options.extractTo] : [dirname(archive), "data", tmpRoot()];
  // Reuse: the explicit or next-to-archive folder when complete; a cache only when it is ours.
  for (const [i, root] of roots.entries()) {
    const dir = join(root, FOLDER);
    const complete = (await missingFiles(dir)).length === 0;
    if (complete && (i === 0 || (await markerMatches(dir, tag)))) return dir;
  }
  for (const [i, root] of roots.entries()) {
    const dir = join(root, FOLDER);
    // Never overwrite a folder in a fallback place that we did not extract there.
    if (i > 0 && (await exists(dir)) && !(await exists(join(dir, MARKER)))) continue;
    if (!(await writable(root))) continue;
    const t0 = performance.now();
    await unpack(archive, dir);
    const secs = ((performance.now() - t0) / 1000).toFixed(1);
    const why = i > 0 ? ` (${roots[0]} is not writable)` : "";
    log(`CIFAR-10: extracted ${archive} to ${dir} in ${secs} s${why}`);
    return dir;
  }
  throw new Error(`Cannot extract ${archive}: none of ${roots.join(", ")} is writable`);
}

/** Hex MD5 of a file (node:crypto; WebCrypto has no MD5). */
export async function md5File(path: string): Promise<string> {
  const h = createHash("md5");
  const f = await Deno.open(path);
  for await (const chunk of f.readable) h.update(chunk);
  return h.digest("hex");
}

function mib(n: number): string {
  return (n / 1048576).toFixed(1);
}

/**
 * Downloads `url` into `dir` (default ./data) with a one-line progress display, verifies its MD5
 * (default: the official archive's) and returns the archive's path. A verified copy is reused.
 */
export async function downloadArchive(
  url: string,
  options: { dir?: string; md5?: string; log?: (line: string) => void } = {},
): Promise<string> {
  const log = options.log ?? ((s: string) => console.error(s));
  const want = (options.md5 ?? CIFAR10_MD5).toLowerCase();
  const dir = options.dir ?? ((await writable("data")) ? "data" : tmpRoot());
  await Deno.mkdir(dir, { recursive: true });
  const name = new URL(url).pathname.split("/").pop() || "cifar-10-binary.tar.gz";
  const path = join(dir, name);
  if ((await exists(path)) && (await md5File(path)) === want) return path;
  const res = await fetch(url).catch((e) => {
    throw new Error(`Cannot download ${url}: ${(e as Error).message}`);
  });
  if (!res.ok || !res.body) {
    await res.body?.cancel();
    throw new Error(`Cannot download ${url}: HTTP ${res.status} ${res.statusText}`);
  }
  const total = Number(res.headers.get("content-length")) || 0;
  const part = `${path}.part-${Deno.pid}`;
  const h = createHash("md5");
  const out = await Deno.open(part, { write: true, create: true, truncate: true });
  const tty = Deno.stderr.isTerminal();
  let got = 0;
  let shown = 0;
  try {
    for await (const chunk of res.body) {
      h.update(chunk);
      for (let o = 0; o < chunk.length;) o += await out.write(chunk.subarray(o));
      got += chunk.length;
      if (tty && (got - shown > 1 << 20 || got === total)) {
        shown = got;
        const pct = total ? ` (${((100 * got) / total).toFixed(0)}%)` : "";
        const line = `\rdownloading ${name}: ${mib(got)}${
          total ? " / " + mib(total) : ""
        } MiB${pct}`;
        Deno.stderr.writeSync(new TextEncoder().encode(line));
      }
    }
    if (tty) Deno.stderr.writeSync(new TextEncoder().encode("\n"));
  } catch (e) {
    out.close();
    await Deno.remove(part).catch(() => {});
    throw new Error(`Cannot download ${url}: ${(e as Error).message}`);
  }
  out.close();
  const digest = h.digest("hex");
  if (digest !== want) {
    await Deno.remove(part).catch(() => {});
    throw new Error(`Cannot use ${url}: MD5 ${digest} does not match the expected ${want}`);
  }
  await Deno.rename(part, path);
  log(`CIFAR-10: downloaded ${url} to ${path} (${mib(got)} MiB, MD5 verified)`);
  return path;
}
