// Float64 CPU reference of softmax cross-entropy with label smoothing (engine/ops/loss.ts).

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
