// Seeded randomness for the data pipeline: epoch shuffles and the augmentation draws the GPU makes.
import { mixSeed, mulberry32 } from "../engine/random.ts";

/** A 32-bit integer hash (Wellons' lowbias32); kernels/augment.wgsl has the same function. */
export function hash32(x: number): number {
  x = (x ^ (x >>> 16)) >>> 0;
  x = Math.imul(x, 0x7feb352d) >>> 0;
  x = (x ^ (x >>> 15)) >>> 0;
  x = Math.imul(x, 0x846ca68b) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

/** The key of one epoch's random choices, from the run's seed and the epoch number. */
export function epochKey(seed: number, epoch: number): number {
  return mixSeed(seed, epoch);
}

/** The order of an epoch: 0 … n−1, shuffled by Fisher–Yates from (seed, epoch) unless shuffle is false. */
export function epochOrder(n: number, seed: number, epoch: number, shuffle = true): Uint32Array {
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  if (!shuffle) return order;
  const random = mulberry32(epochKey(seed, epoch) ^ 0x5bd1e995);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  return order;
}

/** One image's augmentation: crop origin (cy, cx) in the 40×40 padded image (0–8) and a flip. */
export interface Draw {
  /** Vertical offset of the 32×32 window in the 40×40 padded image (0–8). */
  cy: number;
  /** Horizontal offset of the window (0–8). */
  cx: number;
  /** Whether the window is mirrored left to right. */
  flip: boolean;
}

/** The crop and flip for the image at `position` of an epoch with `key` (as the GPU draws them). */
export function augmentDraw(key: number, position: number): Draw {
  const h = hash32((key ^ hash32(position >>> 0)) >>> 0);
  return {
    cy: ((h & 0xffff) * 9) >>> 16,
    cx: (((h >>> 16) & 0x7fff) * 9) >>> 15,
    flip: h >>> 31 === 1,
  };
}
