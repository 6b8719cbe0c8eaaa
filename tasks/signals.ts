// Stop requests from signals, seen within a batch: a worker thread listens, a shared flag tells.

/**
 * Listens for SIGINT, SIGTERM and SIGHUP on a worker thread (the main thread may be blocked in
 * the GPU driver for a whole batch). The first signal sets {@linkcode StopSignals.signal};
 * a second one ends the process at once.
 */
export class StopSignals {
  #flag = new Int32Array(new SharedArrayBuffer(4));
  #worker: Worker;

  private constructor(worker: Worker) {
    this.#worker = worker;
  }

  /**
   * Starts listening; resolves once the listeners are installed. `removeOnQuit`: files the
   * second signal removes before it ends the process (the run's lock).
   */
  static async start(options: { removeOnQuit?: string[] } = {}): Promise<StopSignals> {
    const w = new Worker(new URL("./signal_worker.ts", import.meta.url), { type: "module" });
    const s = new StopSignals(w);
    const ready = new Promise((resolve) => w.onmessage = resolve);
    w.postMessage({ flag: s.#flag, removeOnQuit: options.removeOnQuit ?? [] });
    await ready;
    return s;
  }

  /** The number of the first signal received (2 SIGINT, 15 SIGTERM, 1 SIGHUP), or 0. */
  get signal(): number {
    return Atomics.load(this.#flag, 0);
  }

  /** The exit status of a run stopped by that signal: 128 + its number. */
  get exitCode(): number {
    return 128 + this.signal;
  }

  /** Stops listening (signals get their default action again only in a new process). */
  stop(): void {
    this.#worker.terminate();
  }
}
