// Every op family's forward and backward as cases that run the same way in Deno and in a page
// of headless Chromium (tests/browser/kernel_page.ts): seeded f32 inputs, the GPU outputs, and
// the float64 references of tests/reference/. No Deno API here: the page bundles this file.
import type { Tensor } from "../engine/tensor.ts";
import { add, mul, relu, scale } from "../engine/ops/elementwise.ts";
import { matmul } from "../engine/ops/matmul.ts";
import { mean, sum } from "../engine/ops/reduce.ts";
import { softmaxCrossEntropy } from "../engine/ops/loss.ts";
import { adaptiveAvgPool2d, avgPool2d, maxPool2d } from "../engine/ops/pool.ts";
import { batchNorm2d, type BatchNormState } from "../engine/ops/batch_norm.ts";
import { dropout, dropoutParams } from "../engine/ops/dropout.ts";
import { ParamStore } from "../engine/params.ts";
import { SGD } from "../engine/optim.ts";
import { matmulRef, transposeRef } from "./reference/matmul.ts";
import { crossEntropyRef } from "./reference/loss.ts";
import * as poolRef from "./reference/pool.ts";
import { batchNormBackwardRef, batchNormForwardRef } from "./reference/batch_norm.ts";
import { dropoutMaskRef } from "./reference/dropout.ts";
import { sgdStepRef } from "./reference/sgd.ts";
import { CONV_CASES } from "./kernel_cases_conv.ts";
import { type KernelCase, leaf, type Outputs, rand, readAll } from "./kernel_case.ts";

const SUMS = "f32 sums of tens of products of values in [-1, 1], in another order";

const elementwise: KernelCase = {
  family: "elementwise",
  name: "z = relu(x·y + 0.5·x) over 37, gradients of Σ z·s",
  tol: { atol: 1e-6, rtol: 1e-6, why: "one or two roundings per element" },
  gpu: async (e) => {
    const x = leaf(e, rand(37, 1), [37]);
    const y = leaf(e, rand(37, 2), [37]);
    const z = relu(add(mul(x, y), scale(x, 0.5)));
    e.tape.backward(z, e.upload(rand(37, 3), [37]));
    return await readAll({ z, gx: x.grad!, gy: y.grad! });
  },
  ref: () => {
    const [x, y, s] = [rand(37, 1), rand(37, 2), rand(37, 3)];
    const pre = Array.from(x, (v, i) => v * y[i] + 0.5 * v);
    const on = pre.map((v) => (v > 0 ? 1 : 0));
    return {
      z: pre.map((v) => Math.max(v, 0)),
      gx: Array.from(x, (_, i) => s[i] * on[i] * (y[i] + 0.5)),
      gy: Array.from(x, (v, i) => s[i] * on[i] * v),
    };
  },
};

const [M, K, N] = [13, 29, 11];
const matmulCase: KernelCase = {
  family: "matmul",
  name: `${M}×${K} @ ${K}×${N}, gradients of Σ C·S`,
  tol: { atol: 2e-5, rtol: 1e-5, why: SUMS },
  gpu: async (e) => {
    const a = leaf(e, rand(M * K, 4), [M, K]);
    const b = leaf(e, rand(K * N, 5), [K, N]);
    const c = matmul(a, b);
    e.tape.backward(c, e.upload(rand(M * N, 6), [M, N]));
    return await readAll({ c, ga: a.grad!, gb: b.grad! });
  },
  ref: () => {
    const [a, b, s] = [rand(M * K, 4), rand(K * N, 5), rand(M * N, 6)];
    return {
      c: matmulRef(a, b, M, K, N),
      ga: matmulRef(s, transposeRef(b, K, N), M, N, K),
      gb: matmulRef(transposeRef(a, M, K), s, K, M, N),
    };
  },
};

const reduce: KernelCase = {
  family: "reduce",
  name: "sum and mean of 1,001 values, gradients",
  tol: { atol: 1e-5, rtol: 1e-5, why: "f32 sums of 1,001 values in [-1, 1]" },
  gpu: async (e) => {
    const x = leaf(e, rand(1001, 7), [1001]);
    const total = add(sum(x), scale(mean(x), 3));
    e.tape.backward(total);
    return await readAll({ total, gx: x.grad! });
  },
  ref: () => {
    const x = rand(1001, 7);
    const s = x.reduce((a, b) => a + b, 0);
    return { total: [s + 3 * s / 1001], gx: new Array(1001).fill(1 + 3 / 1001) };
  },
};

const reduceSubgroups = withSubgroups(reduce, "reduce (subgroups)");

