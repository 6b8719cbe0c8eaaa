// doctor's correctness checks: every kernel family on this adapter against the float64 references.
import type { Engine } from "../engine/engine.ts";
import type { Tensor } from "../engine/tensor.ts";
import {
  conv2dBackwardInput,
  conv2dBackwardWeight,
  conv2dForward,
} from "../engine/ops/conv2d/mod.ts";
import { candidatesFor } from "../engine/ops/conv2d/candidates.ts";
import { conv2dGeometry } from "../engine/ops/conv2d/geometry.ts";
import { type Conv2dConfig, isWinograd, winogradApplies } from "../engine/ops/conv2d/choice.ts";
import { matmulRaw } from "../engine/ops/matmul.ts";
import { MATMUL_VARIANTS, matmulVec4 } from "./matmul_vec4.ts";
import { batchNorm2d } from "../engine/ops/batch_norm.ts";
import { maxPool2d } from "../engine/ops/pool.ts";
import { softmaxCrossEntropy } from "../engine/ops/loss.ts";
import { ParamStore } from "../engine/params.ts";
import { SGD } from "../engine/optim.ts";
import { uniformValues } from "../engine/random.ts";
import {
  conv2dBackwardInputRef,
  conv2dBackwardWeightRef,
  conv2dRef,
  type ConvShape,
} from "../tests/reference/conv2d.ts";
import { matmulRef } from "../tests/reference/matmul.ts";
import { scaledError as relError } from "../tests/reference/error.ts";
import { crossEntropyRef } from "../tests/reference/loss.ts";
import { sgdStepRef } from "../tests/reference/sgd.ts";
import { batchNormBackwardRef, batchNormForwardRef } from "../tests/reference/batch_norm.ts";
import { maxPoolBackwardRef, maxPoolForwardRef } from "../tests/reference/pool.ts";

/** One kernel family's check: the worst relative error against the reference and its bound. */
export interface Check {
  name: string;
  error: number;
  tolerance: number;
  ok: boolean;
}

function values(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  return Float32Array.from(uniformValues(n, seed, lo, hi));
}

/** Runs `fn` in a scope, keeps what it returns, reads it back and frees it. */
async function run(e: Engine, fn: () => Tensor[]): Promise<Float32Array[]> {
  const kept = e.scope(() => fn().map((t) => e.keep(t)));
  const out: Float32Array[] = [];
  for (const t of kept) {
    out.push((await e.read(t)) as Float32Array);
    t.dispose();
  }
  return out;
}

function leaf(e: Engine, v: ArrayLike<number>, shape: number[]): Tensor {
  const t = e.upload(v, shape);
  t.requiresGrad = true;
  return t;
}

/** f32 kernels against float64: 3e-5 for direct sums of up to a few hundred terms. */
const F32 = 3e-5;
/** Winograd's transforms add rounding (measured ~1e-6 relative on these shapes). */
const WINOGRAD = 1e-4;

