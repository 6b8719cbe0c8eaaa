// Dropout: kept fraction, exact scaling, seeded masks (vs the CPU twin of the RNG), backward, eval.
import { assert, assertEquals } from "./assert.ts";
import { gpuTest, randn } from "./helpers.ts";
import { dropout, dropoutParams } from "../engine/ops/dropout.ts";
import { dropoutMaskRef } from "./reference/dropout.ts";
import type { Engine } from "../engine/engine.ts";

/** Nonzero random x (so y = 0 means dropped), its dropout output and the mask it shows. */
async function runDropout(e: Engine, n: number, p: number, seed: number) {
  const x = Float32Array.from(randn(n, n + seed, 0.5, 1.5)).map((v, i) => (i % 2 ? v : -v));
  const y = (await dropout(e.upload(x, [n]), p, { training: true, seed }).read()) as Float32Array;
  return { x, y, mask: y.map((v) => (v === 0 ? 0 : 1)) };
}

const agree = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let same = 0;
  for (let i = 0; i < a.length; i++) same += a[i] === b[i] ? 1 : 0;
  return same / a.length;
};

gpuTest(
  "dropout keeps 1 − p of a large tensor (within 0.003) and scales kept values exactly",
  async (e) => {
    const n = 1 << 20; // binomial σ of the kept fraction ≤ 0.0005: 0.003 is 6σ
    for (const p of [0.1, 0.3, 0.5]) {
      const { x, y, mask } = await runDropout(e, n, p, 12345);
      const kept = mask.reduce((s, m) => s + m, 0) / n;
      assert(Math.abs(kept - (1 - p)) < 0.003, `p=${p}: kept ${kept}, expected ${1 - p}`);
      const scale = Math.fround(1 / (1 - p));
      for (let i = 0; i < n; i++) {
        const want = mask[i] ? Math.fround(x[i] * scale) : 0;
        if (y[i] !== want) throw new Error(`p=${p}: y[${i}] = ${y[i]}, expected ${want}`);
      }
    }
  },
);

gpuTest(
  "dropout mask equals the CPU twin of the RNG; same seed same mask, new seed new mask",
  async (e) => {
    const n = 100_003;
    const p = 0.3;
    for (const seed of [0, 7, 2 ** 32 + 7, 2 ** 40 + 3]) {
      const { mask } = await runDropout(e, n, p, seed);
      assertEquals(Array.from(mask), Array.from(dropoutMaskRef(n, dropoutParams(n, p, seed))));
    }
    const a = (await runDropout(e, n, p, 7)).mask;
    const again = (await runDropout(e, n, p, 7)).mask;
    assertEquals(Array.from(again), Array.from(a), "same seed, same mask");
    // Independent masks agree on p² + (1 − p)² = 0.58 of the elements.
    for (const other of [8, 2 ** 32 + 7]) {
      const b = (await runDropout(e, n, p, other)).mask;
      const same = agree(a, b);
      assert(Math.abs(same - 0.58) < 0.01, `seeds 7 and ${other} agree on ${same} of the mask`);
    }
  },
);

gpuTest("dropout backward applies the forward mask and scale", async (e) => {
  const n = 4099;
  const p = 0.3;
  const x = e.upload(randn(n, 3, 0.5, 1.5), [n]);
  x.requiresGrad = true;
  const y = dropout(x, p, { training: true, seed: 99 });
  const gy = Float32Array.from(randn(n, 4));
  const yv = await y.read();
  e.tape.backward(y, e.upload(gy, [n]));
  const gx = await x.grad!.read();
  const scale = Math.fround(1 / (1 - p));
  for (let i = 0; i < n; i++) {
    const want = yv[i] === 0 ? 0 : Math.fround(gy[i] * scale);
    if (gx[i] !== want) throw new Error(`gx[${i}] = ${gx[i]}, expected ${want}`);
  }
});

gpuTest("dropout is the identity in eval and for p = 0, zeros for p = 1", async (e) => {
  const x = e.upload(randn(37, 1), [37]);
  assert(dropout(x, 0.3, { training: false, seed: 1 }) === x, "eval returns x itself");
  assert(dropout(x, 0, { training: true, seed: 1 }) === x, "p = 0 returns x itself");
  const z = await dropout(x, 1, { training: true, seed: 1 }).read();
  assertEquals(Array.from(z), new Array(37).fill(0));
});
