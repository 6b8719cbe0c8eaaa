// Batch norm for NCHW f32 (PyTorch's BatchNorm2d), fused with a residual add and ReLU, with gradients.
import type { Tensor } from "../tensor.ts";
import { grid } from "../grid.ts";
import type { KernelSource } from "../kernel.ts";
import { reduceVariant } from "./reduce.ts";
import code from "../../kernels/batch_norm.wgsl" with { type: "text" };
import subgroupCode from "../../kernels/batch_norm_subgroups.wgsl" with { type: "text" };

const SRC = { name: "batch_norm.wgsl", code };
/** The two reductions' subgroup variants, compiled only where the device has `subgroups`. */
const SUBGROUP_SRC = {
  name: "batch_norm_subgroups.wgsl",
  code: `enable subgroups;\n${code}\n${subgroupCode}`,
};

/** The source and entry point of one of the two per-channel reductions on this engine. */
function reduction(
  e: Tensor["engine"],
  entry: "stats" | "backwardReduce",
): [KernelSource, string] {
  return reduceVariant(e, "batchNorm") === "subgroups"
    ? [SUBGROUP_SRC, `${entry}Subgroups`]
    : [SRC, entry];
}
/** Threads per workgroup, elementwise passes and reductions. */
const WG = 64;
const RWG = 64;

/**
 * Per-adapter tuning, measured on lavapipe (software) where fewer, longer-running invocations
 * win (runs of 16 values: 2–3× faster than one value per invocation; 1–2 chunks per channel
 * beat 8). Real GPUs get more workgroups and short runs, which keep loads coalesced.
 */
const TUNING = {
  software: { targetGroups: 128, minPerThread: 64, maxRun: 16 },
  hardware: { targetGroups: 1024, minPerThread: 32, maxRun: 4 },
};

/** How one batch-norm shape is split: S chunks of NS images per channel, runs of V values. */
export interface BatchNormSplit {
  S: number;
  NS: number;
  V: number;
}

/** The split of the per-channel reductions and the run length for an [N, C, H, W] input. */
export function batchNormSplit(shape: readonly number[], software: boolean): BatchNormSplit {
  const [n, c, h, w] = shape;
  const hw = h * w;
  const t = software ? TUNING.software : TUNING.hardware;
  const byGroups = Math.ceil(t.targetGroups / c);
  const byWork = Math.floor((n * hw) / (RWG * t.minPerThread));
  const ns = Math.ceil(n / Math.max(1, Math.min(n, byGroups, byWork)));
  let v = Math.max(1, Math.min(t.maxRun, hw));
  while (hw % v !== 0) v--;
  return { S: Math.ceil(n / ns), NS: ns, V: v };
}

/** Parameters and running statistics of one batch-norm layer (all [C]). */
export interface BatchNormState {
  /** γ [C]. */
  weight: Tensor;
  /** β [C]. */
  bias: Tensor;
  /** Running mean [C], updated in training. */
  runningMean: Tensor;
  /** Running variance [C] (unbiased), updated in training. */
  runningVar: Tensor;
}

/** Options of {@linkcode batchNorm2d}. */
export interface BatchNormOptions {
  /** Batch statistics and running-statistics update (true) or running statistics (false). */
  training: boolean;
  /** running = (1 − momentum)·running + momentum·batch; default 0.1. */
  momentum?: number;
  /** Added to the variance; default 1e-5. */
  eps?: number;
  /** Apply ReLU to the result. */
  relu?: boolean;
  /** Added after the normalization, before the ReLU (same shape as x). */
  residual?: Tensor;
}

/** What the backward pass needs from the forward one. */
export interface BatchNormSaved {
  x: Tensor;
  /** The output; read for the ReLU mask only when a residual was added. */
  y: Tensor;
  /** Per-channel mean and 1/sqrt(var + eps) used to normalize (batch or running). */
  mean: Tensor;
  invstd: Tensor;
  weight: Tensor;
  bias: Tensor;
  training: boolean;
  relu: boolean;
  /** Whether the forward added a residual. */
  residual: boolean;
}

/** Gradients of batch norm; dres is null without a residual. */
export interface BatchNormGrads {
  dx: Tensor;
  dweight: Tensor;
  dbias: Tensor;
  dres: Tensor | null;
}

/** The kernels' uniform values and the run length V for x. */
function params(
  x: Tensor,
  extra: { eps?: number; momentum?: number; k?: number; split?: BatchNormSplit },
) {
  if (x.shape.length !== 4 || x.dtype !== "f32") {
    throw new RangeError(`batchNorm2d: expected an f32 [N, C, H, W] tensor, got ${x}`);
  }
  const [N, C, H, W] = x.shape;
  const { S, NS, V } = extra.split ?? batchNormSplit(x.shape, x.engine.gpu.software);
  const p = {
    N,
    C,
    HW: H * W,
    S,
    NS,
    eps: extra.eps ?? 1e-5,
    momentum: extra.momentum ?? 0.1,
    k: extra.k ?? 1,
  };
  return { p, V };
}

/**
 * The forward computation without the tape: y and the statistics it used. In training the
 * running statistics of `bn` are updated in place. `split` overrides the adapter's split.
 */
