// Runs a script in a page of headless Chromium (Dawn's WebGPU) and returns what the page POSTs
// back: the page is served by Deno.serve on 127.0.0.1 with the browser build at /mod.js.

/** Debian's chromium (or $CHROMIUM), or null when none is installed. */
export function chromiumPath(): string | null {
  const candidates = [Deno.env.get("CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"];
  for (const p of candidates) {
    if (!p) continue;
    try {
      if (Deno.statSync(p).isFile) return p;
    } catch { /* the next one */ }
  }
  return null;
}

/** The one loud line a test prints when it cannot run for want of chromium. */
export const NO_CHROMIUM = "!!! CHROMIUM MISSING: the browser (Dawn) tests are NOT run here; " +
  "install it with `apt-get install chromium` (.ci/run does, so CI always runs them) !!!";

/** What a page run gives back. */
export interface PageRun<T> {
  /** The JSON the page POSTed to /result. */
  result: T;
  /** Lines the page POSTed to /log, in order. */
  log: string[];
}

/** Options for {@linkcode runInChromium}. */
export interface PageOptions {
  /** Files served besides the page: URL path → contents (e.g. "/mod.js"). */
  files: Record<string, string | Uint8Array<ArrayBuffer>>;
  /** Give up after this many ms (default 240 s), killing chromium. */
  timeoutMs?: number;
}

const TYPES: Record<string, string> = {
  js: "text/javascript",
  json: "application/json",
  html: "text/html",
  bin: "application/octet-stream",
};

/**
 * Serves `/` (a page running `module`, an ES module's source with `post(result)` and
 * `log(line)` in scope) and `options.files`, drives headless Chromium to it, and resolves with
 * what it posts. A page error, a crash of the GPU process, or the timeout rejects, naming it.
 */
export async function runInChromium<T>(module: string, options: PageOptions): Promise<PageRun<T>> {
  const exe = chromiumPath();
  if (!exe) throw new Error(NO_CHROMIUM);
  const log: string[] = [];
  let settle!: { ok: (v: T) => void; fail: (e: Error) => void };
  const done = new Promise<T>((ok, fail) => (settle = { ok, fail }));
  const page = `<!doctype html><meta charset="utf-8"><title>test</title><script type="module">
const post = (r) => fetch("/result", { method: "POST", body: JSON.stringify(r) });
const log = (line) => fetch("/log", { method: "POST", body: String(line) });
addEventListener("error", (e) => post({ pageError: String(e.message) }));
addEventListener("unhandledrejection", (e) => post({ pageError: String(e.reason?.stack ?? e.reason) }));
import("/test.js").catch((e) => post({ pageError: String(e?.stack ?? e) }));
</script>`;
  const test = `const post = (r) => fetch("/result", { method: "POST", body: JSON.stringify(r) });
const log = (line) => fetch("/log", { method: "POST", body: String(line) });
${module}`;
  const files: Record<string, string | Uint8Array<ArrayBuffer>> = {
    ...options.files,
    "/test.js": test,
  };
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const path = new URL(req.url).pathname;
    if (req.method === "POST" && path === "/result") {
      const r = JSON.parse(await req.text());
      if (r && typeof r === "object" && "pageError" in r) {
        settle.fail(new Error(`the page failed: ${r.pageError}`));
      } else settle.ok(r);
      return new Response("ok");
    }
    if (req.method === "POST" && path === "/log") {
      log.push(await req.text());
      return new Response("ok");
    }
    if (path === "/") return new Response(page, { headers: { "content-type": TYPES.html } });
    const body = files[path];
    if (body === undefined) return new Response("not found", { status: 404 });
    const ext = path.slice(path.lastIndexOf(".") + 1);
    return new Response(body, { headers: { "content-type": TYPES[ext] ?? TYPES.bin } });
  });
  const profile = await Deno.makeTempDir({ prefix: "chromium-profile-" });
  const child = new Deno.Command(exe, {
    args: [
      "--headless=new",
      "--no-sandbox",
      "--enable-unsafe-webgpu",
      "--enable-logging=stderr",
      "--no-first-run",
      `--user-data-dir=${profile}`,
      `http://127.0.0.1:${server.addr.port}/`,
    ],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let stderr = "";
  const reading = (async () => {
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      stderr += chunk;
      if (/GPU process exited unexpectedly|GPU process isn't usable/.test(chunk)) {
        settle.fail(new Error(`Chromium's GPU process died: ${lastLines(stderr, 8)}`));
      }
    }
  })();
  const exited = child.status.then((s) => {
    settle.fail(
      new Error(`chromium exited (${s.code}) before the page posted: ${lastLines(stderr, 8)}`),
    );
  });
  const ms = options.timeoutMs ?? 240_000;
  const timer = setTimeout(() => {
    settle.fail(
      new Error(
        `the page posted nothing in ${ms / 1000} s; its log: ${log.join(" | ")}; ` +
          `chromium: ${lastLines(stderr, 8)}`,
      ),
    );
  }, ms);
  try {
    return { result: await done, log };
  } finally {
    clearTimeout(timer);
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
    await exited;
    await reading.catch(() => {});
    await server.shutdown();
    await Deno.remove(profile, { recursive: true }).catch(() => {});
  }
}

function lastLines(text: string, n: number): string {
  return text.trim().split("\n").slice(-n).join("\n");
}
