// conv2d: forward, backward-input, backward-weight and bias grad vs the float64 reference,
// both kernel variants forced, odd shapes; a finite-difference check through the tape; init.
import { assert, assertEquals, assertThrows } from "./assert.ts";
import { assertClose, gpuTest, randn } from "./helpers.ts";
import type { Engine } from "../engine/engine.ts";
import { tuneConv2d } from "../engine/ops/conv2d/measure.ts";
import {
  conv2d,
  conv2dBackwardInput,
  conv2dBackwardWeight,
  conv2dBiasGrad,
  type Conv2dConfig,
  conv2dForward,
  type Conv2dVariant,
} from "../engine/ops/conv2d/mod.ts";
import { biasUniform, fanIn, kaimingUniform } from "../engine/init.ts";
import { mulberry32 } from "../engine/random.ts";
import {
  conv2dBackwardInputRef,
  conv2dBackwardWeightRef,
  conv2dBiasGradRef,
  conv2dRef,
  convOut,
  type ConvShape,
} from "./reference/conv2d.ts";

// f32 sums of up to C·R·S ≈ 600 products of values in [-1, 1]
const TOL = { atol: 2e-4, rtol: 2e-4 };

const SHAPES: ConvShape[] = [
  { N: 3, C: 3, H: 7, W: 7, K: 5, R: 3, S: 3, stride: 1, padding: 1 },
  { N: 1, C: 6, H: 9, W: 9, K: 7, R: 3, S: 3, stride: 2, padding: 1 },
  { N: 3, C: 5, H: 7, W: 9, K: 6, R: 1, S: 1, stride: 2, padding: 0 },
  { N: 1, C: 3, H: 9, W: 9, K: 9, R: 7, S: 7, stride: 2, padding: 3 },
  { N: 3, C: 9, H: 8, W: 8, K: 10, R: 3, S: 3, stride: 1, padding: 0 },
  { N: 1, C: 17, H: 5, W: 6, K: 18, R: 1, S: 1, stride: 1, padding: 0 },
  { N: 3, C: 4, H: 9, W: 7, K: 3, R: 3, S: 3, stride: 2, padding: 1 },
];

function label(s: ConvShape): string {
  return `${s.N}x${s.C}x${s.H}x${s.W} * ${s.K}x${s.C}x${s.R}x${s.S} s${s.stride} p${s.padding}`;
}

async function checkShapes(e: Engine, shapes: ConvShape[], variant: Conv2dConfig) {
  for (const [i, s] of shapes.entries()) {
    const { P, Q } = convOut(s);
    const xd = randn(s.N * s.C * s.H * s.W, 10 + i);
    const wd = randn(s.K * s.C * s.R * s.S, 20 + i);
    const bd = randn(s.K, 30 + i);
    const gd = randn(s.N * s.K * P * Q, 40 + i);
    const x = e.upload(xd, [s.N, s.C, s.H, s.W]);
    const w = e.upload(wd, [s.K, s.C, s.R, s.S]);
    const b = e.upload(bd, [s.K]);
    const gy = e.upload(gd, [s.N, s.K, P, Q]);
    const geo = { stride: s.stride, padding: s.padding, variant };
    const y = conv2dForward(x, w, { ...geo, bias: b });
    const gx = conv2dBackwardInput(gy, w, { ...geo, inputShape: x.shape });
    const gw = conv2dBackwardWeight(x, gy, { ...geo, kernelSize: [s.R, s.S] });
    const gb = conv2dBiasGrad(gy);
    assertClose(await y.read(), conv2dRef(s, xd, wd, bd), TOL, `forward ${label(s)}`);
    assertClose(await gx.read(), conv2dBackwardInputRef(s, gd, wd), TOL, `dx ${label(s)}`);
    assertClose(await gw.read(), conv2dBackwardWeightRef(s, xd, gd), TOL, `dw ${label(s)}`);
    assertClose(await gb.read(), conv2dBiasGradRef(s, gd), TOL, `dbias ${label(s)}`);
    for (const t of [x, w, b, gy, y, gx, gw, gb]) t.dispose();
  }
}

// Small register tiles keep the lavapipe compile time of this file low; the default (larger)
// tiles are checked on two shapes; the generated code is the same for every tile size.
const SMALL = { TM: 4, TP: 2, TQ: 4, TK: 4, TC: 1 };

gpuTest("conv2d blocked (small tiles): all directions vs reference on odd shapes", async (e) => {
  await checkShapes(e, SHAPES, { variant: "blocked", tiles: SMALL });
});

gpuTest("conv2d blocked (default tiles): all directions vs reference", async (e) => {
  // 3×3 stride 1 on 9×9 with K = 8: the forward config resnet/WRN training uses (TM 8, 4×8)
  const main: ConvShape = { N: 3, C: 3, H: 9, W: 9, K: 8, R: 3, S: 3, stride: 1, padding: 1 };
  await checkShapes(e, [main, SHAPES[6]], { variant: "blocked" });
});

gpuTest("conv2d tiled (workgroup memory): all directions vs reference on odd shapes", async (e) => {
  await checkShapes(e, SHAPES, { variant: "tiled" });
});

gpuTest(
  "conv2d backward-weight splits a long reduction (batch 3, 16x16) into chunks",
  async (e) => {
    const s: ConvShape = { N: 3, C: 8, H: 16, W: 16, K: 8, R: 3, S: 3, stride: 1, padding: 1 };
    const { P, Q } = convOut(s);
    const xd = randn(s.N * s.C * s.H * s.W, 5), gd = randn(s.N * s.K * P * Q, 6);
    const x = e.upload(xd, [s.N, s.C, s.H, s.W]), gy = e.upload(gd, [s.N, s.K, P, Q]);
    const want = conv2dBackwardWeightRef(s, xd, gd);
    for (const variant of ["blocked", "tiled"] as Conv2dVariant[]) {
      const gw = conv2dBackwardWeight(x, gy, {
        stride: 1,
        padding: 1,
        kernelSize: [3, 3],
        variant: variant === "blocked" ? { variant, tiles: SMALL } : variant,
      });
      assertClose(await gw.read(), want, { atol: 5e-4, rtol: 5e-4 }, `dw ${variant}`);
    }
  },
);

