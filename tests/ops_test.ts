// Core ops vs float64 references: elementwise, matmul, linear, reductions, cross-entropy.
import { assertClose, gpuTest, randn } from "./helpers.ts";
import { assertThrows } from "./assert.ts";
import { add, mul, relu, scale } from "../engine/ops/elementwise.ts";
import { linear, matmul, matmulRaw } from "../engine/ops/matmul.ts";
import { mean, sum } from "../engine/ops/reduce.ts";
import { crossEntropyParts, softmaxCrossEntropy } from "../engine/ops/loss.ts";
import { linearRef, matmulRef, transposeRef } from "./reference/matmul.ts";
import { crossEntropyRef } from "./reference/loss.ts";
import type { Engine } from "../engine/engine.ts";
import type { Tensor } from "../engine/tensor.ts";

const TOL = { atol: 1e-5, rtol: 1e-4 }; // f32 arithmetic on O(1) values, sums of ≤ 20 terms

function leaf(e: Engine, data: ArrayLike<number>, shape: number[]): Tensor {
  const t = e.upload(data, shape);
  t.requiresGrad = true;
  return t;
}

async function grad(t: Tensor): Promise<Float32Array> {
  return (await t.grad!.read()) as Float32Array;
}

gpuTest("add, mul, scale, relu: forward and gradients (odd length 37)", async (e) => {
  const av = randn(37, 1), bv = randn(37, 2), r = randn(37, 3);
  const a = leaf(e, av, [37]), b = leaf(e, bv, [37]), seed = e.upload(r, [37]);
  const y = relu(add(mul(a, b), scale(a, 0.5)));
  e.tape.backward(y, seed);
  const pre = Array.from(av, (v, i) => v * bv[i] + 0.5 * v);
  assertClose(await y.read(), pre.map((v) => Math.max(0, v)), TOL, "y");
  assertClose(await grad(a), pre.map((v, i) => (v > 0 ? r[i] * (bv[i] + 0.5) : 0)), TOL, "da");
  assertClose(await grad(b), pre.map((v, i) => (v > 0 ? r[i] * av[i] : 0)), TOL, "db");
});

gpuTest("a tensor used twice gets the sum of both gradients", async (e) => {
  const xv = randn(10, 4);
  const x = leaf(e, xv, [10]);
  const y = sum(add(mul(x, x), x)); // Σ x² + x → 2x + 1
  e.tape.backward(y);
  assertClose(await grad(x), Array.from(xv, (v) => 2 * v + 1), TOL, "dx");
});

for (const [M, K, N] of [[7, 13, 5], [1, 1, 1], [33, 17, 9], [64, 64, 64]]) {
  gpuTest(`matmul ${M}×${K} @ ${K}×${N}: forward, transposes and gradients`, async (e) => {
    const av = randn(M * K, 5), bv = randn(K * N, 6), r = randn(M * N, 7);
    const a = leaf(e, av, [M, K]), b = leaf(e, bv, [K, N]);
    const c = matmul(a, b);
    assertClose(await c.read(), matmulRef(av, bv, M, K, N), TOL, "C");
    const at = e.upload(transposeRef(av, M, K), [K, M]),
      bt = e.upload(transposeRef(bv, K, N), [N, K]);
    assertClose(
      await matmulRaw(at, bt, { transA: true, transB: true }).read(),
      matmulRef(av, bv, M, K, N),
      TOL,
      "AᵀᵀBᵀᵀ",
    );
    e.tape.backward(c, e.upload(r, [M, N]));
    assertClose(await grad(a), matmulRef(r, transposeRef(bv, K, N), M, N, K), TOL, "dA");
    assertClose(await grad(b), matmulRef(transposeRef(av, M, K), r, K, M, N), TOL, "dB");
  });
}

gpuTest("matmul refuses mismatched inner sizes with both shapes in the message", (e) => {
  assertThrows(() => matmul(e.zeros([3, 4]), e.zeros([5, 2])), RangeError, "inner sizes differ");
  return Promise.resolve();
});

gpuTest("linear (batch 3, 13 → 5, with bias): forward and gradients", async (e) => {
  const [N, I, O] = [3, 13, 5];
  const xv = randn(N * I, 8), wv = randn(O * I, 9), bv = randn(O, 10), r = randn(N * O, 11);
  const x = leaf(e, xv, [N, I]), w = leaf(e, wv, [O, I]), b = leaf(e, bv, [O]);
  const y = linear(x, w, b);
  assertClose(await y.read(), linearRef(xv, wv, bv, N, I, O), TOL, "y");
  e.tape.backward(y, e.upload(r, [N, O]));
  assertClose(await grad(x), matmulRef(r, wv, N, O, I), TOL, "dx");
  assertClose(await grad(w), matmulRef(transposeRef(r, N, O), xv, O, N, I), TOL, "dW");
  const db = new Float64Array(O);
  for (let n = 0; n < N; n++) for (let o = 0; o < O; o++) db[o] += r[n * O + o];
  assertClose(await grad(b), db, TOL, "db");
});

gpuTest("sum and mean over 1,000 odd-sized elements, with gradients", async (e) => {
  const xv = randn(1001, 12);
  const x = leaf(e, xv, [7, 11, 13]);
  const s = sum(x), m = mean(x);
  const total = xv.reduce((a, b) => a + b, 0);
  assertClose(await s.read(), [total], { atol: 1e-4, rtol: 1e-5 }, "sum");
  assertClose(await m.read(), [total / 1001], TOL, "mean");
  e.tape.backward(m);
  assertClose(await grad(x), new Array(1001).fill(1 / 1001), TOL, "dmean");
});

for (const smoothing of [0, 0.1]) {
  gpuTest(
    `softmax cross-entropy (batch 3, 7 classes, smoothing ${smoothing}): loss, gradient, argmax`,
    async (e) => {
      const [N, K] = [3, 7];
      const zv = randn(N * K, 13, -4, 4), labels = [6, 0, 3];
      const z = leaf(e, zv, [N, K]);
      const lab = e.upload(labels, [N], "u32");
      const ref = crossEntropyRef(zv, labels, N, K, smoothing);
      const parts = crossEntropyParts(z, lab, { smoothing });
      assertClose(Array.from(await parts.pred.read()), ref.pred, { atol: 0 }, "pred");
      const loss = softmaxCrossEntropy(z, lab, { smoothing });
      assertClose(await loss.read(), [ref.loss], TOL, "loss");
      e.tape.backward(loss);
      assertClose(await grad(z), ref.grad, TOL, "dz");
    },
  );
}

gpuTest("cross-entropy stays finite for logits of ±80 (log-sum-exp is shifted)", async (e) => {
  const zv = [80, -80, 0, -80, 80, 79];
  const z = e.upload(zv, [2, 3]);
  const loss = softmaxCrossEntropy(z, e.upload([1, 0], [2], "u32"));
  assertClose(await loss.read(), [crossEntropyRef(zv, [1, 0], 2, 3).loss], {
    atol: 1e-3,
    rtol: 1e-5,
  }, "loss");
});