const crossEntropy: KernelCase = {
  family: "softmax cross-entropy",
  name: "9×10 logits in [-4, 4], smoothing 0.1, loss and gradient",
  tol: { atol: 1e-6, rtol: 1e-5, why: "exp/log of f32 logits, a 10-term log-sum-exp" },
  gpu: async (e) => {
    const z = leaf(e, rand(90, 8, -4, 4), [9, 10]);
    const y = e.upload(Uint32Array.from({ length: 9 }, (_, i) => (i * 7 + 3) % 10), [9], "u32");
    const loss = softmaxCrossEntropy(z, y, { smoothing: 0.1 });
    e.tape.backward(loss);
    return await readAll({ loss, gz: z.grad! });
  },
  ref: () => {
    const labels = Array.from({ length: 9 }, (_, i) => (i * 7 + 3) % 10);
    const r = crossEntropyRef(rand(90, 8, -4, 4), labels, 9, 10, 0.1);
    return { loss: [r.loss], gz: r.grad };
  },
};

function poolCase(
  name: string,
  shape: number[],
  op: (x: Tensor) => Tensor,
  ref: (x: Float32Array, gy: Float32Array) => Outputs,
): KernelCase {
  const n = shape.reduce((a, b) => a * b, 1);
  return {
    family: "pooling",
    name: `${name} [${shape}]`,
    tol: { atol: 1e-6, rtol: 1e-5, why: "a few f32 additions per element" },
    gpu: async (e) => {
      const x = leaf(e, rand(n, 9, -3, 3), shape);
      const y = op(x);
      e.tape.backward(y, e.upload(rand(y.size, 10), [...y.shape]));
      return await readAll({ y, gx: x.grad! });
    },
    ref: () => {
      const x = rand(n, 9, -3, 3);
      const y = ref(x, new Float32Array(0));
      return ref(x, rand(y.y.length, 10));
    },
  };
}

const max = { kernel: 3, stride: 2, padding: 1 };
const pools: KernelCase[] = [
  poolCase("max pool k3 s2 p1", [2, 3, 9, 7], (x) => maxPool2d(x, max), (x, gy) => {
    const f = poolRef.maxPoolForwardRef(x, { shape: [2, 3, 9, 7], ...max });
    return { y: f.y, gx: poolRef.maxPoolBackwardRef(gy, f.argmax, x.length) };
  }),
  poolCase("avg pool k2", [2, 3, 9, 8], (x) => avgPool2d(x, 2), (x, gy) => {
    const o = { shape: [2, 3, 9, 8], kernel: 2, stride: 2, padding: 0 };
    return { y: poolRef.avgPoolForwardRef(x, o), gx: poolRef.avgPoolBackwardRef(gy, o) };
  }),
  poolCase("adaptive avg pool to 1×1", [3, 5, 7, 6], (x) => adaptiveAvgPool2d(x), (x, gy) => {
    const y = Array.from(
      { length: 15 },
      (_, p) => x.slice(p * 42, p * 42 + 42).reduce((a, b) => a + b, 0) / 42,
    );
    return { y, gx: Array.from(x, (_, i) => (gy[Math.floor(i / 42)] ?? 0) / 42) };
  }),
];

/** The case run with every reduction's subgroup variant forced (where the device has them). */
function withSubgroups(c: KernelCase, family: string): KernelCase {
  return {
    ...c,
    family,
    needs: "subgroups",
    gpu: async (e) => {
      e.reduce.forced = "subgroups";
      try {
        return await c.gpu(e);
      } finally {
        e.reduce.forced = null;
      }
    },
  };
}

