// One epoch's two halves: the training batches (one submission each) and the test pass.
import type { Engine } from "../engine.ts";
import { mixSeed } from "../random.ts";
import type { SGD } from "../optim.ts";
import type { EpochMetrics } from "./metrics.ts";
import type { BatchSource, Trainable } from "./interfaces.ts";
import type { PlannedSteps } from "./trainer_steps.ts";
import type { TrainOptions } from "./options.ts";

/** What one run shares between its steps. */
export interface RunContext {
  engine: Engine;
  model: Trainable;
  opt: SGD;
  metrics: EpochMetrics;
  options: TrainOptions;
  seed: number;
  smoothing: number;
  log: (line: string) => void;
  /** The training and test steps, planned once per batch size and replayed. */
  steps: PlannedSteps;
}

/** Dropout seed of one batch (distinct per seed, epoch and batch). */
export function batchSeed(seed: number, epoch: number, batch: number): number {
  return mixSeed(seed, epoch, batch);
}

/** Submitted steps whose completion is not yet awaited: one runs while the next is recorded. */
const QUEUE_DEPTH = 2;

/**
 * Runs batches `first` … end of epoch `k` of `trainSet`: forward, loss, backward and SGD, a
 * replay of the planned step in one submission each, the loss accumulated on the GPU. Returns null when the epoch
 * ran to its end, or the batch at which `interrupted()` stopped it (nothing of it submitted).
 */
export async function trainBatches(
  ctx: RunContext,
  trainSet: BatchSource,
  k: number,
  first: number,
): Promise<number | null> {
  const { engine, options } = ctx;
  trainSet.beginEpoch(k, ctx.seed);
  const t0 = performance.now();
  const inflight: Promise<void>[] = [];
  // The first report waits 250 ms too: a rate over the first few ms (steps submitted, not yet
  // run) read thousands of images/s.
  let lastProgress = t0;
  for (let i = first; i < trainSet.batches; i++) {
    if (options.interrupted?.()) return i;
    ctx.steps.train(trainSet, k, i);
    // Bound the work queued ahead of the GPU (no readback: completion only), so a stop
    // waits for at most this many steps.
    inflight.push(engine.device.queue.onSubmittedWorkDone());
    if (inflight.length >= QUEUE_DEPTH) await inflight.shift();
    const now = performance.now();
    if (options.progress && now - lastProgress > 250) {
      lastProgress = now;
      const rate = ((i + 1 - first) * trainSet.batchSize) / ((now - t0) / 1000);
      const eta = ((trainSet.batches - i - 1) * trainSet.batchSize) / rate;
      options.progress(i + 1, trainSet.batches, rate, eta);
    }
  }
  await Promise.all(inflight);
  return null;
}

/**
 * The test pass: forward with running statistics, loss and confusion accumulated on the GPU.
 * Returns false when `interrupted()` stopped it between batches.
 */
export async function evaluate(ctx: RunContext, testSet: BatchSource): Promise<boolean> {
  const { engine, options } = ctx;
  testSet.beginEpoch(0, 0, { shuffle: false });
  for (let i = 0; i < testSet.batches; i++) {
    if (options.interrupted?.()) return false;
    ctx.steps.test(testSet, i);
    await engine.device.queue.onSubmittedWorkDone();
  }
  return true;
}
