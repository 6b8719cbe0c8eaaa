// Bench rows for the small kernels of a step: softmax-CE, the linear head and the fused SGD update.
import type { Engine } from "../engine/engine.ts";
import type { Tensor } from "../engine/tensor.ts";
import { uniformTensor } from "../engine/random.ts";
import { softmaxCrossEntropy } from "../engine/ops/loss.ts";
import { linear } from "../engine/ops/matmul.ts";
import { ParamStore } from "../engine/params.ts";
import { SGD } from "../engine/optim.ts";
import { parameterCount } from "../models/spec.ts";
import { RECIPES } from "../tasks/recipes.ts";
import type { Row } from "./tables.ts";
import { timerFor } from "./timing.ts";

/** Parameter counts of the two recipes' models (tasks/recipes.ts). */
export const PARAMS = Object.fromEntries(
  [RECIPES.res, RECIPES.wide].map((r) => [r.model, parameterCount(r.spec())]),
);

/** Options of {@linkcode benchOps}. */
export interface OpsOptions {
  /** Training batch (the eval batch is 1,000 as in the recipes). */
  batch: number;
  quick?: boolean;
  /** Rows to measure (by name); default all. */
  want?: (name: string) => boolean;
}

function filled(e: Engine, shape: number[], seed: number, grad = false): Tensor {
  const t = uniformTensor(e, shape, seed, -0.5, 0.5);
  t.requiresGrad = grad;
  return t;
}

/**
 * Times softmax cross-entropy forward + backward ([batch, 10], label smoothing 0.1 as WRN uses),
 * the linear head 512 → 10 forward + backward, and one fused SGD step (momentum 0.9, Nesterov,
 * weight decay 5e-4) over each recipe's parameter count. Figures: ms, GFLOP/s (head) and the
 * bytes each kernel must move at least once, as GB/s.
 */
export async function benchOps(engine: Engine, options: OpsOptions): Promise<Row[]> {
  const e = engine;
  const want = options.want ?? (() => true);
  const timer = timerFor(e);
  const runs = options.quick ? 3 : 5;
  const rows: Row[] = [];
  for (const n of [options.batch, 1000]) {
    const name = `softmax-CE fwd+bwd [${n},10]`;
    if (!want(name)) continue;
    const logits = filled(e, [n, 10], 1, true);
    const labels = e.upload(Array.from({ length: n }, (_, i) => (i * 7) % 10), [n], "u32");
    const t = await timer.time(() => {
      e.tape.backward(softmaxCrossEntropy(logits, labels, { smoothing: 0.1 }));
    }, { runs });
    // Forward reads logits + labels, writes row losses and the saved gradient; backward reads
    // the saved gradient and writes dlogits.
    const bytes = 4 * (n * 10 * 4 + 2 * n);
    rows.push({ name, ms: t.median, gbps: bytes / t.median / 1e6 });
    for (const x of [logits, labels, logits.grad!]) x.dispose();
  }
  {
    const n = options.batch;
    const name = `linear 512→10 fwd+bwd [${n},512]`;
    if (want(name)) {
      const x = filled(e, [n, 512], 2, true);
      const w = filled(e, [10, 512], 3, true);
      const b = filled(e, [10], 4, true);
      const seed = filled(e, [n, 10], 5);
      const t = await timer.time(() => e.tape.backward(linear(x, w, b), seed), { runs });
      const flops = 3 * 2 * n * 512 * 10;
      rows.push({ name, ms: t.median, gflops: flops / t.median / 1e6 });
      for (const v of [x, w, b, seed, x.grad!, w.grad!, b.grad!]) v.dispose();
    }
  }
  for (const [model, count] of Object.entries(PARAMS)) {
    const name = `SGD nesterov+wd ${count.toLocaleString("en-US")} params (${model})`;
    if (!want(name)) continue;
    const store = new ParamStore(e, [{ name: "w", shape: [count], init: 0.01 }]);
    e.fill(store.grads, 0.001);
    const sgd = new SGD(store, { lr: RECIPES.res.sgd.baseLr, ...RECIPES.res.sgd });
    const t = await timer.time(() => sgd.step(), { runs });
    // Reads weights, gradients and momentum; writes weights and momentum.
    rows.push({ name, ms: t.median, gbps: (20 * store.weights.size) / t.median / 1e6 });
    sgd.dispose();
    store.dispose();
  }
  return rows;
}
