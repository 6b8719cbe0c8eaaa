// SGD vs torch.optim.SGD's formula in float64; the tape end to end on a 2-layer MLP.
import { assert, assertThrows } from "./assert.ts";
import { assertClose, gpuTest, randn, rng } from "./helpers.ts";
import { ParamStore } from "../engine/params.ts";
import { SGD } from "../engine/optim.ts";
import { linear } from "../engine/ops/matmul.ts";
import { relu } from "../engine/ops/elementwise.ts";
import { crossEntropyParts, softmaxCrossEntropy } from "../engine/ops/loss.ts";
import { type SgdRefOptions, sgdStepRef } from "./reference/sgd.ts";
import { type MlpRef, mlpTrainRef } from "./reference/mlp.ts";
import type { Engine } from "../engine/engine.ts";

const CONFIGS: SgdRefOptions[] = [
  { lr: 0.1, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false },
  { lr: 0.05, momentum: 0.9, dampening: 0, weightDecay: 5e-4, nesterov: true },
  { lr: 0.08, momentum: 0.9, dampening: 0.3, weightDecay: 1e-2, nesterov: false },
];

for (const o of CONFIGS) {
  gpuTest(`SGD matches torch.optim.SGD over 4 steps (${JSON.stringify(o)})`, async (e) => {
    const store = new ParamStore(e, [
      { name: "a", shape: [7, 3], init: Float32Array.from(randn(21, 1)) },
      { name: "b", shape: [5], init: Float32Array.from(randn(5, 2)) },
    ]);
    const opt = new SGD(store, o);
    const ref = { a: Float64Array.from(randn(21, 1)), b: Float64Array.from(randn(5, 2)) };
    const mom: Record<string, Float64Array | null> = { a: null, b: null };
    for (let step = 0; step < 4; step++) {
      for (const name of ["a", "b"] as const) {
        const g = Float32Array.from(
          randn(ref[name].length, 10 + step * 2 + (name === "a" ? 0 : 1)),
        );
        e.write(store.get(name).grad!, g);
        mom[name] = sgdStepRef(ref[name], g, mom[name], o);
      }
      opt.step();
    }
    assertClose(await store.read("a"), ref.a, { atol: 1e-6, rtol: 1e-5 }, "a");
    assertClose(await store.read("b"), ref.b, { atol: 1e-6, rtol: 1e-5 }, "b");
    opt.dispose();
    store.dispose();
  });
}

gpuTest("SGD refuses Nesterov without momentum, and a negative learning rate", (e) => {
  const store = new ParamStore(e, [{ name: "w", shape: [2], init: 0 }]);
  assertThrows(() => new SGD(store, { lr: 0.1, nesterov: true }), RangeError, "Nesterov");
  assertThrows(() => new SGD(store, { lr: -1 }), RangeError, "learning rate");
  store.dispose();
  return Promise.resolve();
});

function makeMlp(e: Engine, D: number, H: number, K: number, seed: number) {
  const init = (n: number, s: number, fan: number) =>
    Float32Array.from(randn(n, s, -1 / Math.sqrt(fan), 1 / Math.sqrt(fan)));
  return new ParamStore(e, [
    { name: "w1", shape: [H, D], init: init(H * D, seed, D) },
    { name: "b1", shape: [H], init: init(H, seed + 1, D) },
    { name: "w2", shape: [K, H], init: init(K * H, seed + 2, H) },
    { name: "b2", shape: [K], init: init(K, seed + 3, H) },
  ]);
}

gpuTest(
  "three SGD steps of a 2-layer MLP match a float64 reference of the same steps",
  async (e) => {
    const [N, D, H, K] = [6, 5, 9, 4];
    const store = makeMlp(e, D, H, K, 20);
    const ref: MlpRef = {
      w1: Float64Array.from(await store.read("w1")),
      b1: Float64Array.from(await store.read("b1")),
      w2: Float64Array.from(await store.read("w2")),
      b2: Float64Array.from(await store.read("b2")),
    };
    const xv = randn(N * D, 30, -2, 2);
    const labels = [0, 1, 2, 3, 1, 2];
    const o = { lr: 0.1, momentum: 0.9, dampening: 0, weightDecay: 5e-4, nesterov: true };
    const expected = mlpTrainRef(ref, xv, labels, [N, D, H, K], o, 3);
    const opt = new SGD(store, o);
    const x = e.upload(xv, [N, D]);
    const y = e.upload(labels, [N], "u32");
    const got: number[] = [];
    for (let s = 0; s < 3; s++) {
      const loss = e.scope(() => {
        const h = relu(linear(x, store.get("w1"), store.get("b1")));
        const l = softmaxCrossEntropy(linear(h, store.get("w2"), store.get("b2")), y);
        e.tape.backward(l);
        opt.step();
        return l;
      });
      got.push((await loss.read())[0]);
      loss.dispose();
    }
    assertClose(got, expected, { atol: 1e-5, rtol: 1e-5 }, "losses");
    assertClose(await store.read("w1"), ref.w1, { atol: 1e-5, rtol: 1e-4 }, "w1 after 3 steps");
    assertClose(await store.read("b2"), ref.b2, { atol: 1e-5, rtol: 1e-4 }, "b2 after 3 steps");
  },
);

gpuTest("a 2-layer MLP trained with the SGD kernel reaches ≥ 99% training accuracy", async (e) => {
  // Four Gaussian blobs in 8-D, 256 points: separable, but not by a fixed rule the net knows.
  const [N, D, H, K] = [256, 8, 32, 4];
  const r = rng(5);
  const centres = Array.from({ length: K }, () => Array.from({ length: D }, () => 4 * r() - 2));
  const xv = new Float32Array(N * D);
  const labels = new Uint32Array(N);
  for (let n = 0; n < N; n++) {
    labels[n] = n % K;
    for (let d = 0; d < D; d++) xv[n * D + d] = centres[n % K][d] + 0.6 * (r() - 0.5);
  }
  const store = makeMlp(e, D, H, K, 40);
  const opt = new SGD(store, { lr: 0.2, momentum: 0.9, nesterov: true });
  const x = e.upload(xv, [N, D]);
  const y = e.upload(labels, [N], "u32");
  const forward = () =>
    linear(relu(linear(x, store.get("w1"), store.get("b1"))), store.get("w2"), store.get("b2"));
  for (let s = 0; s < 60; s++) {
    e.scope(() => {
      e.tape.backward(softmaxCrossEntropy(forward(), y));
      opt.step();
    });
  }
  const pred = e.noGrad(() => e.scope(() => crossEntropyParts(forward(), y).pred));
  const p = Array.from(await pred.read());
  const acc = p.reduce((a, v, i) => a + (v === labels[i] ? 1 : 0), 0) / N;
  assert(acc >= 0.99, `training accuracy ${acc}`);
});
