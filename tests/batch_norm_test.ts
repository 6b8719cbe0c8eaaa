// Batch norm: forward (train, eval, running statistics) and gradients against the float64 reference.
import { assert } from "./assert.ts";
import { assertClose, gpuTest, randn } from "./helpers.ts";
import {
  batchNorm2d,
  batchNormBackward,
  batchNormForward,
  batchNormSplit,
  type BatchNormState,
} from "../engine/ops/batch_norm.ts";
import type { Engine } from "../engine/engine.ts";
import type { Tensor } from "../engine/tensor.ts";
import {
  batchNormBackwardRef,
  batchNormForwardRef,
  type BatchNormRefOptions,
} from "./reference/batch_norm.ts";

const f32 = (a: ArrayLike<number>) => Float32Array.from(a);

/** Random f32 inputs for one case, uploaded, and their CPU copies (already rounded to f32). */
function setup(e: Engine, shape: number[], seed: number, lo = -2, hi = 3) {
  const size = shape.reduce((a, b) => a * b, 1);
  const c = shape[1];
  const cpu = {
    x: f32(randn(size, seed, lo, hi)),
    weight: f32(randn(c, seed + 1, 0.5, 1.5)),
    bias: f32(randn(c, seed + 2, -0.5, 0.5)),
    runningMean: f32(randn(c, seed + 3, -0.2, 0.2)),
    runningVar: f32(randn(c, seed + 4, 0.5, 2)),
    residual: f32(randn(size, seed + 5)),
    gy: f32(randn(size, seed + 6)),
  };
  const bn: BatchNormState = {
    weight: e.upload(cpu.weight, [c]),
    bias: e.upload(cpu.bias, [c]),
    runningMean: e.upload(cpu.runningMean, [c]),
    runningVar: e.upload(cpu.runningVar, [c]),
  };
  const x = e.upload(cpu.x, shape);
  const residual = e.upload(cpu.residual, shape);
  return { cpu, bn, x, residual, gy: e.upload(cpu.gy, shape) };
}

type Case = ReturnType<typeof setup>;
/** One test case's settings: the residual is a flag here (its values come from setup). */
type Opts = { training?: boolean; relu?: boolean; residual?: boolean };

function refOptions(k: Case, shape: number[], o: Opts): BatchNormRefOptions {
  return { shape, training: true, ...o, residual: o.residual ? k.cpu.residual : undefined };
}

async function checkForward(e: Engine, shape: number[], o: Opts) {
  const k = setup(e, shape, shape.reduce((a, b) => a * b + 7, 11));
  const ro = refOptions(k, shape, o);
  const want = batchNormForwardRef(
    k.cpu.x,
    k.cpu.weight,
    k.cpu.bias,
    k.cpu.runningMean,
    k.cpu.runningVar,
    ro,
  );
  const r = batchNormForward(k.x, k.bn, {
    training: ro.training,
    relu: o.relu,
    residual: o.residual ? k.residual : undefined,
  });
  const what = `${ro.training ? "train" : "eval"} [${shape}] relu=${!!o.relu} res=${!!o.residual}`;
  const tol = { atol: 2e-5, rtol: 2e-5 };
  assertClose(await r.y.read(), want.y, tol, `y ${what}`);
  assertClose(await r.mean.read(), want.mean, tol, `mean ${what}`);
  const invstd = want.variance.map((v) => 1 / Math.sqrt(v + 1e-5));
  assertClose(await r.invstd.read(), invstd, { atol: 1e-5, rtol: 1e-5 }, `invstd ${what}`);
  assertClose(await k.bn.runningMean.read(), want.runningMean, tol, `running mean ${what}`);
  assertClose(await k.bn.runningVar.read(), want.runningVar, tol, `running var ${what}`);
}

gpuTest("batch norm forward, training: output, batch statistics, running statistics", async (e) => {
  const shapes = [[3, 3, 7, 7], [1, 5, 9, 9], [4, 6, 1, 1], [13, 3, 32, 32], [16, 5, 32, 32]];
  // The two-level reduction is exercised: several chunks, the last one shorter.
  const uneven = batchNormSplit([13, 3, 32, 32], e.gpu.software);
  assert(uneven.S > 1 && 13 % uneven.NS !== 0, `[13,3,32,32] splits unevenly: ${uneven.S}`);
  assert(batchNormSplit([16, 5, 32, 32], e.gpu.software).S > 1, "[16,5,32,32] splits");
  for (const s of shapes) await checkForward(e, s, {});
  await checkForward(e, [3, 3, 7, 7], { relu: true });
  await checkForward(e, [3, 5, 9, 9], { relu: true, residual: true });
  await checkForward(e, [1, 7, 5, 5], { residual: true });
});

