// Pooling: max, average, adaptive average and flatten, forward and gradients vs the float64 reference.
import { assertEquals, assertThrows } from "./assert.ts";
import { assertClose, gpuTest, randn } from "./helpers.ts";
import { adaptiveAvgPool2d, avgPool2d, flatten, maxPool2d } from "../engine/ops/pool.ts";
import type { Engine } from "../engine/engine.ts";
import type { Tensor } from "../engine/tensor.ts";
import {
  avgPoolBackwardRef,
  avgPoolForwardRef,
  maxPoolBackwardRef,
  maxPoolForwardRef,
  poolOutputShape,
  type PoolRefWindow,
} from "./reference/pool.ts";

const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** Runs op on random x with gradient gy; returns y, x's gradient and the CPU inputs (f32). */
async function run(e: Engine, shape: number[], seed: number, op: (x: Tensor) => Tensor) {
  const x = Float32Array.from(randn(size(shape), seed, -3, 3));
  const xt = e.upload(x, shape);
  xt.requiresGrad = true;
  const y = op(xt);
  const gy = Float32Array.from(randn(y.size, seed + 1));
  e.tape.backward(y, e.upload(gy, y.shape));
  return { x, gy, yShape: y.shape, y: await y.read(), gx: await xt.grad!.read() };
}

const EXACT = { atol: 0, rtol: 0 };

gpuTest("max pool forward and gradient, odd sizes and windows", async (e) => {
  const cases: [number[], number, number, number][] = [
    [[3, 3, 7, 7], 3, 2, 1],
    [[1, 5, 9, 9], 3, 2, 1],
    [[2, 3, 8, 8], 3, 2, 1],
    [[3, 2, 9, 7], 2, 2, 0],
    [[1, 3, 5, 5], 3, 1, 1],
    [[2, 7, 32, 32], 3, 2, 1],
  ];
  for (const [shape, kernel, stride, padding] of cases) {
    const o: PoolRefWindow = { shape, kernel, stride, padding };
    const what = `[${shape}] k${kernel} s${stride} p${padding}`;
    const r = await run(e, shape, size(shape), (x) => maxPool2d(x, { kernel, stride, padding }));
    const want = maxPoolForwardRef(r.x, o);
    assertEquals([...r.yShape], poolOutputShape(o), `shape ${what}`);
    assertClose(r.y, want.y, EXACT, `y ${what}`);
    const gx = maxPoolBackwardRef(r.gy, want.argmax, r.x.length);
    // Up to 4 overlapping windows add into one input: f32 sums of a few terms.
    assertClose(r.gx, gx, { atol: 1e-6, rtol: 1e-6 }, `gx ${what}`);
  }
});

gpuTest("max pool picks the first maximum on ties and rejects bad windows", async (e) => {
  const shape = [1, 2, 5, 5];
  const x = new Float32Array(50).map((_, i) => (i % 3 === 0 ? 2 : 1));
  const xt = e.upload(x, shape);
  xt.requiresGrad = true;
  const y = maxPool2d(xt);
  const gy = Float32Array.from(randn(y.size, 5));
  e.tape.backward(y, e.upload(gy, y.shape));
  const want = maxPoolForwardRef(x, { shape, kernel: 3, stride: 2, padding: 1 });
  assertClose(await y.read(), want.y, EXACT, "tied y");
  assertClose(await xt.grad!.read(), maxPoolBackwardRef(gy, want.argmax, 50), {
    atol: 1e-6,
  }, "tied gx");
  const z = e.zeros([1, 1, 5, 5]);
  assertThrows(() => maxPool2d(z, { kernel: 3, padding: 2 }), RangeError, "padding");
  assertThrows(() => maxPool2d(z, { kernel: 7, padding: 0 }), RangeError, "does not fit");
});

