// A failed atomic write, named: the file, the bytes it needed, the step that failed, and why.

/** Where an atomic write failed. */
export type WriteStep = "create" | "write" | "sync" | "check" | "rename";

/**
 * A failed {@linkcode writeFileAtomic}: the file named, the bytes it needed, the step that failed
 * and the system's reason (a full disk: `No space left on device (os error 28)`). The temporary
 * file is gone and `path` holds what it held before.
 */
export class WriteError extends Error {
  /** The file that was being written. */
  readonly path: string;
  /** Bytes the file needed (null for a stream of unknown length). */
  readonly bytes: number | null;
  /** Bytes written to the temporary file before the failure. */
  readonly written: number;
  /** The step that failed. */
  readonly step: WriteStep;
  /** Whether the file system was full (ENOSPC) or over a quota (EDQUOT). */
  readonly noSpace: boolean;
  /** The error of a write of `path` failing at `step` for `why`. */
  constructor(
    path: string,
    step: WriteStep,
    why: string,
    o: { tmp: string; total: number | null; written: number; cause?: unknown },
  ) {
    const fmt = (n: number) => n.toLocaleString("en-US");
    const size = o.total === null ? "" : ` its ${fmt(o.total)} bytes`;
    const doing = {
      create: `creating the temporary file ${o.tmp}`,
      write: `writing${size} (${fmt(o.written)} written)`,
      sync: `syncing${size} to disk`,
      check: "checking what was written",
      rename: `renaming the temporary file over it`,
    }[step];
    const after = step === "check" ? "" : ` while ${doing}`;
    const kept = step === "create" ? "" : `; the temporary file was removed, ${path} is as it was`;
    super(`Cannot write ${path}: ${why}${after}${kept}`, { cause: o.cause });
    this.name = "WriteError";
    this.path = path;
    this.bytes = o.total;
    this.written = o.written;
    this.step = step;
    this.noSpace = /os error (28|122)|no space left|quota/i.test(why);
  }
}
