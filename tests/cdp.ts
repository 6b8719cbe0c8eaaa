// Headless Chromium driven over the DevTools protocol: evaluate in the page, wait for the DOM,
// give a file input a file, download, take a screenshot. For the browser page's end-to-end test.
import { chromiumPath, NO_CHROMIUM } from "./chromium.ts";

interface Pending {
  ok: (v: Record<string, unknown>) => void;
  fail: (e: Error) => void;
  method: string;
}

/** One Chromium process with one page, and a DevTools connection to that page. */
export class Browser {
  #proc: Deno.ChildProcess;
  #ws: WebSocket;
  #next = 1;
  #pending = new Map<number, Pending>();
  #stderr: string[] = [];
  /** Console lines and uncaught exceptions of the page, in order. */
  readonly console: string[] = [];

  private constructor(proc: Deno.ChildProcess, ws: WebSocket, stderr: string[]) {
    this.#proc = proc;
    this.#ws = ws;
    this.#stderr = stderr;
    ws.onmessage = (ev) => {
      const m = JSON.parse(ev.data as string);
      if (m.id !== undefined) {
        const p = this.#pending.get(m.id);
        this.#pending.delete(m.id);
        if (m.error) p?.fail(new Error(`${p.method}: ${m.error.message}`));
        else p?.ok(m.result ?? {});
      } else if (m.method === "Runtime.consoleAPICalled") {
        const args = m.params.args.map((a: { value?: unknown; description?: string }) =>
          a.value ?? a.description
        );
        this.console.push(`console.${m.params.type}: ${args.join(" ")}`);
      } else if (m.method === "Runtime.exceptionThrown") {
        const d = m.params.exceptionDetails;
        this.console.push(`uncaught: ${d.exception?.description ?? d.text}`);
      }
    };
  }

