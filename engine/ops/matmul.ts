// Matrix multiply and the linear layer, with gradients.
import type { Tensor } from "../tensor.ts";
import code from "../../kernels/matmul.wgsl" with { type: "text" };

const SRC = { name: "matmul.wgsl", code };

/** Options of {@linkcode matmulRaw}: use A or B transposed, add a bias row. */
export interface MatmulOptions {
  transA?: boolean;
  transB?: boolean;
  bias?: Tensor | null;
}

function dims(a: Tensor, b: Tensor, o: MatmulOptions): { M: number; K: number; N: number } {
  if (a.shape.length !== 2 || b.shape.length !== 2) {
    throw new RangeError(`matmul: needs 2-D tensors, got ${a} and ${b}`);
  }
  const [M, K] = o.transA ? [a.shape[1], a.shape[0]] : [a.shape[0], a.shape[1]];
  const [K2, N] = o.transB ? [b.shape[1], b.shape[0]] : [b.shape[0], b.shape[1]];
  if (K !== K2) throw new RangeError(`matmul: inner sizes differ: ${a} and ${b} (${K} vs ${K2})`);
  if (o.bias && o.bias.size !== N) throw new RangeError(`matmul: bias ${o.bias} for ${N} columns`);
  return { M, K, N };
}

/** C = op(A)·op(B) (+ bias) without recording on the tape. */
export function matmulRaw(a: Tensor, b: Tensor, o: MatmulOptions = {}): Tensor {
  const { M, K, N } = dims(a, b, o);
  const c = a.engine.tensor([M, N]);
  const [sAm, sAk] = o.transA ? [1, M] : [K, 1];
  const [sBk, sBn] = o.transB ? [1, K] : [N, 1];
  a.engine.run(SRC, "matmul", {
    a,
    b,
    bias: o.bias ?? a, // unused when hasBias = 0; any read-only tensor
    c,
    p: { M, N, K, sAm, sAk, sBk, sBn, hasBias: o.bias ? 1 : 0 },
  }, [Math.ceil(N / 32), Math.ceil(M / 32)]);
  return c;
}

/** Column sums of a 2-D tensor: [M, N] → [N]. */
export function sumRows(x: Tensor): Tensor {
  const [M, N] = x.shape;
  const out = x.engine.tensor([N]);
  x.engine.run(SRC, "sumRows", {
    x,
    out,
    p: { M, N, K: 0, sAm: 0, sAk: 0, sBk: 0, sBn: 0, hasBias: 0 },
  }, Math.ceil(N / 64));
  return out;
}

/** A·B for 2-D tensors (gradients: dA = dC·Bᵀ, dB = Aᵀ·dC). */
export function matmul(a: Tensor, b: Tensor): Tensor {
  const c = matmulRaw(a, b);
  a.engine.record([a, b], c, (gc) => [
    a.requiresGrad ? matmulRaw(gc, b, { transB: true }) : null,
    b.requiresGrad ? matmulRaw(a, gc, { transA: true }) : null,
  ]);
  return c;
}

/** The linear layer y = x·Wᵀ + b, with x [N, in], W [out, in], b [out] as torch.nn.Linear. */
export function linear(x: Tensor, w: Tensor, b?: Tensor | null): Tensor {
  const y = matmulRaw(x, w, { transB: true, bias: b });
  const inputs = b ? [x, w, b] : [x, w];
  x.engine.record(inputs, y, (gy) => [
    x.requiresGrad ? matmulRaw(gy, w) : null,
    w.requiresGrad ? matmulRaw(gy, x, { transA: true }) : null,
    b?.requiresGrad ? sumRows(gy) : null,
  ]);
  return y;
}
