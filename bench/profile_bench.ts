// Bench rows for where a training step's GPU time goes: one eager training step per recipe model
// with every dispatch timed on its own (engine/profile.ts), summed per kernel family.
import type { Engine } from "../engine/engine.ts";
import { kernelTimes, profileDispatches } from "../engine/profile.ts";
import type { Row } from "./tables.ts";
import { RECIPE_MODELS, recipeStep } from "./step_bench.ts";

/** Options of {@linkcode benchProfile}. */
export interface ProfileOptions {
  batch: number;
  /** Kernel families listed per model, the rest summed in one row (default 12). */
  top?: number;
  /** Models to profile (by "<model> step profile"); default both. */
  want?: (name: string) => boolean;
}

/**
 * Per recipe model: one warm-up training step (forward, softmax-CE, backward, SGD), then one
 * profiled; rows `<model>: <kernel family>` with GPU ms, share of the step and calls, then the
 * rest and the total.
 */
export async function benchProfile(e: Engine, options: ProfileOptions): Promise<Row[]> {
  const B = options.batch, top = options.top ?? 12;
  const rows: Row[] = [];
  for (const m of RECIPE_MODELS) {
    if (options.want && !options.want(`${m.model} step profile`)) continue;
    const rs = recipeStep(e, m, B);
    e.scope(rs.train);
    const kernels = kernelTimes(await profileDispatches(e, rs.train));
    const total = kernels.reduce((s, k) => s + k.ms, 0);
    const row = (name: string, ms: number, calls: number): Row => ({
      name: `${m.model}: ${name}`,
      ms,
      share: (100 * ms) / total,
      calls,
    });
    for (const k of kernels.slice(0, top)) rows.push(row(k.kernel, k.ms, k.calls));
    const rest = kernels.slice(top);
    const restMs = rest.reduce((s, k) => s + k.ms, 0);
    rows.push(row(`${rest.length} other kernels`, restMs, rest.reduce((s, k) => s + k.calls, 0)));
    rows.push(row("all dispatches", total, kernels.reduce((s, k) => s + k.calls, 0)));
    await rs.dispose();
  }
  return rows;
}
