// One writer per checkpoint: a lock file beside it (pid, host, start time), taken before any work.
import { processAlive, tempPath } from "../engine/files.ts";

/** Who holds a lock: what the lock file says. */
export interface LockHolder {
  pid: number;
  host: string;
  /** ISO time the holder took the lock. */
  started: string;
  /** The holder's command line (for the message a second run prints). */
  command: string;
  /** The Slurm job the holder ran in (`SLURM_JOB_ID`; a requeued job keeps it), if any. */
  job?: string;
}

/** The lock file of a checkpoint: `CHECKPOINT.lock`. */
export function lockPath(checkpoint: string): string {
  return `${checkpoint}.lock`;
}

/** Another live process holds the lock: the run is refused (exit status 75, "try later"). */
export class CheckpointInUseError extends Error {
  readonly holder: LockHolder;
  readonly lock: string;
  constructor(message: string, lock: string, holder: LockHolder) {
    super(message);
    this.name = "CheckpointInUseError";
    this.lock = lock;
    this.holder = holder;
  }
}

function slurmJob(): string | undefined {
  try {
    return Deno.env.get("SLURM_JOB_ID") || undefined;
  } catch {
    return undefined;
  }
}

function hostname(): string {
  try {
    return Deno.hostname();
  } catch {
    return "unknown host";
  }
}

/**
 * Creates `path` holding `text` only if it does not exist; false when it does. The text goes to
 * a temp file first and is hard-linked into place (atomic, and fails on an existing file), so no
 * other run ever reads a half-written lock; file systems without hard links use O_EXCL.
 */
async function create(path: string, text: string): Promise<boolean> {
  const tmp = `${tempPath(path)}-${Math.random().toString(36).slice(2, 8)}`;
  try {
    await Deno.writeTextFile(tmp, text);
    try {
      await Deno.link(tmp, path);
      return true;
    } catch (e) {
      if (e instanceof Deno.errors.AlreadyExists) return false;
      await Deno.writeTextFile(path, text, { createNew: true });
      return true;
    }
  } catch (e) {
    if (e instanceof Deno.errors.AlreadyExists) return false;
    throw new Error(`Cannot create the lock ${path}: ${(e as Error).message}`, { cause: e });
  } finally {
    await Deno.remove(tmp).catch(() => {});
  }
}

function describe(h: LockHolder): string {
  return `pid ${h.pid} on ${h.host}, started ${h.started}${h.command ? ` (${h.command})` : ""}`;
}

/** The holder a lock file names, or null when it is unreadable or not a lock of ours. */
export async function readLock(path: string): Promise<LockHolder | null> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw new Error(`Cannot read the lock ${path}: ${(e as Error).message}`, { cause: e });
  }
  try {
    const v = JSON.parse(text);
    if (Number.isInteger(v.pid) && v.pid > 0 && typeof v.host === "string") {
      return {
        pid: v.pid,
        host: v.host,
        started: String(v.started ?? "?"),
        command: String(v.command ?? ""),
        ...(typeof v.job === "string" ? { job: v.job } : {}),
      };
    }
  } catch {
    // fall through: a half-written or foreign file
  }
  return { pid: 0, host: "", started: "?", command: "" };
}

/**
 * The lock of one checkpoint, held by this process from {@linkcode RunLock.acquire} until
 * {@linkcode RunLock.release} (idempotent; also run when the process exits normally or by
 * `Deno.exit`). A lock whose holder is a dead process on this host (killed, crashed, power
 * lost) is taken over, with a line saying so; a holder on another host cannot be checked and
 * is refused like a live one, unless it ran in this Slurm job (`SLURM_JOB_ID`): a requeued job
 * that starts on another node takes over its earlier run's lock, saying so.
 *
 * @example
 * ```ts
 * const lock = await RunLock.acquire("runs/wide.safetensors", { log: console.log });
 * try {
 *   // train, writing runs/wide.safetensors
 * } finally {
 *   lock.release();
 * }
 * ```
 */
export class RunLock {
  /** The lock file. */
  readonly path: string;
  /** What this process wrote into it. */
  readonly holder: LockHolder;
  #released = false;
  #onUnload = () => this.release();

  private constructor(path: string, holder: LockHolder) {
    this.path = path;
    this.holder = holder;
    globalThis.addEventListener("unload", this.#onUnload);
  }

  /**
   * Takes the lock of `checkpoint` (its folder must exist). Throws a
   * {@linkcode CheckpointInUseError} naming the running process when another live run holds it;
   * `log` receives the line saying a dead holder's lock was taken over.
   */
  static async acquire(
    checkpoint: string,
    options: { log?: (line: string) => void; command?: string } = {},
  ): Promise<RunLock> {
    const path = lockPath(checkpoint);
    const host = hostname();
    const me: LockHolder = {
      pid: Deno.pid,
      host,
      started: new Date().toISOString(),
      command: options.command ?? "",
      ...(slurmJob() ? { job: slurmJob() } : {}),
    };
    const text = JSON.stringify(me) + "\n";
    for (let attempt = 0; attempt < 5; attempt++) {
      if (await create(path, text)) return new RunLock(path, me);
      const held = await readLock(path);
      if (held === null) continue; // released in between: try again
      const sameHost = held.host === host;
      // A requeued Slurm job may start on another node: its earlier run there has been ended.
      const earlierRun = !sameHost && held.job !== undefined && held.job === me.job;
      if (held.pid !== 0 && !earlierRun && (!sameHost || (await processAlive(held.pid)))) {
        throw new CheckpointInUseError(
          `--checkpoint ${checkpoint} is in use by another run: ${describe(held)}; ` +
            `wait for it to end or stop it, or choose another --checkpoint` +
            (sameHost ? "" : ` (if that run is gone, remove ${path})`),
          path,
          held,
        );
      }
      // A dead holder (or a file that is no lock): take it over, unless it changed meanwhile.
      if (JSON.stringify(await readLock(path)) !== JSON.stringify(held)) continue;
      await Deno.remove(path).catch(() => {});
      options.log?.(
        held.pid === 0
          ? `taking over ${path}: it is not a lock file this program wrote`
          : earlierRun
          ? `taking over the lock ${path} of pid ${held.pid} on ${held.host}: an earlier run of this Slurm job (${held.job}), requeued`
          : `taking over the lock ${path} of pid ${held.pid} (started ${held.started}), which is no longer running`,
      );
    }
    throw new Error(`Cannot take the lock ${path}: it keeps changing (other runs starting?)`);
  }

  /** Whether {@linkcode release} has run. */
  get released(): boolean {
    return this.#released;
  }

  /** Removes the lock file if it is still this process's (synchronous: safe in exit paths). */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    globalThis.removeEventListener("unload", this.#onUnload);
    try {
      const held = JSON.parse(Deno.readTextFileSync(this.path));
      if (held.pid !== this.holder.pid || held.started !== this.holder.started) return;
      Deno.removeSync(this.path);
    } catch {
      // gone already, or not ours: nothing to release
    }
  }
}