gpuTest("batch norm forward, eval: running statistics, left unchanged", async (e) => {
  await checkForward(e, [3, 3, 7, 7], { training: false });
  await checkForward(e, [1, 6, 9, 9], { training: false, relu: true, residual: true });
});

gpuTest("batch norm statistics are safe for a large common offset (1000 ± 1)", async (e) => {
  // E[x²] − E[x]² in f32 would lose the variance here (1000² · 2⁻²⁴ ≈ 0.06 vs variance 0.33).
  for (const shape of [[3, 3, 7, 7], [16, 5, 32, 32]]) {
    const k = setup(e, shape, 99, 999, 1001);
    const ro = refOptions(k, shape, {});
    const want = batchNormForwardRef(
      k.cpu.x,
      k.cpu.weight,
      k.cpu.bias,
      k.cpu.runningMean,
      k.cpu.runningVar,
      ro,
    );
    const r = batchNormForward(k.x, k.bn, { training: true });
    // f32 inputs near 1000 carry 6e-5 absolute error per value; the output is ~unit scale.
    assertClose(await r.y.read(), want.y, { atol: 1e-3, rtol: 1e-3 }, `offset y [${shape}]`);
    assertClose(await k.bn.runningVar.read(), want.runningVar, { rtol: 1e-3 }, "offset var");
    assertClose(await k.bn.runningMean.read(), want.runningMean, { rtol: 1e-6 }, "offset mean");
  }
});

async function gradients(e: Engine, k: Case, o: Opts) {
  const params: Tensor[] = [k.x, k.bn.weight, k.bn.bias, k.residual];
  for (const t of params) t.requiresGrad = true;
  const y = batchNorm2d(k.x, k.bn, {
    training: o.training ?? true,
    relu: o.relu,
    residual: o.residual ? k.residual : undefined,
  });
  e.tape.backward(y, k.gy);
  const read = async (t: Tensor) => t.grad ? await t.grad.read() : null;
  return {
    dx: await read(k.x),
    dweight: await read(k.bn.weight),
    dbias: await read(k.bn.bias),
    dres: await read(k.residual),
  };
}

async function checkBackward(e: Engine, shape: number[], o: Opts) {
  const k = setup(e, shape, shape.reduce((a, b) => a * b + 3, 5));
  const ro = refOptions(k, shape, o);
  const fwd = batchNormForwardRef(
    k.cpu.x,
    k.cpu.weight,
    k.cpu.bias,
    k.cpu.runningMean,
    k.cpu.runningVar,
    ro,
  );
  const want = batchNormBackwardRef(k.cpu.gy, k.cpu.x, k.cpu.weight, fwd, ro);
  const got = await gradients(e, k, o);
  const what = `${ro.training ? "train" : "eval"} [${shape}] relu=${!!o.relu} res=${!!o.residual}`;
  const m = shape[0] * shape[2] * shape[3];
  // Sums over M values: absolute error grows like √M · 2⁻²⁴ · |terms|.
  const sumTol = { atol: 1e-5 * Math.sqrt(m), rtol: 1e-4 };
  assertClose(got.dx!, want.dx, { atol: 1e-4, rtol: 1e-3 }, `dx ${what}`);
  assertClose(got.dweight!, want.dweight, sumTol, `dweight ${what}`);
  assertClose(got.dbias!, want.dbias, sumTol, `dbias ${what}`);
  if (o.residual) assertClose(got.dres!, want.dres, { atol: 0, rtol: 0 }, `dres ${what}`);
  else assert(got.dres === null, "no residual gradient without a residual");
}

