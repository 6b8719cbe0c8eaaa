// Bench rows "Host cost": recording one training step eagerly vs replaying its plan, timed apart from the GPU.
import type { Engine } from "../engine/engine.ts";
import { softmaxCrossEntropy } from "../engine/ops/loss.ts";
import { SGD } from "../engine/optim.ts";
import { planStep } from "../engine/planned_step.ts";
import { module } from "../models/module.ts";
import type { Row } from "./tables.ts";
import { RECIPE_MODELS } from "./step_bench.ts";

const MIB = 1024 * 1024;

/** Options of {@linkcode benchHost}. */
export interface HostOptions {
  batch: number;
  /** Timed recordings per row (median and minimum reported); default 15. */
  runs?: number;
  /** Rows to measure (by name); default all. */
  want?: (name: string) => boolean;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/**
 * Per recipe model at `batch`: the host milliseconds to record one training step (forward in
 * training mode with a new dropout seed, softmax-CE, backward, SGD) from `engine.scope` to a
 * finished command buffer, eagerly (ops, tape, pool, caches) and as a replay of its plan (per-step
 * values, one writeBuffer, setPipeline / setBindGroup / dispatchWorkgroups). Nothing is submitted:
 * the GPU never runs these steps, so the rows stay fast on any adapter. Also: dispatches per step,
 * µs per dispatch, the one-off planning time and the GPU memory a planned step holds (parameters,
 * gradients, momentum, and the plan's activations, gradients, workspaces and uniforms).
 */
export async function benchHost(engine: Engine, options: HostOptions): Promise<Row[]> {
  const e = engine;
  const want = options.want ?? (() => true);
  const runs = options.runs ?? 15;
  const B = options.batch;
  const rows: Row[] = [];
  for (const m of RECIPE_MODELS) {
    const names = { eager: `${m.model} host, eager`, planned: `${m.model} host, planned` };
    if (!want(names.eager) && !want(names.planned)) continue;
    await e.sync();
    const base = e.pool.stats.inUse;
    const model = module(e, m.spec(), { seed: 1 });
    const sgd = new SGD(model.params, { lr: m.sgd.baseLr, ...m.sgd });
    const x = e.upload(new Float32Array(B * 3 * 32 * 32).fill(0.5), [B, 3, 32, 32]);
    const y = e.upload(Array.from({ length: B }, (_, i) => i % 10), [B], "u32");
    await e.sync();
    const modelBytes = e.pool.stats.inUse - base;
    let seed = 0;
    const step = (s: number | (() => number)) => {
      const logits = model.forward(x, { training: true, seed: s });
      e.tape.backward(softmaxCrossEntropy(logits, y, { smoothing: m.smoothing }));
      sgd.step();
    };
    const time = (fn: () => void) => {
      const times: number[] = [];
      let dispatches = 0;
      for (let r = -2; r < runs; r++) {
        const d0 = e.dispatches;
        const t0 = performance.now();
        fn();
        const t = performance.now() - t0;
        if (r >= 0) times.push(t);
        dispatches = e.dispatches - d0;
      }
      return { ms: median(times), min: Math.min(...times), dispatches };
    };
    const eager = time(() => {
      e.scope(() => step(++seed));
      e.discard();
    });
    const t0 = performance.now();
    const plan = planStep(e, () => step(() => seed));
    const planMs = performance.now() - t0;
    const planned = time(() => {
      seed++;
      plan.record();
      e.discard();
    });
    const row = (name: string, t: typeof eager, extra: Record<string, number | null>): Row => ({
      name,
      batch: B,
      ms: t.ms,
      min: t.min,
      dispatches: t.dispatches,
      us: (1000 * t.ms) / t.dispatches,
      ...extra,
    });
    if (want(names.eager)) {
      rows.push(row(names.eager, eager, { speedup: 1, plan: null, mib: null }));
    }
    if (want(names.planned)) {
      rows.push(row(names.planned, planned, {
        speedup: eager.ms / planned.ms,
        plan: planMs,
        mib: (modelBytes + plan.bytes) / MIB,
      }));
    }
    await e.sync();
    plan.dispose();
    for (const t of [x, y]) t.dispose();
    sgd.dispose();
    model.dispose();
    e.trim();
  }
  return rows;
}