function batchNormCase(
  training: boolean,
  residual: boolean,
  shape = [3, 5, 7, 6],
  tol = { atol: 5e-5, rtol: 5e-5, why: "f32 statistics over 126 values, 1/sqrt, x̂ up to ~4" },
): KernelCase {
  const n = shape[0] * shape[1] * shape[2] * shape[3];
  const C = shape[1];
  const inputs = () => ({
    x: rand(n, 11, -2, 3),
    weight: rand(C, 12, 0.5, 1.5),
    bias: rand(C, 13, -0.5, 0.5),
    runningMean: rand(C, 14, -0.2, 0.2),
    runningVar: rand(C, 15, 0.5, 2),
    res: rand(n, 16),
    gy: rand(n, 17),
  });
  return {
    family: "batch norm",
    name: `${training ? "training" : "eval"}, ReLU${residual ? ", residual" : ""} [${shape}]`,
    tol,
    gpu: async (e) => {
      const i = inputs();
      const bn: BatchNormState = {
        weight: leaf(e, i.weight, [C]),
        bias: leaf(e, i.bias, [C]),
        runningMean: e.upload(i.runningMean, [C]),
        runningVar: e.upload(i.runningVar, [C]),
      };
      const x = leaf(e, i.x, shape);
      const res = residual ? leaf(e, i.res, shape) : undefined;
      const y = batchNorm2d(x, bn, { training, relu: true, residual: res });
      e.tape.backward(y, e.upload(i.gy, shape));
      const out = await readAll({ y, dx: x.grad!, dweight: bn.weight.grad!, dbias: bn.bias.grad! });
      if (res) out.dres = await res.grad!.read();
      if (training) Object.assign(out, await readAll({ rm: bn.runningMean, rv: bn.runningVar }));
      return out;
    },
    ref: () => {
      const i = inputs();
      const o = { shape, training, relu: true, residual: residual ? i.res : undefined };
      const f = batchNormForwardRef(i.x, i.weight, i.bias, i.runningMean, i.runningVar, o);
      const b = batchNormBackwardRef(i.gy, i.x, i.weight, f, o);
      const out: Outputs = { y: f.y, dx: b.dx, dweight: b.dweight, dbias: b.dbias };
      if (residual) out.dres = b.dres;
      if (training) Object.assign(out, { rm: f.runningMean, rv: f.runningVar });
      return out;
    },
  };
}

const DROP_N = 10_007;
const dropoutCase: KernelCase = {
  family: "dropout",
  name: `p 0.3 over ${DROP_N}, seed 2^32 + 7: output and gradient`,
  tol: { atol: 0, rtol: 1e-7, why: "one f32 product per element: exact up to rounding" },
  gpu: async (e) => {
    const x = leaf(e, rand(DROP_N, 18, 0.5, 1.5), [DROP_N]);
    const y = dropout(x, 0.3, { training: true, seed: 2 ** 32 + 7 });
    e.tape.backward(y, e.upload(rand(DROP_N, 19), [DROP_N]));
    return await readAll({ y, gx: x.grad! });
  },
  ref: () => {
    const mask = dropoutMaskRef(DROP_N, dropoutParams(DROP_N, 0.3, 2 ** 32 + 7));
    const [x, gy] = [rand(DROP_N, 18, 0.5, 1.5), rand(DROP_N, 19)];
    const k = Math.fround(1 / 0.7);
    return {
      y: Array.from(x, (v, i) => mask[i] * v * k),
      gx: Array.from(gy, (g, i) => mask[i] * g * k),
    };
  },
};

const SGD_OPTS = { lr: 0.05, momentum: 0.9, dampening: 0, weightDecay: 5e-4, nesterov: true };
const sgdCase: KernelCase = {
  family: "SGD",
  name: "Nesterov, momentum 0.9, weight decay 5e-4, 3 steps on 7×3",
  tol: { atol: 1e-6, rtol: 1e-5, why: "three f32 updates of values in [-1, 1]" },
  gpu: async (e) => {
    const store = new ParamStore(e, [{ name: "w", shape: [7, 3], init: rand(21, 20) }]);
    const opt = new SGD(store, SGD_OPTS);
    for (let s = 0; s < 3; s++) {
      e.write(store.get("w").grad!, rand(21, 21 + s));
      opt.step();
    }
    const w = await store.read("w");
    opt.dispose();
    store.dispose();
    return { w };
  },
  ref: () => {
    const w = Float64Array.from(rand(21, 20));
    let m: Float64Array | null = null;
    for (let s = 0; s < 3; s++) m = sgdStepRef(w, rand(21, 21 + s), m, SGD_OPTS);
    return { w };
  },
};

/** Every case, in table order. */
export const KERNEL_CASES: KernelCase[] = [
  elementwise,
  matmulCase,
  reduce,
  reduceSubgroups,
  crossEntropy,
  withSubgroups(crossEntropy, "softmax-CE (subgroups)"),
  ...CONV_CASES,
  batchNormCase(true, true),
  batchNormCase(true, false),
  batchNormCase(false, false),
  // Subgroup statistics and backward sums: the small case leaves most of the 64 threads of a
  // channel empty (9 runs of 14 values); [2, 3, 33, 31] gives every thread 2–3 runs of 11.
  withSubgroups(batchNormCase(true, true), "batch norm (subgroups)"),
  withSubgroups(
    batchNormCase(true, true, [2, 3, 33, 31], {
      atol: 1e-4,
      rtol: 5e-5,
      why: "f32 statistics and Σ dy·x̂ over 2,046 values per channel, in another order",
    }),
    "batch norm (subgroups)",
  ),
  ...pools,
  dropoutCase,
  sgdCase,
];
