// Float64 reference of a 2-layer MLP (linear, relu, linear, cross-entropy) trained with SGD.
import { linearRef, matmulRef, transposeRef } from "./matmul.ts";
import { crossEntropyRef } from "./loss.ts";
import { type SgdRefOptions, sgdStepRef } from "./sgd.ts";

/** The MLP's parameters as float64 arrays. */
export interface MlpRef {
  w1: Float64Array; // [H, D]
  b1: Float64Array; // [H]
  w2: Float64Array; // [K, H]
  b2: Float64Array; // [K]
}

/** Loss and gradients of the MLP on a batch x [N, D] with labels. */
export function mlpLossGrad(
  p: MlpRef,
  x: ArrayLike<number>,
  labels: ArrayLike<number>,
  N: number,
  D: number,
  H: number,
  K: number,
) {
  const h = linearRef(x, p.w1, p.b1, N, D, H);
  const a = h.map((v) => Math.max(0, v));
  const z = linearRef(a, p.w2, p.b2, N, H, K);
  const { loss, grad: gz } = crossEntropyRef(z, labels, N, K);
  const gw2 = matmulRef(transposeRef(gz, N, K), a, K, N, H);
  const gb2 = new Float64Array(K);
  for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) gb2[k] += gz[n * K + k];
  const ga = matmulRef(gz, p.w2, N, K, H);
  const gh = ga.map((v, i) => (h[i] > 0 ? v : 0));
  const gw1 = matmulRef(transposeRef(gh, N, H), x, H, N, D);
  const gb1 = new Float64Array(H);
  for (let n = 0; n < N; n++) for (let j = 0; j < H; j++) gb1[j] += gh[n * H + j];
  return { loss, grads: { w1: gw1, b1: gb1, w2: gw2, b2: gb2 } as MlpRef };
}

/** Runs `steps` SGD steps on one batch; returns the loss before each step. */
export function mlpTrainRef(
  p: MlpRef,
  x: ArrayLike<number>,
  labels: ArrayLike<number>,
  dims: [number, number, number, number],
  o: SgdRefOptions,
  steps: number,
): number[] {
  const [N, D, H, K] = dims;
  const moms: Record<string, Float64Array | null> = { w1: null, b1: null, w2: null, b2: null };
  const losses: number[] = [];
  for (let s = 0; s < steps; s++) {
    const { loss, grads } = mlpLossGrad(p, x, labels, N, D, H, K);
    losses.push(loss);
    for (const k of ["w1", "b1", "w2", "b2"] as const) {
      moms[k] = sgdStepRef(p[k], grads[k], moms[k], o);
    }
  }
  return losses;
}
