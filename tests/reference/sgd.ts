// Float64 CPU reference of one torch.optim.SGD step (engine/optim.ts).

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
