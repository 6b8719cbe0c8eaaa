// Float64 CPU reference of batch norm (+ residual, + ReLU) over NCHW, forward and backward.

/** Shape and settings of one reference batch norm. */
export interface BatchNormRefOptions {
  shape: readonly number[];
  training: boolean;
  momentum?: number;
  eps?: number;
  relu?: boolean;
  residual?: ArrayLike<number>;
}

/** Forward result: output, statistics used, and the updated running statistics. */
export interface BatchNormRefForward {
  y: Float64Array;
  mean: Float64Array;
  /** Variance used to normalize (biased batch variance, or the running variance in eval). */
  variance: Float64Array;
  runningMean: Float64Array;
  runningVar: Float64Array;
}

function dims(shape: readonly number[]) {
  const [n, c, h, w] = shape;
  return { n, c, hw: h * w };
}

/** y = BN(x) [+ residual] [ReLU] in float64, PyTorch's conventions (two-pass statistics). */
export function batchNormForwardRef(
  x: ArrayLike<number>,
  weight: ArrayLike<number>,
  bias: ArrayLike<number>,
  runningMean: ArrayLike<number>,
  runningVar: ArrayLike<number>,
  o: BatchNormRefOptions,
): BatchNormRefForward {
  const { n, c, hw } = dims(o.shape);
  const m = n * hw;
  const eps = o.eps ?? 1e-5;
  const mom = o.momentum ?? 0.1;
  const mean = new Float64Array(c);
  const variance = new Float64Array(c);
  const rm = Float64Array.from(runningMean);
  const rv = Float64Array.from(runningVar);
  for (let ch = 0; ch < c; ch++) {
    if (!o.training) {
      mean[ch] = rm[ch];
      variance[ch] = rv[ch];
      continue;
    }
    let s = 0;
    for (let i = 0; i < n; i++) for (let j = 0; j < hw; j++) s += x[(i * c + ch) * hw + j];
    const mu = s / m;
    let q = 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < hw; j++) q += (x[(i * c + ch) * hw + j] - mu) ** 2;
    }
    mean[ch] = mu;
    variance[ch] = q / m;
    rm[ch] = (1 - mom) * rm[ch] + mom * mu;
    rv[ch] = (1 - mom) * rv[ch] + mom * (q / (m - 1));
  }
  const y = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const ch = Math.floor(i / hw) % c;
    let v = (x[i] - mean[ch]) / Math.sqrt(variance[ch] + eps) * weight[ch] + bias[ch];
    if (o.residual) v += o.residual[i];
    y[i] = o.relu ? Math.max(v, 0) : v;
  }
  return { y, mean, variance, runningMean: rm, runningVar: rv };
}

/** Gradients of {@linkcode batchNormForwardRef} for upstream gradient gy. */
export function batchNormBackwardRef(
  gy: ArrayLike<number>,
  x: ArrayLike<number>,
  weight: ArrayLike<number>,
  fwd: BatchNormRefForward,
  o: BatchNormRefOptions,
): { dx: Float64Array; dweight: Float64Array; dbias: Float64Array; dres: Float64Array } {
  const { n, c, hw } = dims(o.shape);
  const m = n * hw;
  const eps = o.eps ?? 1e-5;
  const g = new Float64Array(gy.length);
  for (let i = 0; i < g.length; i++) g[i] = o.relu && fwd.y[i] <= 0 ? 0 : gy[i];
  const invstd = fwd.variance.map((v) => 1 / Math.sqrt(v + eps));
  const xh = (i: number, ch: number) => (x[i] - fwd.mean[ch]) * invstd[ch];
  const dweight = new Float64Array(c);
  const dbias = new Float64Array(c);
  for (let i = 0; i < g.length; i++) {
    const ch = Math.floor(i / hw) % c;
    dbias[ch] += g[i];
    dweight[ch] += g[i] * xh(i, ch);
  }
  const dx = new Float64Array(g.length);
  for (let i = 0; i < g.length; i++) {
    const ch = Math.floor(i / hw) % c;
    const centred = o.training ? (dbias[ch] + xh(i, ch) * dweight[ch]) / m : 0;
    dx[i] = weight[ch] * invstd[ch] * (g[i] - centred);
  }
  return { dx, dweight, dbias, dres: g };
}
