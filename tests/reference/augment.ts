// Float64 CPU references for the data pipeline: pad-then-crop, flip, standardize, batches.

const IMAGE = 3072;

/** Per-channel mean and population std of [n, 3, 32, 32] images, by plain float64 sums. */
export function meanStdReference(images: Uint8Array, n: number): { mean: number[]; std: number[] } {
  const mean = [0, 0, 0];
  const std = [0, 0, 0];
  for (let c = 0; c < 3; c++) {
    let s = 0;
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < 1024; k++) s += images[i * IMAGE + c * 1024 + k];
    }
    const m = s / (n * 1024);
    let q = 0;
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < 1024; k++) q += (images[i * IMAGE + c * 1024 + k] - m) ** 2;
    }
    mean[c] = m;
    std[c] = Math.sqrt(q / (n * 1024));
  }
  return { mean, std };
}

/** One image as pixel [c][y][x] float64 arrays. */
function planes(image: ArrayLike<number>): number[][][] {
  return [0, 1, 2].map((c) =>
    Array.from(
      { length: 32 },
      (_, y) => Array.from({ length: 32 }, (_, x) => image[c * 1024 + y * 32 + x]),
    )
  );
}

function unplanes(p: number[][][]): Float64Array {
  const out = new Float64Array(IMAGE);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < 32; y++) {
      for (let x = 0; x < 32; x++) out[c * 1024 + y * 32 + x] = p[c][y][x];
    }
  }
  return out;
}

/** Horizontal mirror of one image. */
export function flipReference(image: ArrayLike<number>): Float64Array {
  return unplanes(planes(image).map((plane) => plane.map((row) => [...row].reverse())));
}

/** Zero-pad 4 to 40×40, take the 32×32 window at (cy, cx), then mirror if flip. */
export function cropFlipReference(
  image: ArrayLike<number>,
  cy: number,
  cx: number,
  flip: boolean,
): Float64Array {
  const padded = planes(image).map((plane) => {
    const rows = Array.from({ length: 40 }, () => new Array(40).fill(0));
    for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) rows[y + 4][x + 4] = plane[y][x];
    return rows;
  });
  const crop = padded.map((rows) => rows.slice(cy, cy + 32).map((r) => r.slice(cx, cx + 32)));
  const out = unplanes(crop);
  return flip ? flipReference(out) : out;
}

/**
 * The batch at positions offset … offset+size−1 of `order` (index ≥ n: image index−n mirrored),
 * each cropped/flipped by draw(position) when given, standardized with mean/std.
 */
export function batchReference(
  images: Uint8Array,
  labels: Uint8Array,
  n: number,
  order: ArrayLike<number>,
  offset: number,
  size: number,
  stats: { mean: number[]; std: number[] },
  draw: ((position: number) => { cy: number; cx: number; flip: boolean }) | null,
): { x: Float64Array; y: number[] } {
  const x = new Float64Array(size * IMAGE);
  const y: number[] = [];
  for (let b = 0; b < size; b++) {
    const idx = order[offset + b];
    const s = idx >= n ? idx - n : idx;
    let img: Float64Array = Float64Array.from(images.subarray(s * IMAGE, (s + 1) * IMAGE));
    if (idx >= n) img = flipReference(img);
    if (draw) {
      const d = draw(offset + b);
      img = cropFlipReference(img, d.cy, d.cx, d.flip);
    }
    for (let c = 0; c < 3; c++) {
      for (let k = 0; k < 1024; k++) {
        x[b * IMAGE + c * 1024 + k] = (img[c * 1024 + k] - stats.mean[c]) / stats.std[c];
      }
    }
    y.push(labels[s]);
  }
  return { x, y };
}
