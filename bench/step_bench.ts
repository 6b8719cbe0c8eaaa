// Bench rows for whole steps: a training step (forward, backward, SGD) and an eval step per model.
import type { Engine } from "../engine/engine.ts";
import { softmaxCrossEntropy } from "../engine/ops/loss.ts";
import { SGD } from "../engine/optim.ts";
import { planStep } from "../engine/planned_step.ts";
import { module } from "../models/module.ts";
import { summary } from "../models/summary.ts";
import { epochImages, type Recipe, RECIPES } from "../tasks/recipes.ts";
import type { Row } from "./tables.ts";
import { timerFor } from "./timing.ts";
import { uniformTensor } from "../engine/random.ts";

const MIB = 1024 * 1024;

/** The two recipes (tasks/recipes.ts): model, loss smoothing, SGD and epoch size. */
export const RECIPE_MODELS: readonly Recipe[] = [RECIPES.res, RECIPES.wide];

/** Test images per evaluation pass (both recipes). */
const TEST_IMAGES = 10_000;

/** Options of {@linkcode benchSteps}. */
export interface StepOptions {
  batch: number;
  /** Timed steps per row (the median is reported); default 3. */
  runs?: number;
  /** The matmul ceiling (GFLOP/s) the implied FLOP rate is compared with. */
  ceiling: number | null;
  /** Rows to measure (by name); default all. */
  want?: (name: string) => boolean;
}

/** A recipe model with its optimizer and one fixed batch: its training and eval steps. */
export interface RecipeStep {
  /** Forward in training mode, softmax-CE with the recipe's smoothing, backward, fused SGD. */
  train: () => void;
  /** Forward with running statistics and the loss, no tape. */
  eval: () => void;
  /** Waits for the GPU, then frees the batch, the optimizer and the model, and trims the pool. */
  dispose: () => Promise<void>;
}

/** Builds a recipe's model (seed 1), its SGD and a fixed batch of B images for timing. */
export function recipeStep(e: Engine, m: Recipe, B: number): RecipeStep {
  const model = module(e, m.spec(), { seed: 1 });
  const sgd = new SGD(model.params, { lr: m.sgd.baseLr, ...m.sgd });
  const x = uniformTensor(e, [B, 3, 32, 32], 1, -1.5, 1.5);
  const y = e.upload(Array.from({ length: B }, (_, i) => (i * 3) % 10), [B], "u32");
  return {
    train: () => {
      const logits = model.forward(x, { training: true });
      e.tape.backward(softmaxCrossEntropy(logits, y, { smoothing: m.smoothing }));
      sgd.step();
    },
    eval: () => {
      e.noGrad(() => softmaxCrossEntropy(model.forward(x, { training: false }), y));
    },
    dispose: async () => {
      await e.sync();
      for (const t of [x, y]) t.dispose();
      sgd.dispose();
      model.params.dispose();
      e.trim();
    },
  };
}

/**
 * Times, per recipe model at `batch`, one training step (forward in training mode, softmax-CE,
 * backward, fused SGD; one submission) and one eval step (forward with running statistics and
 * the loss, no tape), each planned once and replayed as the trainer does. Rows: GPU ms (median), wall ms per step in a back-to-back
 * loop, images/s and the implied FLOP rate from wall time (forward FLOPs from models/summary.ts,
 * training = 3 × forward), the GPU memory of the model and its plan (parameters, gradients,
 * momentum, the plan's activations, gradients, workspaces and uniforms), and the
 * epoch time that rate implies (training: the recipe's epoch; eval: the 10,000 test images).
 */
export async function benchSteps(engine: Engine, options: StepOptions): Promise<Row[]> {
  const e = engine;
  const want = options.want ?? (() => true);
  const timer = timerFor(e);
  const B = options.batch;
  const rows: Row[] = [];
  for (const m of RECIPE_MODELS) {
    const names = { train: `${m.model} train step`, eval: `${m.model} eval step` };
    if (!want(names.train) && !want(names.eval)) continue;
    await e.sync();
    const base = e.pool.stats.inUse;
    const flops = summary(m.spec()).flops;
    const rs = recipeStep(e, m, B);
    const steps: [keyof typeof names, number, () => void][] = [
      ["train", 3, rs.train],
      ["eval", 1, rs.eval],
    ];
    for (const [kind, factor, fn] of steps) {
      if (!want(names[kind])) continue;
      const plan = planStep(e, fn);
      const t = await timer.time(() => plan.record(), {
        warmup: 1,
        runs: options.runs ?? 3,
        repeat: 1,
      });
      const gflops = (factor * flops * B) / t.wall / 1e6;
      const imgs = (B / t.wall) * 1000;
      const epochImages_ = kind === "train" ? epochImages(m) : TEST_IMAGES;
      rows.push({
        name: names[kind],
        batch: B,
        ms: t.median,
        wall: t.wall,
        imgs,
        gflops,
        frac: options.ceiling ? gflops / options.ceiling : null,
        peak: (e.pool.stats.inUse - base + plan.bytes) / MIB,
        epoch: epochImages_ / imgs / 60,
      });
      await e.sync();
      plan.dispose();
    }
    await rs.dispose();
  }
  return rows;
}