gpuTest(
  "conv2d gradients through the tape match finite differences of the reference",
  async (e) => {
    const s: ConvShape = { N: 2, C: 3, H: 5, W: 5, K: 2, R: 3, S: 3, stride: 2, padding: 1 };
    const { P, Q } = convOut(s);
    const xd = randn(s.N * s.C * s.H * s.W, 1), wd = randn(s.K * s.C * s.R * s.S, 2);
    const bd = randn(s.K, 3), rd = randn(s.N * s.K * P * Q, 4);
    // loss(x, w, b) = Σ conv(x, w, b) · r, evaluated in float64 on the CPU
    const loss = (xv: ArrayLike<number>, wv: ArrayLike<number>, bv: ArrayLike<number>) =>
      conv2dRef(s, xv, wv, bv).reduce((a, v, i) => a + v * rd[i], 0);
    const fd = (base: Float64Array, f: (v: Float64Array) => number) =>
      Array.from(base, (_, i) => {
        const h = 1e-4, up = base.slice(), dn = base.slice();
        up[i] += h;
        dn[i] -= h;
        return (f(up) - f(dn)) / (2 * h);
      });
    for (const variant of ["blocked", "tiled"] as Conv2dVariant[]) {
      e.conv2d.forced = variant;
      try {
        const x = e.upload(xd, [s.N, s.C, s.H, s.W]), w = e.upload(wd, [s.K, s.C, s.R, s.S]);
        const b = e.upload(bd, [s.K]);
        for (const t of [x, w, b]) t.requiresGrad = true;
        const y = conv2d(x, w, { stride: 2, padding: 1, bias: b });
        e.tape.backward(y, e.upload(rd, y.shape));
        const tol = { atol: 1e-3, rtol: 1e-3 };
        assertClose(await x.grad!.read(), fd(xd, (v) => loss(v, wd, bd)), tol, `${variant} dx`);
        assertClose(await w.grad!.read(), fd(wd, (v) => loss(xd, v, bd)), tol, `${variant} dw`);
        assertClose(await b.grad!.read(), fd(bd, (v) => loss(xd, wd, v)), tol, `${variant} db`);
      } finally {
        e.conv2d.forced = null;
      }
    }
  },
);

gpuTest("conv2d rejects mismatched shapes with a RangeError naming the op", (e) => {
  const x = e.zeros([1, 3, 5, 5]), w = e.zeros([4, 2, 3, 3]);
  assertThrows(() => conv2d(x, w), RangeError, "conv2dForward: x [1,3,5,5] has 3 channels");
  assertThrows(() => conv2d(x, e.zeros([4, 3, 7, 7])), RangeError, "gives no output");
  assertThrows(() => conv2d(x, e.zeros([4, 3, 3, 3]), { stride: 0 }), RangeError, "stride");
  return Promise.resolve();
});

Deno.test("kaimingUniform and biasUniform: deterministic, torch bounds and fan-in", () => {
  const shape = [16, 3, 3, 3];
  assertEquals(fanIn(shape), 27);
  assertEquals(fanIn([10, 512]), 512);
  const a = kaimingUniform(shape, mulberry32(7)), b = kaimingUniform(shape, mulberry32(7));
  assertEquals(Array.from(a), Array.from(b));
  assert(Array.from(a).some((v, i) => v !== kaimingUniform(shape, mulberry32(8))[i]));
  const bound = 1 / Math.sqrt(27);
  assert(a.every((v) => Math.abs(v) <= bound), "weights within ±1/√fanIn");
  assert(Math.max(...a.map(Math.abs)) > 0.9 * bound, "weights fill the range");
  const bias = biasUniform(64, 27, mulberry32(1));
  assertEquals(bias.length, 64);
  assert(bias.every((v) => Math.abs(v) <= bound));
  assertEquals(Array.from(bias), Array.from(biasUniform(64, 27, mulberry32(1))));
});

gpuTest("tuneConv2d times the candidates and conv2d then uses the recorded choice", async (e) => {
  const s: ConvShape = { N: 1, C: 3, H: 7, W: 7, K: 5, R: 3, S: 3, stride: 1, padding: 1 };
  const candidates: Conv2dConfig[] = [{ variant: "blocked", tiles: SMALL }, { variant: "tiled" }];
  const results = await tuneConv2d(e, [{ x: [1, 3, 7, 7], w: [5, 3, 3, 3], padding: 1 }], {
    candidates,
    runs: 1,
  });
  assertEquals(results.map((r) => r.direction), ["forward", "backwardInput", "backwardWeight"]);
  for (const r of results) {
    assertEquals(r.ms.length, 2);
    assert(r.ms.every((m) => m.ms > 0));
    assert(candidates.includes(e.conv2d.choices.get(r.key)!), `choice recorded for ${r.key}`);
  }
  const xd = randn(3 * 49, 1), wd = randn(5 * 27, 2);
  const y = conv2d(e.upload(xd, [1, 3, 7, 7]), e.upload(wd, [5, 3, 3, 3]), { padding: 1 });
  assertClose(await y.read(), conv2dRef(s, xd, wd), TOL, "conv2d after tuning");
  e.conv2d.choices.clear();
});