gpuTest("avg pool forward and gradient (stride = kernel, uncovered edges get 0)", async (e) => {
  const cases: [number[], number][] = [[[3, 3, 7, 7], 2], [[1, 5, 9, 9], 3], [[2, 6, 8, 8], 8]];
  for (const [shape, kernel] of cases) {
    const o: PoolRefWindow = { shape, kernel, stride: kernel, padding: 0 };
    const what = `[${shape}] k${kernel}`;
    const r = await run(e, shape, size(shape) + 1, (x) => avgPool2d(x, kernel));
    assertEquals([...r.yShape], poolOutputShape(o), `shape ${what}`);
    assertClose(r.y, avgPoolForwardRef(r.x, o), { atol: 1e-6, rtol: 1e-5 }, `y ${what}`);
    assertClose(r.gx, avgPoolBackwardRef(r.gy, o), { atol: 1e-7, rtol: 1e-6 }, `gx ${what}`);
  }
});

gpuTest("adaptive avg pool to 1×1 and its gradient", async (e) => {
  for (const shape of [[3, 3, 7, 7], [1, 5, 4, 4], [2, 3, 9, 5]]) {
    const r = await run(e, shape, size(shape) + 2, adaptiveAvgPool2d);
    const hw = shape[2] * shape[3];
    const want = new Float64Array(shape[0] * shape[1]);
    r.x.forEach((v, i) => (want[Math.floor(i / hw)] += v / hw));
    assertEquals([...r.yShape], [shape[0], shape[1], 1, 1]);
    assertClose(r.y, want, { atol: 1e-6, rtol: 1e-5 }, `y [${shape}]`);
    const gx = r.x.map((_, i) => r.gy[Math.floor(i / hw)] / hw);
    assertClose(r.gx, gx, { atol: 1e-7, rtol: 1e-6 }, `gx [${shape}]`);
  }
});

gpuTest("flatten copies to [N, C·H·W] and its gradient reshapes back", async (e) => {
  const r = await run(e, [3, 5, 1, 1], 9, flatten);
  assertEquals([...r.yShape], [3, 5]);
  assertClose(r.y, r.x, EXACT, "y");
  assertClose(r.gx, r.gy, EXACT, "gx");
  const x = e.upload(randn(3 * 2 * 3 * 3, 4), [3, 2, 3, 3]);
  const y = flatten(x);
  x.dispose();
  assertEquals(y.shape, [3, 18]);
  assertClose(await y.read(), Float32Array.from(randn(54, 4)), EXACT, "flatten outlives x");
});

/** Central differences of L = Σ gy·op(x) on the float64 reference. */
function finiteDifferences(
  x: Float32Array,
  gy: Float32Array,
  f: (x: Float64Array) => Float64Array,
) {
  const v = Float64Array.from(x);
  const loss = () => f(v).reduce((s, y, i) => s + y * gy[i], 0);
  const h = 1e-4;
  return v.map((keep, i) => {
    v[i] = keep + h;
    const up = loss();
    v[i] = keep - h;
    const down = loss();
    v[i] = keep;
    return (up - down) / (2 * h);
  });
}

gpuTest("pool gradients match finite differences on tiny shapes", async (e) => {
  const mp: PoolRefWindow = { shape: [2, 3, 5, 5], kernel: 3, stride: 2, padding: 1 };
  const m = await run(e, mp.shape as number[], 77, (x) => maxPool2d(x));
  const fdMax = finiteDifferences(m.x, m.gy, (x) => maxPoolForwardRef(x, mp).y);
  assertClose(m.gx, fdMax, { atol: 1e-4, rtol: 1e-3 }, "max pool vs finite differences");
  const ap: PoolRefWindow = { shape: [2, 3, 5, 5], kernel: 2, stride: 2, padding: 0 };
  const a = await run(e, ap.shape as number[], 78, (x) => avgPool2d(x, 2));
  const fdAvg = finiteDifferences(a.x, a.gy, (x) => avgPoolForwardRef(x, ap));
  assertClose(a.gx, fdAvg, { atol: 1e-4, rtol: 1e-3 }, "avg pool vs finite differences");
});
