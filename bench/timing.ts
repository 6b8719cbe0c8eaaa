// Bench timing: warm-up, then the median of several runs, from GPU timestamps or wall time.
//
// With `timestamp-query` each measured run is bracketed by two empty compute passes with
// `timestampWrites` (Deno 2.9 supports them), submitted just before and just after the
// engine's own command buffer: the engine records every dispatch into one open compute pass
// that it owns, so the bracket is the way in without changing the engine. The figure is GPU
// time of the whole flushed submission. Without timestamps the figure is wall time from
// `engine.flush()` to `queue.onSubmittedWorkDone()`, minus the idle wait measured for an empty
// submission (about 11 ms in Deno), with the work repeated until one run takes ≥ 50 ms.
import type { Engine } from "../engine/engine.ts";

/** One measurement: milliseconds per call of the timed function. */
export interface Timing {
  /** Median over the runs, ms per call. */
  median: number;
  min: number;
  max: number;
  /** Each run's ms per call. */
  samples: number[];
  /** Calls recorded into each measured submission. */
  repeat: number;
  method: "timestamp" | "wall";
  /**
   * Wall ms per call over all timed runs, recording included (with timestamps the runs are
   * recorded and submitted back to back, as a training loop does, so this is throughput).
   */
  wall: number;
}

/** Options of {@linkcode GpuTimer.time}. */
export interface TimeOptions {
  /** Untimed runs first (pipelines compile, pools fill; the last one sizes `repeat`); default 2. */
  warmup?: number;
  /** Timed runs; the median is reported; default 5. */
  runs?: number;
  /** Calls per submission: a number, or "auto" to reach `minMs` per run (default "auto"). */
  repeat?: number | "auto";
  /**
   * Least ms per timed run when repeat is "auto", judged from the last warm-up run (default 2
   * with timestamps, 50 without).
   */
  minMs?: number;
  /** Most calls per submission when repeat is "auto" (default 64). */
  maxRepeat?: number;
}

const MAX_RUNS = 64;

/** Records `fn` `repeat` times, each in its own scope that frees everything it made. */
function scoped(e: Engine, fn: () => void, repeat: number): void {
  for (let i = 0; i < repeat; i++) {
    e.scope(() => {
      fn();
    });
  }
}

/** The median of a list of numbers. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

/** Times GPU work recorded through an engine; one timer per engine (see {@linkcode timerFor}). */
export class GpuTimer {
  readonly engine: Engine;
  readonly method: "timestamp" | "wall";
  #querySet: GPUQuerySet | null = null;
  #resolve: GPUBuffer | null = null;
  #readback: GPUBuffer | null = null;
  #idleMs: number | null = null;

