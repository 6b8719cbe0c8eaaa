// Measures the reductions' variants where the adapter has subgroups (the tree everywhere else,
// with nothing measured or compiled); the training task and the page call it before training.
import type { Engine } from "../engine.ts";
import type { Tensor } from "../tensor.ts";
import type { FamilyTuning, ReduceTuning, ReduceVariant } from "./reduce.ts";
import { sum } from "./reduce.ts";
import { batchNormBackward, batchNormForward } from "./batch_norm.ts";

export type { FamilyTuning, ReduceTuning } from "./reduce.ts";

/** Median of 5 timings of 10 runs (ms per run), after one warm-up run (compiles). */
async function timeRuns(run: () => Tensor[]): Promise<number> {
  const go = async (reps: number) => {
    const outs: Tensor[] = [];
    for (let k = 0; k < reps; k++) outs.push(...run());
    await outs[outs.length - 1].read();
    outs.forEach((t) => t.dispose());
  };
  await go(1);
  const times: number[] = [];
  for (let k = 0; k < 5; k++) {
    const t = performance.now();
    await go(10);
    times.push((performance.now() - t) / 10);
  }
  return times.sort((a, b) => a - b)[2];
}

/** Times `run` in both variants (forced on every family) and says which was faster. */
async function tuneFamily(e: Engine, run: () => Tensor[]): Promise<FamilyTuning> {
  const ms: Partial<Record<ReduceVariant, number>> = {};
  const before = e.reduce.forced;
  try {
    for (const v of ["tree", "subgroups"] as const) {
      e.reduce.forced = v;
      ms[v] = await timeRuns(() => e.noGrad(run));
    }
  } finally {
    e.reduce.forced = before;
  }
  return { variant: ms.subgroups! < ms.tree! ? "subgroups" : "tree", ms };
}

const values = (n: number, m: number) => Float32Array.from({ length: n }, (_, i) => (i % m) - 8);

/**
 * Where the adapter has subgroups, measures each reduction family's tree and subgroup kernels
 * and makes the faster that family's choice on this engine (`engine.reduce.measured`);
 * elsewhere the tree everywhere, with nothing measured or compiled. Measures once per engine
 * (the training paths call it before training); `again` measures anew.
 */
export async function tuneReduce(
  e: Engine,
  options: { again?: boolean } = {},
): Promise<ReduceTuning> {
  if (!e.gpu.subgroups) {
    return { sum: { variant: "tree", ms: {} }, batchNorm: { variant: "tree", ms: {} } };
  }
  if (e.reduce.measured && !options.again) return e.reduce.measured;
  const n = 1 << 18;
  const x = e.upload(values(n, 17), [n]);
  const shape = [8, 16, 16, 16];
  const bx = e.upload(values(8 * 16 * 256, 19), shape);
  const gy = e.upload(values(8 * 16 * 256, 23), shape);
  const c = (v: number) => e.upload(new Float32Array(16).fill(v), [16]);
  const bn = { weight: c(1), bias: c(0), runningMean: c(0), runningVar: c(1) };
  try {
    const tuning: ReduceTuning = {
      sum: await tuneFamily(e, () => [sum(x)]),
      batchNorm: await tuneFamily(e, () => {
        const f = batchNormForward(bx, bn, { training: true });
        const saved = { x: bx, ...f, weight: bn.weight, bias: bn.bias };
        const g = batchNormBackward(gy, { ...saved, training: true, relu: true, residual: false });
        return [f.y, f.mean, f.invstd, g.dx, g.dweight, g.dbias];
      }),
    };
    e.reduce.measured = tuning;
    return tuning;
  } finally {
    for (const t of [x, bx, gy, ...Object.values(bn)]) t.dispose();
  }
}

/** One line saying what {@linkcode tuneReduce} chose, for the training task and the page. */
export function describeReduceTuning(t: ReduceTuning): string {
  const parts = Object.entries(t).map(([family, f]) => {
    const ms = Object.entries(f.ms).map(([v, m]) => `${v} ${m.toFixed(3)} ms`).join(", ");
    return `${family} ${f.variant}${ms ? ` (${ms})` : ""}`;
  });
  const measured = Object.values(t).some((f) => f.ms.tree !== undefined);
  return `reductions: ${parts.join("; ")}${
    measured ? "" : " (the adapter has no subgroups; nothing measured)"
  }`;
}
