// Bench rows for where a training step's GPU time goes: one eager training step per recipe model
// with every dispatch timed on its own (engine/profile.ts), summed per kernel family.
import type { Engine } from "../engine/engine.ts";
import { softmaxCrossEntropy } from "../engine/ops/loss.ts";
import { SGD } from "../engine/optim.ts";
import { kernelTimes, profileDispatches } from "../engine/profile.ts";
import { module } from "../models/module.ts";
import type { Row } from "./report.ts";
import { RECIPE_MODELS } from "./step_bench.ts";

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
    const model = module(e, m.spec(), { seed: 1 });
    const sgd = new SGD(model.params, { lr: m.sgd.baseLr, ...m.sgd });
    const xv = new Float32Array(B * 3 * 32 * 32).map((_, i) => Math.sin(i * 0.37) * 1.5);
    const x = e.upload(xv, [B, 3, 32, 32]);
    const y = e.upload(Array.from({ length: B }, (_, i) => (i * 3) % 10), [B], "u32");
    const step = () => {
      const logits = model.forward(x, { training: true });
      e.tape.backward(softmaxCrossEntropy(logits, y, { smoothing: m.smoothing }));
      sgd.step();
    };
    e.scope(step);
    const kernels = kernelTimes(await profileDispatches(e, step));
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
    await e.sync();
    for (const t of [x, y]) t.dispose();
    sgd.dispose();
    model.params.dispose();
    e.trim();
  }
  return rows;
}
