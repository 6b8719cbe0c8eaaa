// CPU image transforms for CIFAR-10 (reference and utility): mean/std, zscore, flip, crop, batches.
import { augmentDraw, type Draw } from "./random.ts";

const C = 3;
const H = 32;
const W = 32;
const PLANE = H * W;
const IMAGE = C * PLANE;
/** Zero padding on each side before the random 32×32 crop. */
export const PAD = 4;

/** Per-channel statistics in pixel units (0–255). */
export interface MeanStd {
  /** Per-channel mean in pixel units (0–255), R G B. */
  mean: [number, number, number];
  /** Per-channel standard deviation in pixel units, R G B. */
  std: [number, number, number];
}

/**
 * Mean and population standard deviation of each colour channel over `n` images
 * ([n, 3, 32, 32] bytes), over images, rows and columns (exact: from byte histograms).
 */
export function meanStd(images: Uint8Array, n: number): MeanStd {
  if (images.length < n * IMAGE) {
    throw new RangeError(`meanStd: ${n} images need ${n * IMAGE} bytes`);
  }
  const hist = [new Float64Array(256), new Float64Array(256), new Float64Array(256)];
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < C; c++) {
      const h = hist[c];
      const base = i * IMAGE + c * PLANE;
      for (let k = 0; k < PLANE; k++) h[images[base + k]]++;
    }
  }
  const mean = [0, 0, 0] as [number, number, number];
  const std = [0, 0, 0] as [number, number, number];
  const count = n * PLANE;
  for (let c = 0; c < C; c++) {
    let sum = 0;
    for (let v = 0; v < 256; v++) sum += v * hist[c][v];
    const m = sum / count;
    let sq = 0;
    for (let v = 0; v < 256; v++) sq += hist[c][v] * (v - m) * (v - m);
    mean[c] = m;
    std[c] = Math.sqrt(sq / count);
  }
  return { mean, std };
}

/** (pixel − mean) / std per channel, as f32 [n, 3, 32, 32]. */
export function zscore(
  images: Uint8Array | Float32Array,
  n: number,
  stats: MeanStd,
): Float32Array {
  const out = new Float32Array(n * IMAGE);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < C; c++) {
      const m = stats.mean[c];
      const s = stats.std[c];
      const base = i * IMAGE + c * PLANE;
      for (let k = 0; k < PLANE; k++) out[base + k] = (images[base + k] - m) / s;
    }
  }
  return out;
}

/** The horizontal mirror of every one of `n` images (a new array of the same type). */
export function flip<T extends Uint8Array | Float32Array>(images: T, n: number): T {
  const out = images.slice(0, n * IMAGE) as T;
  for (let row = 0; row < n * C * H; row++) {
    const base = row * W;
    for (let x = 0; x < W; x++) out[base + x] = images[base + W - 1 - x];
  }
  return out;
}

/**
 * One image cropped and flipped: zero-pad 4 on each side, take the 32×32 window at (cy, cx) of
 * the 40×40 padded image, then mirror it if `flip`. `image` is 3,072 bytes; returns 3,072 bytes.
 */
export function cropFlip(
  image: Uint8Array,
  draw: Draw,
  out: Uint8Array = new Uint8Array(IMAGE),
): Uint8Array {
  for (let c = 0; c < C; c++) {
    for (let oy = 0; oy < H; oy++) {
      const sy = oy + draw.cy - PAD;
      for (let ox = 0; ox < W; ox++) {
        const sx = (draw.flip ? W - 1 - ox : ox) + draw.cx - PAD;
        const inside = sy >= 0 && sy < H && sx >= 0 && sx < W;
        out[c * PLANE + oy * W + ox] = inside ? image[c * PLANE + sy * W + sx] : 0;
      }
    }
  }
  return out;
}

/** What {@linkcode makeBatch} reads: the stored images and labels. */
export interface ImageSet {
  images: Uint8Array;
  labels: Uint8Array;
  /** Images stored; an index i ≥ n in an order means "image i − n, mirrored". */
  n: number;
}

/**
 * The CPU twin of the GPU batch kernel: images at positions offset … offset+size−1 of `order`,
 * mirrored for indices ≥ n, randomly cropped and flipped when `augment` (draws from `key`),
 * standardized. Returns x as f32 [size, 3, 32, 32] and the labels.
 */
export function makeBatch(
  set: ImageSet,
  order: ArrayLike<number>,
  options: { offset: number; size: number; stats: MeanStd; augment?: boolean; key?: number },
): { x: Float32Array; y: Uint32Array } {
  const { offset, size, stats } = options;
  const x = new Float32Array(size * IMAGE);
  const y = new Uint32Array(size);
  const img = new Uint8Array(IMAGE);
  for (let b = 0; b < size; b++) {
    let s = order[offset + b];
    const mirrored = s >= set.n;
    if (mirrored) s -= set.n;
    y[b] = set.labels[s];
    img.set(set.images.subarray(s * IMAGE, (s + 1) * IMAGE));
    const base = mirrored ? flip(img, 1) : img;
    const draw = options.augment
      ? augmentDraw(options.key ?? 0, offset + b)
      : { cy: PAD, cx: PAD, flip: false };
    const out = cropFlip(base, draw);
    for (let c = 0; c < C; c++) {
      for (let k = 0; k < PLANE; k++) {
        const i = c * PLANE + k;
        x[b * IMAGE + i] = (out[i] - stats.mean[c]) / stats.std[c];
      }
    }
  }
  return { x, y };
}