async function convChecks(e: Engine, out: Check[]): Promise<void> {
  const shapes: ConvShape[] = [
    { N: 3, C: 5, H: 9, W: 7, K: 6, R: 3, S: 3, stride: 1, padding: 1 },
    { N: 2, C: 3, H: 9, W: 9, K: 8, R: 3, S: 3, stride: 2, padding: 1 },
    { N: 2, C: 6, H: 7, W: 7, K: 5, R: 1, S: 1, stride: 2, padding: 0 },
  ];
  for (const s of shapes) {
    const xv = values(s.N * s.C * s.H * s.W, 1), wv = values(s.K * s.C * s.R * s.S, 2);
    const g = conv2dGeometry(
      "doctor",
      [s.N, s.C, s.H, s.W],
      [s.K, s.C, s.R, s.S],
      s.stride,
      s.padding,
    );
    const gyv = values(s.N * s.K * g.P * g.Q, 3);
    const want = {
      forward: conv2dRef(s, xv, wv),
      backwardInput: conv2dBackwardInputRef(s, gyv, wv),
      backwardWeight: conv2dBackwardWeightRef(s, xv, gyv),
    };
    const seen = new Set<string>();
    for (const dir of ["forward", "backwardInput", "backwardWeight"] as const) {
      // Every family, whatever this adapter would pick: the tuner's candidates plus each default.
      const all: Conv2dConfig[] = [...candidatesFor(e, dir, g), { variant: "blocked" }, {
        variant: "tiled",
      }];
      // Winograd's GEMM in its GPU form too (a tuner candidate on hardware adapters only).
      if (winogradApplies(g)) all.push({ variant: "winograd4", tiles: { BM: 64, BN: 64 } });
      for (const cfg of all) {
        const label = cfg.variant + (cfg.tiles ? " " + JSON.stringify(cfg.tiles) : "");
        const key = `${label}|${dir}|${JSON.stringify(s)}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const [got] = await run(e, () => {
          const x = e.upload(xv, [s.N, s.C, s.H, s.W]), w = e.upload(wv, [s.K, s.C, s.R, s.S]);
          const gy = e.upload(gyv, [s.N, s.K, g.P, g.Q]);
          const o = { stride: s.stride, padding: s.padding, variant: cfg as Conv2dConfig };
          return [
            dir === "forward"
              ? conv2dForward(x, w, o)
              : dir === "backwardInput"
              ? conv2dBackwardInput(gy, w, { ...o, inputShape: x.shape })
              : conv2dBackwardWeight(x, gy, { ...o, kernelSize: [s.R, s.S] }),
          ];
        });
        const tol = isWinograd(cfg.variant) ? WINOGRAD : F32;
        const error = relError(got, want[dir]);
        const name =
          `conv2d ${dir} ${label} ${s.R}×${s.R} s${s.stride} on [${s.N},${s.C},${s.H},${s.W}]`;
        out.push({ name, error, tolerance: tol, ok: error <= tol });
      }
    }
  }
}

async function matmulChecks(e: Engine, out: Check[]): Promise<void> {
  const [M, K, N] = [13, 24, 20];
  const av = values(M * K, 4), bv = values(K * N, 5);
  const want = matmulRef(av, bv, M, K, N);
  const [general] = await run(e, () => [matmulRaw(e.upload(av, [M, K]), e.upload(bv, [K, N]))]);
  out.push({ name: "matmul general", error: relError(general, want), tolerance: F32, ok: true });
  for (const variant of MATMUL_VARIANTS) {
    const [got] = await run(e, () => [
      matmulVec4(e.upload(av, [M, K]), e.upload(bv, [K, N]), { variant }),
    ]);
    out.push({
      name: `matmul vec4 ${variant}`,
      error: relError(got, want),
      tolerance: F32,
      ok: true,
    });
  }
}

async function layerChecks(e: Engine, out: Check[]): Promise<void> {
  const shape = [3, 5, 7, 9];
  const n = shape.reduce((a, b) => a * b, 1);
  const xv = values(n, 6, -2, 3), gyv = values(n, 7);
  const wv = values(5, 8, 0.5, 1.5), bv = values(5, 9, -0.5, 0.5);
  const o = { shape, training: true, relu: true };
  const fwd = batchNormForwardRef(xv, wv, bv, new Float64Array(5), new Float64Array(5).fill(1), o);
  const bwd = batchNormBackwardRef(gyv, xv, wv, fwd, o);
  const [y, dx] = await run(e, () => {
    const x = leaf(e, xv, shape);
    const bn = {
      weight: e.upload(wv, [5]),
      bias: e.upload(bv, [5]),
      runningMean: e.upload(new Float32Array(5), [5]),
      runningVar: e.upload(new Float32Array(5).fill(1), [5]),
    };
    const y = batchNorm2d(x, bn, { training: true, relu: true });
    e.tape.backward(y, e.upload(gyv, shape));
    return [y, x.grad!];
  });
  out.push({
    name: "batch norm + ReLU forward",
    error: relError(y, fwd.y),
    tolerance: F32,
    ok: true,
  });
  out.push({
    name: "batch norm + ReLU backward",
    error: relError(dx, bwd.dx),
    tolerance: 1e-4,
    ok: true,
  });
  const win = { shape, kernel: 3, stride: 2, padding: 1 };
  const pf = maxPoolForwardRef(xv, win);
  const pgy = values(pf.y.length, 10);
  const [py, pdx] = await run(e, () => {
    const x = leaf(e, xv, shape);
    const y = maxPool2d(x, { kernel: 3, stride: 2, padding: 1 });
    e.tape.backward(y, e.upload(pgy, y.shape));
    return [y, x.grad!];
  });
  out.push({ name: "max pool forward", error: relError(py, pf.y), tolerance: 1e-7, ok: true });
  const pw = maxPoolBackwardRef(pgy, pf.argmax, n);
  out.push({ name: "max pool backward", error: relError(pdx, pw), tolerance: 1e-6, ok: true });
  const [N, Kc] = [7, 10];
  const z = values(N * Kc, 11, -3, 3), labels = Array.from({ length: N }, (_, i) => (i * 3) % Kc);
  const ce = crossEntropyRef(z, labels, N, Kc, 0.1);
  const [loss, dz] = await run(e, () => {
    const logits = leaf(e, z, [N, Kc]);
    const l = softmaxCrossEntropy(logits, e.upload(labels, [N], "u32"), { smoothing: 0.1 });
    e.tape.backward(l);
    return [l, logits.grad!];
  });
  const lossErr = Math.abs(loss[0] - ce.loss) / Math.abs(ce.loss);
  out.push({ name: "softmax-CE loss", error: lossErr, tolerance: F32, ok: true });
  out.push({ name: "softmax-CE gradient", error: relError(dz, ce.grad), tolerance: F32, ok: true });
  const P = 1024; // the flat buffers hold whole 256-byte blocks
  const w0 = values(P, 12), g0 = values(P, 13);
  const store = new ParamStore(e, [{ name: "w", shape: [P], init: w0 }]);
  try {
    e.write(store.grads, g0);
    const o2 = { lr: 0.08, momentum: 0.9, dampening: 0, weightDecay: 5e-4, nesterov: true };
    const sgd = new SGD(store, o2);
    const w = Float64Array.from(w0);
    let m: Float64Array | null = null;
    for (let i = 0; i < 2; i++) {
      e.scope(() => sgd.step());
      m = sgdStepRef(w, g0, m, o2);
    }
    const got = (await e.read(store.get("w"))) as Float32Array;
    out.push({
      name: "SGD Nesterov + weight decay, 2 steps",
      error: relError(got, w),
      tolerance: 1e-6,
      ok: true,
    });
    sgd.dispose();
  } finally {
    store.dispose();
  }
}

/** Runs every check; each carries its own verdict (`ok`). */
export async function kernelChecks(engine: Engine): Promise<Check[]> {
  const out: Check[] = [];
  await convChecks(engine, out);
  await matmulChecks(engine, out);
  await layerChecks(engine, out);
  for (const c of out) c.ok = c.error <= c.tolerance;
  return out;
}
