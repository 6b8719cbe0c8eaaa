// `deno task serve [--port N] [--data PATH]`: the training page on 127.0.0.1 (its HTML, styles
// and bundled script; with --data, the CIFAR-10 archive too). Nothing is fetched from elsewhere.
import { intFlag, parseFlags, runTask, UsageError } from "./cli.ts";
import { buildPage, PAGE_FILES } from "./build_page.ts";
import { checkGzipSignature } from "../data/cifar_files.ts";

export const SERVE_USAGE = `Usage: deno task serve [--port N] [--data PATH]
Serves the training page on http://127.0.0.1:N/ (builds its script into dist/page/ first).

  --port N      port to listen on (default 8000; 0: any free port)
  --data PATH   cifar-10-binary.tar.gz for the page to fetch from this server (else the page
                asks for the archive: a file picker, or drop it on the page)`;

/** The server's settings, from its flags. */
export interface ServeOptions {
  port: number;
  /** The archive the page may fetch, or undefined. */
  data?: string;
}

/** Parses the flags; a UsageError names the bad one. */
export function parseServeFlags(args: string[]): ServeOptions | "help" {
  const { values, positionals } = parseFlags(args, {
    port: { type: "string" },
    data: { type: "string" },
    help: { type: "boolean", short: "h" },
  }, true);
  if (values.help) return "help";
  if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const port = intFlag("port", values.port, 0) ?? 8000;
  if (port > 65535) throw new UsageError(`--port must be at most 65535, got ${port}`);
  return { port, data: values.data };
}

/** Refuses a --data that is not a gzip file, before the server starts. */
async function checkData(path: string): Promise<number> {
  let st: Deno.FileInfo;
  try {
    st = await Deno.stat(path);
  } catch {
    throw new Error(`--data ${path}: no such file`);
  }
  if (!st.isFile) {
    throw new Error(
      `--data ${path}: is a folder; the page reads the archive, give cifar-10-binary.tar.gz`,
    );
  }
  const f = await Deno.open(path);
  const head = new Uint8Array(2);
  try {
    await f.read(head);
  } finally {
    f.close();
  }
  checkGzipSignature(head, path);
  return st.size;
}

const TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  css: "text/css; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  json: "application/json",
};

/** A running server: its address, and how to stop it. */
export interface PageServer {
  url: string;
  close(): Promise<void>;
}

/** Builds the page and serves it (and the --data archive) on 127.0.0.1. */
export async function servePage(o: ServeOptions, log = console.log): Promise<PageServer> {
  const dataSize = o.data ? await checkData(o.data) : 0;
  const bytes = await buildPage();
  const dataName = o.data?.split("/").at(-1) ?? "";
  const config = JSON.stringify({ data: o.data ? `data/${dataName}` : null, dataName });
  const file = async (path: string, type: string) =>
    new Response(await Deno.readFile(path), {
      headers: { "content-type": type, "cache-control": "no-cache" },
    });
  const ac = new AbortController();
  const handler = async (req: Request): Promise<Response> => {
    const path = new URL(req.url).pathname;
    if (req.method !== "GET" && req.method !== "HEAD") {
      return new Response("only GET", { status: 405 });
    }
    if (path === "/" || path === "/index.html") return file(PAGE_FILES.html, TYPES.html);
    if (path === "/style.css") return file(PAGE_FILES.css, TYPES.css);
    if (path === "/app.js") return file(PAGE_FILES.script, TYPES.js);
    if (path === "/config.json") {
      return new Response(config, { headers: { "content-type": TYPES.json } });
    }
    if (o.data && path === `/data/${dataName}`) {
      const f = await Deno.open(o.data);
      return new Response(f.readable, {
        headers: {
          "content-type": "application/gzip",
          "content-length": String(dataSize),
        },
      });
    }
    return new Response(`${path}: not found`, { status: 404 });
  };
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve(
      { hostname: "127.0.0.1", port: o.port, signal: ac.signal, onListen() {} },
      handler,
    );
  } catch (e) {
    if (!(e instanceof Deno.errors.AddrInUse)) throw e;
    throw new Error(`port ${o.port} is in use; give another with --port N (0: any free port)`);
  }
  const url = `http://127.0.0.1:${server.addr.port}/`;
  log(
    `training page: ${url} (script ${(bytes / 1024).toFixed(0)} KiB${
      o.data ? `; data: ${o.data}` : ""
    }; Ctrl-C stops)`,
  );
  return {
    url,
    close: async () => {
      ac.abort();
      await server.finished;
    },
  };
}

if (import.meta.main) {
  await runTask(SERVE_USAGE, async () => {
    const o = parseServeFlags(Deno.args);
    if (o === "help") {
      console.log(SERVE_USAGE);
      return 0;
    }
    const s = await servePage(o);
    await new Promise(() => {}); // until Ctrl-C
    await s.close();
    return 0;
  });
}