gpuTest("batch norm gradients, training, with and without relu and residual", async (e) => {
  await checkBackward(e, [3, 3, 7, 7], {});
  await checkBackward(e, [3, 3, 7, 7], { relu: true });
  await checkBackward(e, [1, 5, 9, 9], { relu: true, residual: true });
  await checkBackward(e, [3, 6, 9, 9], { residual: true });
  await checkBackward(e, [13, 3, 32, 32], { relu: true });
  await checkBackward(e, [16, 5, 32, 32], { relu: true, residual: true });
});

gpuTest("batch norm gradients, eval mode (affine only)", async (e) => {
  await checkBackward(e, [3, 3, 7, 7], { training: false });
  await checkBackward(e, [1, 5, 9, 9], { training: false, relu: true, residual: true });
});

gpuTest("batch norm gradients match finite differences (training, relu, ± residual)", async (e) => {
  for (const o of [{ relu: true, residual: true }, { relu: true }]) await finiteDiff(e, o);
});

async function finiteDiff(e: Engine, o: Opts) {
  const shape = [2, 3, 3, 3];
  const k = setup(e, shape, 1234);
  const got = await gradients(e, k, o);
  const ro = refOptions(k, shape, o);
  const inputs = {
    dx: Float64Array.from(k.cpu.x),
    dweight: Float64Array.from(k.cpu.weight),
    dbias: Float64Array.from(k.cpu.bias),
    dres: Float64Array.from(k.cpu.residual),
  };
  const loss = () => {
    const r = batchNormForwardRef(
      inputs.dx,
      inputs.dweight,
      inputs.dbias,
      k.cpu.runningMean,
      k.cpu.runningVar,
      { ...ro, residual: o.residual ? inputs.dres : undefined },
    );
    return r.y.reduce((s, v, i) => s + v * k.cpu.gy[i], 0);
  };
  const h = 1e-6;
  for (const name of ["dx", "dweight", "dbias", "dres"] as const) {
    const v = inputs[name];
    const fd = new Float64Array(v.length);
    for (let i = 0; i < v.length; i++) {
      const keep = v[i];
      v[i] = keep + h;
      const up = loss();
      v[i] = keep - h;
      fd[i] = (up - loss()) / (2 * h);
      v[i] = keep;
    }
    if (name === "dres" && !o.residual) continue;
    assertClose(got[name]!, fd, { atol: 2e-4, rtol: 1e-3 }, `finite differences ${name}`);
  }
}

gpuTest(
  "batch norm gives the same results under the software and the hardware tuning",
  async (e) => {
    // Tests run one tuning per adapter; this runs the other one too (other splits and runs).
    for (const shape of [[13, 3, 32, 32], [3, 5, 9, 9], [2, 6, 4, 4]]) {
      const k = setup(e, shape, 4321);
      const ro = refOptions(k, shape, { relu: true, residual: true });
      const fwd = batchNormForwardRef(
        k.cpu.x,
        k.cpu.weight,
        k.cpu.bias,
        k.cpu.runningMean,
        k.cpu.runningVar,
        ro,
      );
      const want = batchNormBackwardRef(k.cpu.gy, k.cpu.x, k.cpu.weight, fwd, ro);
      for (const software of [true, false]) {
        const split = batchNormSplit(shape, software);
        const what = `[${shape}] ${software ? "software" : "hardware"} split ${
          JSON.stringify(split)
        }`;
        const bn = { ...k.bn, runningMean: e.upload(k.cpu.runningMean, [shape[1]]) };
        const opts = { training: true, relu: true, residual: k.residual, split };
        const f = batchNormForward(k.x, bn, opts);
        assertClose(await f.y.read(), fwd.y, { atol: 2e-5, rtol: 2e-5 }, `y ${what}`);
        const saved = { ...f, x: k.x, weight: bn.weight, bias: bn.bias, training: true };
        const g = batchNormBackward(k.gy, { ...saved, relu: true, residual: true }, {
          residualGrad: true,
          split,
        });
        assertClose(await g.dx.read(), want.dx, { atol: 1e-4, rtol: 1e-3 }, `dx ${what}`);
        const sumTol = { atol: 1e-5 * Math.sqrt(fwd.y.length / shape[1]), rtol: 1e-4 };
        assertClose(await g.dweight.read(), want.dweight, sumTol, `dweight ${what}`);
        assertClose(await g.dres!.read(), want.dres, { atol: 0, rtol: 0 }, `dres ${what}`);
      }
    }
  },
);
