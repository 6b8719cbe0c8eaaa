// Measures the conv2d kernel variants on given shapes and remembers the fastest per shape.
import type { Engine } from "../../engine.ts";
import type { Tensor } from "../../tensor.ts";
import { type Conv2dConfig, type Conv2dDirection, conv2dKey } from "./choice.ts";
import { candidatesFor } from "./candidates.ts";
import { runBackwardInput, runBackwardWeight, runForward } from "./dispatch.ts";
import { conv2dGeometry } from "./geometry.ts";

/** One convolution to tune: input and weight shapes and the geometry. */
export interface TuneShape {
  /** Input shape [N, C, H, W]. */
  x: readonly number[];
  /** Weight shape [K, C, R, S]. */
  w: readonly number[];
  /** Stride (default 1). */
  stride?: number;
  /** Zero padding (default 0). */
  padding?: number;
}

/** Options of {@linkcode tuneConv2d}. */
export interface TuneOptions {
  /** The configurations to time (default: candidatesFor each shape and direction). */
  candidates?: Conv2dConfig[];
  /** The directions to time (default: all three). */
  directions?: Conv2dDirection[];
  /** Timed runs per candidate after one warm-up (median taken); default 3. */
  runs?: number;
}

/** The outcome for one (shape, direction): every candidate's median ms and the winner. */
export interface TuneResult {
  /** The shape and direction key the choice is stored under. */
  key: string;
  /** The direction timed. */
  direction: Conv2dDirection;
  /** The fastest configuration. */
  best: Conv2dConfig;
  /** Every configuration's time, in ms. */
  ms: { config: Conv2dConfig; ms: number }[];
}

function random(e: Engine, shape: readonly number[]): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const d = new Float32Array(n);
  for (let i = 0; i < n; i++) d[i] = Math.sin(i * 78.233) * 0.5;
  return e.keep(e.upload(d, shape));
}

async function wallMs(e: Engine, fn: () => void): Promise<number> {
  await e.sync();
  const t0 = performance.now();
  e.scope(fn);
  e.flush();
  await e.device.queue.onSubmittedWorkDone();
  return performance.now() - t0;
}

/**
 * Times each candidate on each shape and direction (wall time of submit + onSubmittedWorkDone
 * after one warm-up run that also compiles) and records the fastest in the choice map that
 * conv2d consults. Call it once before training; the ops themselves never wait.
 *
 * @example
 * ```ts
 * await tuneConv2d(engine, [{ x: [125, 64, 32, 32], w: [64, 64, 3, 3], padding: 1 }]);
 * ```
 */
export async function tuneConv2d(
  engine: Engine,
  shapes: readonly TuneShape[],
  options: TuneOptions = {},
): Promise<TuneResult[]> {
  const e = engine;
  const dirs = options.directions ?? ["forward", "backwardInput", "backwardWeight"];
  const results: TuneResult[] = [];
  for (const s of shapes) {
    const g = conv2dGeometry("tuneConv2d", s.x, s.w, s.stride ?? 1, s.padding ?? 0);
    const x = random(e, s.x), w = random(e, s.w), gy = random(e, [g.N, g.K, g.P, g.Q]);
    for (const direction of dirs) {
      const run = (cfg: Conv2dConfig) => () => {
        if (direction === "forward") runForward(x, w, null, g, cfg);
        else if (direction === "backwardInput") runBackwardInput(gy, w, g, cfg);
        else runBackwardWeight(x, gy, g, cfg);
      };
      const ms: TuneResult["ms"] = [];
      for (const config of options.candidates ?? candidatesFor(e, direction, g)) {
        await wallMs(e, run(config));
        const samples: number[] = [];
        for (let r = 0; r < (options.runs ?? 3); r++) samples.push(await wallMs(e, run(config)));
        samples.sort((a, b) => a - b);
        ms.push({ config, ms: samples[samples.length >> 1] });
      }
      const best = ms.reduce((a, b) => (b.ms < a.ms ? b : a)).config;
      const key = conv2dKey(e, direction, g);
      e.conv2d.choices.set(key, best);
      results.push({ key, direction, best, ms });
    }
    for (const t of [x, w, gy]) t.dispose();
  }
  return results;
}