export function batchNormForward(
  x: Tensor,
  bn: BatchNormState,
  options: BatchNormOptions & { split?: BatchNormSplit },
): { y: Tensor; mean: Tensor; invstd: Tensor } {
  const e = x.engine;
  const { p, V } = params(x, options);
  for (const [name, t] of Object.entries(bn)) {
    if (t.size !== p.C || t.dtype !== "f32") {
      throw new RangeError(`batchNorm2d: ${name} ${t} does not match ${p.C} channels of ${x}`);
    }
  }
  const res = options.residual;
  if (res && res.shape.join() !== x.shape.join()) {
    throw new RangeError(`batchNorm2d: residual ${res} does not match ${x}`);
  }
  const mean = e.tensor([p.C]);
  const invstd = e.tensor([p.C]);
  const run = { runMean: bn.runningMean, runVar: bn.runningVar, mean, invstd, p };
  const perChannel = Math.ceil(p.C / 64);
  if (options.training) {
    if (p.N * p.HW < 2) {
      throw new RangeError(`batchNorm2d: training needs more than 1 value per channel, got ${x}`);
    }
    const part = e.tensor([3, p.C, p.S]);
    const [src, entry] = reduction(e, "stats");
    e.run(src, entry, { x, part, p }, [p.S, p.C], { RWG, V });
    e.run(SRC, "finalizeStats", { part, ...run }, perChannel);
    part.dispose();
  } else {
    e.run(SRC, "evalStats", run, perChannel);
  }
  const y = e.tensor(x.shape);
  // Without a residual the kernel never reads `res`; x fills the binding.
  const bind = { x, y, res: res ?? x, mean, invstd, weight: bn.weight, bias: bn.bias, p };
  const flags = { RELU: options.relu ? 1 : 0, RES: res ? 1 : 0, V, WG };
  e.run(SRC, "apply", bind, grid(x.size / V, WG), flags);
  return { y, mean, invstd };
}

/**
 * Gradients of batch norm from the upstream gradient `gy`, as fresh tensors (written).
 * With `residualGrad`, dres = gy masked by the ReLU (the gradient of the residual).
 * `split` overrides the adapter's split.
 */
export function batchNormBackward(
  gy: Tensor,
  saved: BatchNormSaved,
  options: { residualGrad?: boolean; split?: BatchNormSplit } = {},
): BatchNormGrads {
  const e = gy.engine;
  const { x, mean, invstd, weight, bias } = saved;
  const { p, V } = params(x, { k: saved.training ? 1 : 0, split: options.split });
  const flags = { RELU: saved.relu ? 1 : 0, RES: saved.residual ? 1 : 0, V };
  // ySaved is read only for a ReLU after a residual; otherwise gy fills the binding.
  const common = { x, gy, ySaved: saved.relu && saved.residual ? saved.y : gy, p };
  const stats = { mean, invstd, weight, bias };
  const part = e.tensor([2, p.C, p.S]);
  const [src, entry] = reduction(e, "backwardReduce");
  e.run(src, entry, { ...common, ...stats, part }, [p.S, p.C], { ...flags, RWG });
  const dweight = e.tensor([p.C]);
  const dbias = e.tensor([p.C]);
  const coef = e.tensor([p.C, 5]); // pass 3's per-channel constants (DxCoef)
  const fin = { part, ...stats, dweight, dbias, coef, p };
  e.run(SRC, "backwardFinalize", fin, Math.ceil(p.C / 64));
  part.dispose();
  const dx = e.tensor(x.shape);
  const bind = { ...common, coef, dx };
  const dres = options.residualGrad ? e.tensor(x.shape) : null;
  const g = grid(x.size / V, WG);
  if (dres) e.run(SRC, "backwardDxRes", { ...bind, dres }, g, { ...flags, WG });
  else e.run(SRC, "backwardDx", bind, g, { ...flags, WG });
  coef.dispose();
  return { dx, dweight, dbias, dres };
}

/**
 * Batch norm over the channels of an NCHW tensor, then `+ residual`, then ReLU, in one pass
 * over the data after the statistics. Training normalizes with the batch mean and biased
 * variance and updates the running mean and unbiased variance in place; eval uses the running
 * statistics. Gradients flow to x, bn.weight, bn.bias and the residual.
 *
 * @example
 * ```ts
 * const y = batchNorm2d(x, bn, { training: true, relu: true, residual: shortcut });
 * ```
 */
export function batchNorm2d(x: Tensor, bn: BatchNormState, options: BatchNormOptions): Tensor {
  const e = x.engine;
  const { y, mean, invstd } = batchNormForward(x, bn, options);
  const res = options.residual;
  const inputs = res ? [x, bn.weight, bn.bias, res] : [x, bn.weight, bn.bias];
  const saved: BatchNormSaved = {
    x,
    y,
    mean,
    invstd,
    weight: bn.weight,
    bias: bn.bias,
    training: options.training,
    relu: options.relu ?? false,
    residual: res !== undefined,
  };
  e.record(inputs, y, (gy) => {
    const g = batchNormBackward(gy, saved, { residualGrad: res?.requiresGrad });
    mean.dispose();
    invstd.dispose();
    const keep = (t: Tensor | null, input: Tensor) => {
      if (t && !input.requiresGrad) t.dispose();
      return t && input.requiresGrad ? t : null;
    };
    return [keep(g.dx, x), keep(g.dweight, bn.weight), keep(g.dbias, bn.bias), g.dres];
  });
  if (!y.requiresGrad) {
    mean.dispose();
    invstd.dispose();
  }
  return y;
}
