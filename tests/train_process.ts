// The training task as a real process, for the tests that run it as a user or a scheduler does.

/** The training task's entry point. */
export const TASK = new URL("../tasks/train.ts", import.meta.url).pathname;
/** WRN-10-1 on 200 CIFAR-10 images: 10 batches an epoch, seconds a run on lavapipe. */
export const RUN = ["wide", "--depth", "10", "--width", "1", "--dropout", "0", "--batch", "20"];
export const SMALL = ["--limit", "200", "--test-limit", "100"];

/** What a finished run printed, and its exit status. */
export interface Ran {
  code: number;
  out: string;
  err: string;
}

/** The task with `args`, run in `cwd` with piped output. */
export function command(cwd: string, args: string[]): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", TASK, ...args],
    cwd,
    stdout: "piped",
    stderr: "piped",
    env: {
      XDG_RUNTIME_DIR: Deno.env.get("XDG_RUNTIME_DIR") ?? "/tmp",
      NO_COLOR: "1",
      // One conv tuning for all runs of a test (the first measures, the others read it), so
      // every run picks the same kernels and a resumed run can equal an uninterrupted one.
      RESNET_WEBGPU_TUNE_CACHE: `${cwd}/conv2d-tune.json`,
    },
  });
}

/** Runs the task to its end. */
export async function run(cwd: string, args: string[]): Promise<Ran> {
  const r = await command(cwd, args).output();
  const dec = new TextDecoder();
  return { code: r.code, out: dec.decode(r.stdout), err: dec.decode(r.stderr) };
}

/** A run in progress: its output so far, a wait for a line, its end. */
export class Running {
  readonly child: Deno.ChildProcess;
  readonly text = { out: "", err: "" };
  readonly done: Promise<Ran>;
  #ended = false;

  constructor(cwd: string, args: string[]) {
    this.child = command(cwd, args).spawn();
    const pump = async (stream: "out" | "err", body: ReadableStream<Uint8Array>) => {
      const dec = new TextDecoder();
      for await (const chunk of body) this.text[stream] += dec.decode(chunk);
    };
    const pumped = Promise.all([pump("out", this.child.stdout), pump("err", this.child.stderr)]);
    this.done = pumped.then(async () => {
      const s = await this.child.status;
      this.#ended = true;
      return { code: s.code, ...this.text };
    });
  }

  /** Resolves once `stream` shows `what`; throws if the process ends first. */
  async waitFor(stream: "out" | "err", what: RegExp): Promise<void> {
    while (!what.test(this.text[stream])) {
      if (this.#ended) {
        throw new Error(`the run ended before ${what} showed:\n${this.text.out}\n${this.text.err}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** A signal to send once `stream` of the run shows `after`. */
export interface Trigger {
  stream: "out" | "err";
  after: RegExp;
  signal: Deno.Signal;
  /** Wait this long after the output shows before sending (default: at once). */
  delayMs?: number;
}

/** Runs the task, sending each trigger's signal in turn once its output shows; returns what it printed. */
export async function runSignalled(cwd: string, args: string[], triggers: Trigger[]) {
  const child = command(cwd, args).spawn();
  const text = { out: "", err: "" };
  let next = 0;
  let firstAt = 0;
  const pump = async (stream: "out" | "err", body: ReadableStream<Uint8Array>) => {
    const dec = new TextDecoder();
    for await (const chunk of body) {
      text[stream] += dec.decode(chunk);
      while (next < triggers.length && triggers[next].after.test(text[triggers[next].stream])) {
        firstAt ||= performance.now();
        const t = triggers[next++];
        if (t.delayMs) setTimeout(() => child.kill(t.signal), t.delayMs);
        else child.kill(t.signal);
      }
    }
  };
  await Promise.all([pump("out", child.stdout), pump("err", child.stderr)]);
  const status = await child.status;
  const seconds = (performance.now() - firstAt) / 1000;
  return { code: status.code, out: text.out, err: text.err, sent: next, seconds };
}

/** The epoch lines of an output without their clock times. */
export function epochLines(out: string): string[] {
  return out.split("\n").filter((l) => /^ +\d+\. lr:/.test(l)).map((l) => l.replace(/ \S+$/, ""));
}