  constructor(engine: Engine, options: { timestamps?: boolean } = {}) {
    this.engine = engine;
    const useTs = (options.timestamps ?? true) && engine.gpu.timestamps;
    this.method = useTs ? "timestamp" : "wall";
    if (useTs) {
      const d = engine.device;
      this.#querySet = d.createQuerySet({ type: "timestamp", count: 2 * MAX_RUNS });
      const size = 16 * MAX_RUNS;
      this.#resolve = d.createBuffer({
        size,
        usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
      });
      this.#readback = d.createBuffer({
        size,
        usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      });
    }
  }

  /**
   * Times `fn`, which records GPU work on the engine (no readbacks, no awaits). Each call runs in
   * its own `engine.scope`, so tensors it creates are freed. Returns ms per call.
   */
  async time(fn: () => void, options: TimeOptions = {}): Promise<Timing> {
    const e = this.engine;
    const runs = Math.min(options.runs ?? 5, MAX_RUNS);
    const ts = this.method === "timestamp";
    const minMs = options.minMs ?? (ts ? 2 : 50);
    const idle = await this.#idle();
    await e.sync();
    let once = 0;
    for (let i = 0; i < Math.max(1, options.warmup ?? 2); i++) {
      const t0 = performance.now();
      scoped(e, fn, 1);
      await e.sync();
      once = performance.now() - t0 - idle;
    }
    let repeat = typeof options.repeat === "number" ? Math.max(1, Math.round(options.repeat)) : 1;
    if (options.repeat === undefined || options.repeat === "auto") {
      const most = options.maxRepeat ?? 64;
      repeat = Math.max(1, Math.min(most, Math.ceil(minMs / Math.max(once, 1e-3))));
    }
    let samples: number[];
    const t0 = performance.now();
    if (ts) samples = await this.#timestamped(fn, repeat, runs);
    else {
      samples = [];
      for (let r = 0; r < runs; r++) samples.push(await this.#wall(fn, repeat));
    }
    const wall = (performance.now() - t0 - (ts ? idle : runs * idle)) / (runs * repeat);
    samples = samples.map((ms) => ms / repeat);
    return {
      median: median(samples),
      min: Math.min(...samples),
      max: Math.max(...samples),
      samples,
      repeat,
      method: this.method,
      wall: Math.max(wall, 1e-6),
    };
  }

  /** Frees the query set and its buffers. */
  dispose(): void {
    this.#querySet?.destroy();
    this.#resolve?.destroy();
    this.#readback?.destroy();
  }

  async #idle(): Promise<number> {
    if (this.#idleMs === null) {
      const d = this.engine.device;
      const xs: number[] = [];
      for (let i = 0; i < 5; i++) {
        d.queue.submit([d.createCommandEncoder().finish()]);
        const t0 = performance.now();
        await d.queue.onSubmittedWorkDone();
        xs.push(performance.now() - t0);
      }
      this.#idleMs = median(xs);
    }
    return this.#idleMs;
  }

  async #wall(fn: () => void, repeat: number): Promise<number> {
    const e = this.engine;
    const idle = await this.#idle();
    await e.sync();
    scoped(e, fn, repeat);
    const t0 = performance.now();
    await e.sync();
    return Math.max(performance.now() - t0 - idle, 1e-3);
  }

  #mark(index: number, begin: boolean): void {
    const d = this.engine.device;
    const enc = d.createCommandEncoder();
    const writes: GPUComputePassTimestampWrites = begin
      ? { querySet: this.#querySet!, beginningOfPassWriteIndex: index }
      : { querySet: this.#querySet!, endOfPassWriteIndex: index };
    enc.beginComputePass({ timestampWrites: writes }).end();
    d.queue.submit([enc.finish()]);
  }

  async #timestamped(fn: () => void, repeat: number, runs: number): Promise<number[]> {
    const e = this.engine;
    const d = e.device;
    await e.sync();
    for (let r = 0; r < runs; r++) {
      scoped(e, fn, repeat);
      this.#mark(2 * r, true);
      e.flush();
      this.#mark(2 * r + 1, false);
    }
    const enc = d.createCommandEncoder();
    enc.resolveQuerySet(this.#querySet!, 0, 2 * runs, this.#resolve!, 0);
    enc.copyBufferToBuffer(this.#resolve!, 0, this.#readback!, 0, 16 * runs);
    d.queue.submit([enc.finish()]);
    await e.sync();
    await this.#readback!.mapAsync(GPUMapMode.READ, 0, 16 * runs);
    const t = new BigUint64Array(this.#readback!.getMappedRange(0, 16 * runs).slice(0));
    this.#readback!.unmap();
    const out: number[] = [];
    for (let r = 0; r < runs; r++) out.push(Math.max(Number(t[2 * r + 1] - t[2 * r]) / 1e6, 1e-6));
    return out;
  }
}

const timers = new WeakMap<Engine, GpuTimer>();

/** The engine's shared timer (timestamps when the adapter has them). */
export function timerFor(engine: Engine): GpuTimer {
  let t = timers.get(engine);
  if (!t) {
    t = new GpuTimer(engine);
    timers.set(engine, t);
  }
  return t;
}
