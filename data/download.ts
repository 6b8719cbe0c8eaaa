// Downloading the CIFAR-10 archive: progress, MD5 check, causes kept, nothing half-downloaded kept.
import { Md5 } from "./md5.ts";
import { removeStale, writeFileAtomic } from "../engine/files.ts";
import { ARCHIVE, CIFAR10_MD5, join, md5File } from "./archive.ts";

/** Options for {@linkcode downloadArchive}. */
export interface DownloadOptions {
  /** Folder to download into (created if needed; default ./data). */
  dir?: string;
  /** Expected MD5 (default: the official archive's, {@linkcode CIFAR10_MD5}). */
  md5?: string;
  /** Info lines: the final one, and plain progress lines when there is no terminal. */
  log?: (line: string) => void;
  /** Draw a progress bar on stderr (default: when stderr is a terminal); else plain lines. */
  terminal?: boolean;
  /** Give up when no data arrives for this long (default 60,000 ms). */
  idleTimeoutMs?: number;
}

function mib(n: number): string {
  return (n / 1048576).toFixed(1);
}

/** The message of an error and of each of its causes ("a: b: c"), so DNS/TLS/refused show. */
export function causeChain(e: unknown): string {
  const parts: string[] = [];
  for (let c: unknown = e; c !== undefined && c !== null && parts.length < 6;) {
    const m = c instanceof Error ? c.message : String(c);
    if (!parts.some((p) => p.includes(m))) parts.push(m);
    c = c instanceof Error ? c.cause : undefined;
  }
  return parts.join(": ");
}

/** Progress on a terminal (a bar redrawn in place) or as a plain line every 10 %. */
function progress(name: string, total: number, terminal: boolean, log: (l: string) => void) {
  const enc = new TextEncoder();
  const t0 = performance.now();
  let lastStep = -1;
  let lastDraw = 0;
  return {
    update(got: number) {
      if (terminal) {
        const now = performance.now();
        if (now - lastDraw < 100 && got !== total) return;
        lastDraw = now;
        const rate = got / 1048576 / Math.max((now - t0) / 1000, 1e-3);
        const frac = total ? got / total : 0;
        const bar = total ? `[${"#".repeat(Math.round(frac * 30)).padEnd(30, ".")}] ` : "";
        const pct = total ? `${(100 * frac).toFixed(0).padStart(3)}% ` : "";
        const size = `${mib(got)}${total ? ` / ${mib(total)}` : ""} MiB`;
        const line = `\r\x1b[Kdownloading ${name} ${bar}${pct}${size}  ${rate.toFixed(1)} MiB/s`;
        Deno.stderr.writeSync(enc.encode(line));
        return;
      }
      const step = total ? Math.floor((10 * got) / total) : Math.floor(got / (16 << 20));
      if (step === lastStep || (total && step === 10)) return;
      lastStep = step;
      if (step === 0) return;
      log(
        total
          ? `downloading ${name}: ${step * 10}% (${mib(got)} of ${mib(total)} MiB)`
          : `downloading ${name}: ${mib(got)} MiB`,
      );
    },
    end() {
      if (terminal && lastDraw > 0) Deno.stderr.writeSync(enc.encode("\n"));
    },
  };
}

/**
 * Downloads `url` into `dir` and returns the file's path. The bytes go to a temp file beside
 * it, which becomes the archive only when its MD5 matches (default: the official archive's); on
 * any failure nothing is left behind, so a retry starts cleanly. Errors keep their cause (DNS,
 * connection refused, TLS, HTTP status, a connection dropped half-way, an MD5 mismatch). A file
 * already there with the expected MD5 is reused; one with another MD5 is refused, not replaced.
 */
export async function downloadArchive(url: string, options: DownloadOptions = {}): Promise<string> {
  const log = options.log ?? ((s: string) => console.error(s));
  const want = (options.md5 ?? CIFAR10_MD5).toLowerCase();
  const dir = options.dir ?? "data";
  const name = decodeURIComponent(new URL(url).pathname.split("/").pop() || "") || ARCHIVE;
  const path = join(dir, name);
  const fail = (why: string, cause?: unknown) =>
    new Error(`Cannot download ${url}: ${why}; nothing was kept`, { cause });
  try {
    await Deno.mkdir(dir, { recursive: true });
    await removeStale(dir);
  } catch (e) {
    throw fail(`cannot use the folder ${dir} (${(e as Error).message})`, e);
  }
  try {
    await Deno.lstat(path);
    const have = await md5File(path);
    if (have === want) return path;
    throw new Error(
      `Cannot download ${url} to ${path}: a file with another MD5 (${have}, expected ${want}) ` +
        `is already there; move it away or give it as the data`,
    );
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const abort = new AbortController();
  const idleMs = options.idleTimeoutMs ?? 60000;
  let timer = setTimeout(() => abort.abort(new Error(`no data for ${idleMs / 1000} s`)), idleMs);
  const rearm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => abort.abort(new Error(`no data for ${idleMs / 1000} s`)), idleMs);
  };
  try {
    let res: Response;
    try {
      res = await fetch(url, { signal: abort.signal });
    } catch (e) {
      throw fail(causeChain(abort.signal.aborted ? abort.signal.reason : e), e);
    }
    if (!res.ok || !res.body) {
      await res.body?.cancel();
      throw fail(`the server answered HTTP ${res.status} ${res.statusText}`.trimEnd());
    }
    const total = Number(res.headers.get("content-length")) || 0;
    const h = new Md5();
    const bar = progress(name, total, options.terminal ?? Deno.stderr.isTerminal(), log);
    let got = 0;
    const body = res.body;
    const chunks = async function* () {
      try {
        for await (const chunk of body) {
          rearm();
          h.update(chunk);
          got += chunk.length;
          bar.update(got);
          yield chunk;
        }
      } catch (e) {
        const why = abort.signal.aborted ? causeChain(abort.signal.reason) : causeChain(e);
        throw new Error(`the transfer broke after ${got} of ${total || "?"} bytes (${why})`);
      } finally {
        bar.end();
      }
      if (total && got !== total) {
        throw new Error(`the connection closed after ${got} of ${total} bytes`);
      }
    };
    let digest = "";
    const t0 = performance.now();
    try {
      await writeFileAtomic(path, chunks(), {
        check: () => {
          digest = h.hex();
          if (digest !== want) {
            throw new Error(`MD5 ${digest} does not match the expected ${want}`);
          }
        },
      });
    } catch (e) {
      throw fail((e as Error).cause ? causeChain((e as Error).cause) : causeChain(e), e);
    }
    const secs = ((performance.now() - t0) / 1000).toFixed(1);
    log(`CIFAR-10: downloaded ${url} to ${path} (${mib(got)} MiB in ${secs} s, MD5 verified)`);
    return path;
  } finally {
    clearTimeout(timer);
  }
}
