// Dropout with a counter-based GPU RNG: the mask is a hash of (seed, element index), recomputed in backward.
import type { Tensor } from "../tensor.ts";
import { grid } from "../grid.ts";
import code from "../../kernels/dropout.wgsl" with { type: "text" };

const SRC = { name: "dropout.wgsl", code };
const TWO_32 = 4294967296;

/** Options of {@linkcode dropout}. */
export interface DropoutOptions {
  /** Drop only while training; in eval dropout returns x itself. */
  training: boolean;
  /**
   * Integer seed of the mask (0 ≤ seed < 2⁵³): the same seed gives the same mask. A function is
   * a per-step seed: called at once eagerly, at every replay of a planned step.
   */
  seed: number | (() => number);
}

/** The uniform values of the dropout kernel for drop probability p and a seed. */
export function dropoutParams(n: number, p: number, seed: number) {
  return {
    n,
    seedLo: seed >>> 0,
    seedHi: Math.floor(seed / TWO_32) >>> 0,
    threshold: Math.min(TWO_32 - 1, Math.round(p * TWO_32)),
    scale: 1 / (1 - p),
  };
}

/**
 * Zeroes each element with probability p and scales the others by 1/(1 − p) (PyTorch's
 * inverted dropout). Returns x itself in eval or when p = 0. The mask depends only on
 * (seed, element index), so backward recomputes it instead of keeping it.
 *
 * @example
 * ```ts
 * const h = dropout(x, 0.3, { training: true, seed: step * 16 + layer });
 * ```
 */
export function dropout(x: Tensor, p: number, options: DropoutOptions): Tensor {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`dropout: p must be in [0, 1], got ${p}`);
  const seedOf = options.seed;
  const checked = () => {
    const seed = typeof seedOf === "function" ? seedOf() : seedOf;
    if (!Number.isSafeInteger(seed) || seed < 0) {
      throw new RangeError(`dropout: seed must be a non-negative integer, got ${seed}`);
    }
    return seed;
  };
  const first = checked();
  if (x.dtype !== "f32") throw new TypeError(`dropout: expected an f32 tensor, got ${x}`);
  if (!options.training || p === 0) return x;
  const e = x.engine;
  if (p === 1) {
    const y = e.zeros(x.shape);
    e.record([x], y, () => [e.zeros(x.shape)]);
    return y;
  }
  const params = typeof seedOf === "function"
    ? () => dropoutParams(x.size, p, checked())
    : dropoutParams(x.size, p, first);
  const y = e.tensor(x.shape);
  e.run(SRC, "dropout", { x, y, p: params }, grid(x.size, 256));
  e.record([x], y, (gy) => {
    const gx = e.tensor(x.shape);
    e.run(SRC, "dropout", { x: gy, y: gx, p: params }, grid(x.size, 256));
    return [gx];
  });
  return y;
}
