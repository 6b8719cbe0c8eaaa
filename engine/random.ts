// Seeded randomness, one of each: the generator (mulberry32), the seed mixer (murmur3 finalizer), and
// uniform values and tensors drawn from it.
import type { Engine } from "./engine.ts";
import type { Tensor } from "./tensor.ts";

/** A seeded generator of uniform floats in [0, 1) (mulberry32): same seed, same sequence. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Mixes integers into one 32-bit seed (murmur3's finalizer folded over the parts): distinct
 * seeds for each (run seed, epoch, batch) or (module seed, call).
 */
export function mixSeed(...parts: number[]): number {
  let h = 0x811c9dc5;
  for (const b of parts) {
    h = (h ^ Math.imul(b >>> 0, 0x9e3779b1) ^ (b >>> 16)) >>> 0;
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    h = (h ^ (h >>> 16)) >>> 0;
  }
  return h;
}

/** n uniform values in [lo, hi) from `seed` (mulberry32): the inputs of tests, checks and benches. */
export function uniformValues(n: number, seed: number, lo = -1, hi = 1): Float64Array {
  const r = mulberry32(seed);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * r();
  return out;
}

/** An f32 tensor of `shape` holding {@linkcode uniformValues} (rounded to f32). */
export function uniformTensor(
  engine: Engine,
  shape: readonly number[],
  seed = 0,
  lo = -1,
  hi = 1,
): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return engine.upload(Float32Array.from(uniformValues(n, seed, lo, hi)), shape);
}
