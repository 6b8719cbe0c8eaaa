// Atomic file writes (temp file, fsync, rename, fsync the folder) and removal of dead writers' litter.
import { WriteError, type WriteStep } from "./write_error.ts";

/** Options for {@linkcode writeFileAtomic}. */
export interface AtomicWriteOptions {
  /**
   * Called after the data is written and synced, before the rename: throw to abandon the write
   * (the temp file is removed and `path` is left as it was). Used to verify a checksum.
   */
  check?: () => void | Promise<void>;
}

/** The temp file a write of `path` by this process goes through: `PATH.tmp-<pid>`. */
export function tempPath(path: string): string {
  return `${path}.tmp-${Deno.pid}`;
}

/** A staging folder name for `path` owned by this process: `PATH.partial-<pid>-<suffix>`. */
export function partialPath(path: string): string {
  return `${path}.partial-${Deno.pid}-${Math.random().toString(36).slice(2, 8)}`;
}

function parentOf(path: string): string {
  const trimmed = path.replace(/[\\/]+$/, "");
  const i = Math.max(trimmed.lastIndexOf("/"), trimmed.lastIndexOf("\\"));
  return i < 0 ? "." : i === 0 ? trimmed.slice(0, 1) : trimmed.slice(0, i);
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Makes a completed rename in `dir` durable (fsync of the folder). Best effort: platforms and
 * file systems that cannot open or sync a folder (Windows, some network file systems) are skipped.
 */
export async function syncDir(dir: string): Promise<void> {
  if (Deno.build.os === "windows") return;
  let f: Deno.FsFile | undefined;
  try {
    f = await Deno.open(dir, { read: true });
    await f.sync();
  } catch {
    // Nothing more can be done here: the data itself was synced before the rename.
  } finally {
    f?.close();
  }
}

/**
 * Writes `data` (bytes, or a stream of chunks) to `path` so that `path` holds either its old
 * contents or all of the new ones, even across a killed process or a power loss: the bytes go to
 * `PATH.tmp-<pid>` in the same folder, are fsynced, renamed over `path`, and the folder is
 * fsynced. On any failure the temp file is removed and the error names `path`.
 *
 * @example
 * ```ts
 * await writeFileAtomic("runs/res.safetensors", bytes);
 * ```
 */
export async function writeFileAtomic(
  path: string,
  data: Uint8Array | AsyncIterable<Uint8Array>,
  options: AtomicWriteOptions = {},
): Promise<void> {
  const tmp = tempPath(path);
  const total = data instanceof Uint8Array ? data.length : null;
  let created = false;
  let step: WriteStep = "create";
  let written = 0;
  try {
    const file = await Deno.open(tmp, { write: true, create: true, truncate: true });
    created = true;
    try {
      step = "write";
      const chunks = data instanceof Uint8Array ? [data] : data;
      for await (const chunk of chunks) {
        for (let at = 0; at < chunk.length;) {
          const n = await file.write(chunk.subarray(at));
          at += n;
          written += n;
        }
      }
      step = "sync";
      await file.sync();
    } finally {
      file.close();
    }
    step = "check";
    await options.check?.();
    step = "rename";
    await Deno.rename(tmp, path);
  } catch (e) {
    if (created) await Deno.remove(tmp).catch(() => {});
    throw new WriteError(path, step, messageOf(e), { tmp, total, written, cause: e });
  }
  await syncDir(parentOf(path));
}

/** Whether /proc describes processes here (it shows this process: Linux with /proc mounted). */
async function hasProc(): Promise<boolean> {
  try {
    return (await Deno.stat(`/proc/${Deno.pid}/stat`)).isFile;
  } catch {
    return false;
  }
}

/**
 * Whether process `pid` is alive (a zombie counts as dead: it can write nothing more). Linux
 * reads /proc; other systems ask `kill -0` (macOS, BSD) or `tasklist` (Windows). When the
 * answer cannot be had (no permission to run those tools), the process counts as alive, so that
 * nothing a live process may still be writing is ever removed. `method: "tools"` skips /proc
 * (to test the other systems' way on Linux).
 */
export async function processAlive(
  pid: number,
  method: "auto" | "tools" = "auto",
): Promise<boolean> {
  if (pid === Deno.pid) return true;
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (method === "auto" && (await hasProc())) {
    let stat: string;
    try {
      stat = await Deno.readTextFile(`/proc/${pid}/stat`);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return false;
      return true; // unreadable: assume alive
    }
    const state = stat.charAt(stat.lastIndexOf(")") + 2); // "pid (comm) S …"
    return state !== "Z" && state !== "X" && state !== "x";
  }
  try {
    if (Deno.build.os === "windows") {
      const out = await new Deno.Command("tasklist", {
        args: ["/FI", `PID eq ${pid}`, "/NH", "/FO", "CSV"],
        stdout: "piped",
        stderr: "null",
      }).output();
      return !out.success || new TextDecoder().decode(out.stdout).includes(`"${pid}"`);
    }
    const out = await new Deno.Command("kill", {
      args: ["-0", String(pid)],
      stdout: "null",
      stderr: "piped",
    }).output();
    if (out.success) return true;
    return !/no such process/i.test(new TextDecoder().decode(out.stderr));
  } catch {
    return true;
  }
}

const STALE_FILE = /\.tmp-(\d+)(?:-[A-Za-z0-9]+)?$/;
const STALE_DIR = /\.partial-(\d+)(?:[^0-9].*)?$/;

/**
 * Removes, in `dir`, the temp files (`*.tmp-<pid>`) and staging folders (`*.partial-<pid>…`)
 * that were left by processes no longer alive; a live process's (this one's included) are kept.
 * Symbolic links and anything else are never touched. Returns the paths removed; a missing
 * `dir` removes nothing.
 */
export async function removeStale(dir: string): Promise<string[]> {
  const removed: string[] = [];
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(dir));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) return [];
    throw new Error(`Cannot clean ${dir}: ${messageOf(e)}`, { cause: e });
  }
  for (const entry of entries) {
    const m = (entry.isFile && STALE_FILE.exec(entry.name)) ||
      (entry.isDirectory && STALE_DIR.exec(entry.name));
    if (!m || (await processAlive(Number(m[1])))) continue;
    const path = `${dir.replace(/[\\/]+$/, "")}/${entry.name}`;
    try {
      await Deno.remove(path, { recursive: entry.isDirectory });
      removed.push(path);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) {
        throw new Error(`Cannot remove the stale ${path}: ${messageOf(e)}`, { cause: e });
      }
    }
  }
  return removed;
}

/** Appends `text` to `path` (created when missing): the metrics file's one line per epoch. */
export async function appendTextFile(path: string, text: string): Promise<void> {
  await Deno.writeTextFile(path, text, { append: true });
}
