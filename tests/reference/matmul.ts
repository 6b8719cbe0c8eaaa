// Float64 CPU references: matmul, linear, softmax cross-entropy, SGD (torch.optim.SGD).

/** C[M,N] = A[M,K]·B[K,N], row-major. */
export function matmulRef(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  M: number,
  K: number,
  N: number,
): Float64Array {
  const c = new Float64Array(M * N);
  for (let m = 0; m < M; m++) {
    for (let k = 0; k < K; k++) {
      const av = a[m * K + k];
      for (let n = 0; n < N; n++) c[m * N + n] += av * b[k * N + n];
    }
  }
  return c;
}

/** Transpose of a row-major [R, C] matrix. */
export function transposeRef(a: ArrayLike<number>, R: number, C: number): Float64Array {
  const t = new Float64Array(R * C);
  for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) t[c * R + r] = a[r * C + c];
  return t;
}

/** y = x·Wᵀ + b with x [N, I], W [O, I], b [O]. */
export function linearRef(
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  b: ArrayLike<number> | null,
  N: number,
  I: number,
  O: number,
): Float64Array {
  const y = matmulRef(x, transposeRef(w, O, I), N, I, O);
  if (b) { for (let n = 0; n < N; n++) for (let o = 0; o < O; o++) y[n * O + o] += b[o]; }
  return y;
}

/** Mean cross-entropy with label smoothing ε and its gradient wrt the logits. */
export function crossEntropyRef(
  z: ArrayLike<number>,
  labels: ArrayLike<number>,
  N: number,
  K: number,
  smoothing = 0,
): { loss: number; grad: Float64Array; pred: number[] } {
  const grad = new Float64Array(N * K);
  const pred: number[] = [];
  let loss = 0;
  for (let n = 0; n < N; n++) {
    let mx = -Infinity;
    let arg = 0;
    for (let k = 0; k < K; k++) if (z[n * K + k] > mx) (mx = z[n * K + k]), (arg = k);
    pred.push(arg);
    let s = 0;
    for (let k = 0; k < K; k++) s += Math.exp(z[n * K + k] - mx);
    const logZ = mx + Math.log(s);
    for (let k = 0; k < K; k++) {
      const t = smoothing / K + (k === labels[n] ? 1 - smoothing : 0);
      loss -= t * (z[n * K + k] - logZ);
      grad[n * K + k] = (Math.exp(z[n * K + k] - logZ) - t) / N;
    }
  }
  return { loss: loss / N, grad, pred };
}

/** Hyper-parameters of the SGD reference, as torch.optim.SGD. */
export interface SgdRefOptions {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
}

/** One torch.optim.SGD step in place on w (and the momentum buffer m, null before the first step). */
export function sgdStepRef(
  w: Float64Array,
  g: ArrayLike<number>,
  m: Float64Array | null,
  o: SgdRefOptions,
): Float64Array {
  const buf = m ?? new Float64Array(w.length);
  for (let i = 0; i < w.length; i++) {
    let d = g[i] + o.weightDecay * w[i];
    if (o.momentum !== 0) {
      buf[i] = m ? o.momentum * buf[i] + (1 - o.dampening) * d : d;
      d = o.nesterov ? d + o.momentum * buf[i] : buf[i];
    }
    w[i] -= o.lr * d;
  }
  return buf;
}
