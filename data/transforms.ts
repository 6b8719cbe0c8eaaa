// The standardization of CIFAR-10 images: per-channel mean and std, and what the GPU batches read.

const C = 3;
const H = 32;
const W = 32;
const PLANE = H * W;
const IMAGE = C * PLANE;

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

/** What `GpuCifar.upload` reads: the stored images and labels. */
export interface ImageSet {
  /** n images, [n, 3, 32, 32] bytes. */
  images: Uint8Array;
  /** n labels, 0–9. */
  labels: Uint8Array;
  /** Images stored; an index i ≥ n in an order means "image i − n, mirrored". */
  n: number;
}