  /**
   * Starts headless Chromium at `url`, in a fresh profile under `profile`; WebGPU is on unless
   * `webgpu` is false (then Linux Chromium offers `navigator.gpu` but no adapter).
   */
  static async launch(url: string, profile: string, webgpu = true): Promise<Browser> {
    const exe = chromiumPath();
    if (!exe) throw new Error(NO_CHROMIUM);
    const proc = new Deno.Command(exe, {
      args: [
        "--headless=new",
        "--no-sandbox",
        ...(webgpu ? ["--enable-unsafe-webgpu"] : []),
        "--enable-logging=stderr",
        "--hide-scrollbars",
        "--window-size=1200,900",
        "--remote-debugging-port=0",
        `--user-data-dir=${profile}`,
        "about:blank",
      ],
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const stderr: string[] = [];
    (async () => {
      const dec = new TextDecoderStream();
      for await (const chunk of proc.stderr.pipeThrough(dec)) {
        for (const line of chunk.split("\n")) {
          if (line && !line.includes("dbus")) stderr.push(line);
        }
      }
    })().catch(() => {});
    let port = "";
    for (let i = 0; i < 300 && !port; i++) {
      try {
        port = (await Deno.readTextFile(`${profile}/DevToolsActivePort`)).split("\n")[0];
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    if (!port) {
      proc.kill();
      throw new Error(`chromium did not open its DevTools port: ${stderr.slice(-5).join(" | ")}`);
    }
    const targets = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
    const page = targets.find((t: { type: string }) => t.type === "page");
    const ws = new WebSocket(page.webSocketDebuggerUrl);
    await new Promise((ok, fail) => {
      ws.onopen = ok;
      ws.onerror = () => fail(new Error("cannot connect to chromium's DevTools"));
    });
    const b = new Browser(proc, ws, stderr);
    await b.send("Runtime.enable");
    await b.send("Page.enable");
    await b.send("Page.navigate", { url });
    return b;
  }

  /** Sends one DevTools command; resolves with its result. */
  send(method: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const id = this.#next++;
    this.#ws.send(JSON.stringify({ id, method, params }));
    return new Promise((ok, fail) => this.#pending.set(id, { ok, fail, method }));
  }

  /** The value of `expression` in the page (awaited when it is a promise). */
  async eval<T = unknown>(expression: string): Promise<T> {
    const r = await this.send("Runtime.evaluate", {
      expression,
      awaitPromise: true,
      returnByValue: true,
    }) as { result: { value: T }; exceptionDetails?: { exception?: { description?: string } } };
    if (r.exceptionDetails) {
      throw new Error(`in the page: ${r.exceptionDetails.exception?.description ?? expression}`);
    }
    return r.result.value;
  }

  /**
   * Polls `expression` until it is truthy and returns its value; after `ms`, throws with what
   * `describe` (an expression) says of the page then, the page's console and chromium's errors.
   */
  async waitFor<T>(expression: string, ms: number, describe = "''"): Promise<T> {
    const t0 = Date.now();
    while (true) {
      // Before the page has loaded, the expression may throw: that is "not yet".
      const v = await this.eval<T>(expression).catch(() => undefined);
      if (v) return v;
      if (Date.now() - t0 > ms) {
        const state = await this.eval<string>(describe).catch((e) => String(e));
        throw new Error(
          `waited ${ms / 1000} s for ${expression}; the page: ${state}\n` + this.diagnostics(),
        );
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** The page's console and chromium's own error lines (GPU process crashes among them). */
  diagnostics(): string {
    const gpu = this.#stderr.filter((l) => /ERROR|FATAL|GPU process|exited/.test(l)).slice(-10);
    return `page console:\n  ${this.console.slice(-20).join("\n  ")}\nchromium:\n  ${
      gpu.join("\n  ")
    }`;
  }

  /** Gives the file input matching `selector` the file at `path` (as a user choosing it). */
  async setFile(selector: string, path: string): Promise<void> {
    const { root } = await this.send("DOM.getDocument") as { root: { nodeId: number } };
    const { nodeId } = await this.send("DOM.querySelector", { nodeId: root.nodeId, selector }) as {
      nodeId: number;
    };
    await this.send("DOM.setFileInputFiles", { nodeId, files: [path] });
  }

  /** Clicks what `selector` matches and waits for the download it starts to land in `dir`. */
  async download(selector: string, dir: string, name: string, ms = 30000): Promise<Uint8Array> {
    await this.send("Browser.setDownloadBehavior", { behavior: "allow", downloadPath: dir });
    await this.eval(`document.querySelector(${JSON.stringify(selector)}).click()`);
    const t0 = Date.now();
    while (Date.now() - t0 < ms) {
      try {
        const bytes = await Deno.readFile(`${dir}/${name}`);
        if (bytes.length > 0) return bytes;
      } catch { /* not yet */ }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`no download ${name} in ${dir} after clicking ${selector}`);
  }

  /** A PNG of the whole page at `width` CSS pixels. */
  async screenshot(width: number): Promise<Uint8Array> {
    const height = await this.eval<number>("document.documentElement.scrollHeight");
    await this.send("Emulation.setDeviceMetricsOverride", {
      width,
      height,
      deviceScaleFactor: 1,
      mobile: false,
    });
    const { data } = await this.send("Page.captureScreenshot", { format: "png" }) as {
      data: string;
    };
    return Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
  }

  /**
   * Closes the browser as a user would (its helper processes end with it), waits for the process,
   * and kills it when it has not gone after 10 s.
   */
  async close(): Promise<void> {
    await within(this.send("Browser.close").catch(() => {}), 5000);
    try {
      this.#ws.close();
    } catch { /* already closed */ }
    if ((await within(this.#proc.status, 10_000)) === "timeout") {
      try {
        this.#proc.kill("SIGKILL");
      } catch { /* already gone */ }
      await this.#proc.status;
    }
  }
}

/** `p`, or "timeout" after `ms` (the timer is cleared either way). */
function within<T>(p: Promise<T>, ms: number): Promise<T | "timeout"> {
  let id: ReturnType<typeof setTimeout> | undefined;
  const t = new Promise<"timeout">((r) => id = setTimeout(() => r("timeout"), ms));
  return Promise.race([p, t]).finally(() => clearTimeout(id));
}

/** Removes a folder holding a browser profile; Chromium's last writes may race the first try. */
export async function removeProfileDir(dir: string): Promise<void> {
  for (let i = 0;; i++) {
    try {
      return await Deno.remove(dir, { recursive: true });
    } catch (e) {
      if (i >= 5) throw e;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}
