// Test helpers: one shared engine, seeded random data, float64 comparisons.
import { Engine } from "../engine/engine.ts";
import { describeGpu } from "../engine/device.ts";
import { mulberry32, uniformValues } from "../engine/random.ts";

let shared: Promise<Engine> | null = null;
let registered = 0;
let finished = 0;

/** The engine shared by the tests of one file; prints the adapter once. */
export function testEngine(): Promise<Engine> {
  shared ??= Engine.create().then((e) => {
    console.log(describeGpu(e.gpu));
    return e;
  });
  return shared;
}

/**
 * Deno.test for GPU work: sanitizers off (GPU resources live across tests by design). After
 * the last GPU test of a file the shared engine is closed, so no device outlives its file
 * (a device left alive at exit has made Mesa's software driver abort the process).
 */
export function gpuTest(
  name: string,
  fn: (engine: Engine) => Promise<void>,
  options: { ignore?: boolean } = {},
): void {
  const ignore = options.ignore ?? false;
  if (!ignore) registered++;
  Deno.test({
    name,
    ignore,
    sanitizeOps: false,
    sanitizeResources: false,
    fn: async () => {
      try {
        await fn(await testEngine());
      } finally {
        if (++finished === registered && shared) {
          const e = await shared;
          shared = null;
          await e.close();
        }
      }
    },
  });
}

/** A seeded generator of uniform floats in [0, 1) (the project's mulberry32). */
export const rng: (seed: number) => () => number = mulberry32;

/** n uniform values in [lo, hi) from a seed (the engine's `uniformValues`). */
export const randn: (n: number, seed: number, lo?: number, hi?: number) => Float64Array =
  uniformValues;

/** Asserts |a − b| ≤ atol + rtol·|b| elementwise, naming the first bad index. */
export function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: { atol?: number; rtol?: number } = {},
  what = "values",
): void {
  const atol = tol.atol ?? 1e-5;
  const rtol = tol.rtol ?? 1e-4;
  if (actual.length !== expected.length) {
    throw new Error(`${what}: length ${actual.length}, expected ${expected.length}`);
  }
  let worst = 0;
  let worstAt = -1;
  for (let i = 0; i < actual.length; i++) {
    const err = Math.abs(actual[i] - expected[i]);
    const excess = err - (atol + rtol * Math.abs(expected[i]));
    if (!(excess <= 0) && (worstAt < 0 || excess > worst || Number.isNaN(err))) {
      worst = excess;
      worstAt = i;
      if (Number.isNaN(err)) break;
    }
  }
  if (worstAt >= 0) {
    throw new Error(
      `${what}: at ${worstAt} got ${actual[worstAt]}, expected ${
        expected[worstAt]
      } (atol ${atol}, rtol ${rtol})`,
    );
  }
}

export { realCifarSource } from "./real_data.ts";
