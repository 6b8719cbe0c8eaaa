// The training loop: epochs of SGD steps (one submission each), a test pass, checkpoints.
import type { Engine } from "../engine.ts";
import { DeviceError } from "../device.ts";
import { SGD } from "../optim.ts";
import { appendTextFile } from "../files.ts";
import { cosineLr } from "./schedule.ts";
import { EpochMetrics } from "./metrics.ts";
import { PlannedSteps } from "./trainer_steps.ts";
import { duration, epochLine } from "./format.ts";
import { evaluate, type RunContext, trainBatches } from "./epoch.ts";
import { batchSeed } from "./epoch.ts";
export { batchSeed };
import type { BatchSource, Checkpointer, Trainable, TrainPosition } from "./interfaces.ts";

/** Settings of {@linkcode train}; defaults are the recipes' (docs/recipes.md). */
export interface TrainOptions {
  /** Epochs to train; the cosine schedule spans them. */
  epochs: number;
  /** Seed of data order, augmentation and dropout (default 0). */
  seed?: number;
  /** Label smoothing of the loss (train and test), default 0. */
  smoothing?: number;
  /** Learning rate of the first epoch (default 0.08). */
  baseLr?: number;
  /** SGD momentum (default 0.9). */
  momentum?: number;
  /** L2 weight decay (default 5e-4). */
  weightDecay?: number;
  /** Nesterov momentum (default true). */
  nesterov?: boolean;
  /** Writes and reads checkpoints (needed by `checkpoint` and `resume`). */
  checkpointer?: Checkpointer;
  /** Checkpoint written at the end of every epoch and on interruption. */
  checkpoint?: string;
  /** A checkpoint to continue from. */
  resume?: string;
  /** A JSON-lines file receiving one object per epoch (a failed write is a warning). */
  metrics?: string;
  /** Called after each epoch, once its checkpoint is written. */
  onEpoch?: (result: EpochResult) => void | Promise<void>;
  /** Where lines go (default console.log). */
  log?: (line: string) => void;
  /** Where warnings go (default console.error). */
  warn?: (line: string) => void;
  /** Progress updates during an epoch (batch, total, images/s, seconds left). */
  progress?: (batch: number, batches: number, imagesPerSecond: number, eta: number) => void;
  /** Asked before every batch: true stops the run after writing a checkpoint. */
  interrupted?: () => boolean;
}

/** One epoch's results. */
export interface EpochResult {
  /** Epoch number, from 1. */
  epoch: number;
  /** Learning rate of the epoch. */
  lr: number;
  /** Mean training loss. */
  loss: number;
  /** Mean test loss. */
  testLoss: number;
  /** Test accuracy, in percent. */
  accuracy: number;
  /** Seconds the epoch took (training and test). */
  seconds: number;
  /** Training images a second. */
  imagesPerSecond: number;
  /** 10×10 confusion counts of the test pass, row = true class. */
  confusion: Uint32Array;
}

/** The loss became NaN or infinite; the last good checkpoint is kept. */
export class TrainingDivergedError extends Error {
  /** `message` names the epoch and batch. */
  constructor(message: string) {
    super(message);
    this.name = "TrainingDivergedError";
  }
}

/** What {@linkcode train} returns. */
export interface TrainResult {
  /** Every epoch's figures, resumed epochs included. */
  epochs: EpochResult[];
  /** Seconds the whole run took. */
  seconds: number;
  /** True when stopped by `interrupted()` (a checkpoint was written if one was configured). */
  interrupted: boolean;
  /** True when the resumed checkpoint had already finished every epoch (nothing was trained). */
  alreadyDone?: boolean;
}

function checkpointer(options: TrainOptions): Checkpointer {
  if (!options.checkpointer) {
    throw new TypeError(
      "train: `checkpoint` and `resume` need a `checkpointer` (moduleCheckpointer)",
    );
  }
  return options.checkpointer;
}

/** Writes the checkpoint at `pos`, when the run has one. */
async function saveAt(ctx: RunContext, pos: TrainPosition): Promise<void> {
  const o = ctx.options;
  if (o.checkpoint) await checkpointer(o).save(o.checkpoint, ctx.opt, pos);
}

async function interruptedAt(ctx: RunContext, epoch: number, batch: number): Promise<void> {
  await ctx.engine.sync();
  const lossSum = (await ctx.metrics.read()).trainLoss;
  const path = ctx.options.checkpoint;
  await saveAt(ctx, { epoch, batch, lossSum, steps: ctx.opt.steps });
  const where = batch === 0 ? `epoch ${epoch + 1}` : `epoch ${epoch + 1}, batch ${batch + 1}`;
  ctx.log(
    path
      ? `interrupted at ${where}; checkpoint written to ${path} (resume with --resume ${path})`
      : `interrupted at ${where}; no checkpoint configured`,
  );
}

/** Reads the epoch's totals, stops on divergence, logs the line; returns the epoch's result. */
async function finishEpoch(
  ctx: RunContext,
  k: number,
  lr: number,
  timing: { t0: number; images: number; trainSeconds: number; batches: number; tested: number },
): Promise<EpochResult> {
  const totals = await ctx.metrics.read();
  if (totals.badBatch >= 0) {
    const kept = ctx.options.checkpoint
      ? `; the last good checkpoint is kept in ${ctx.options.checkpoint}`
      : "";
    throw new TrainingDivergedError(
      `Training loss became NaN or infinite at epoch ${k + 1}, batch ${totals.badBatch + 1}${kept}`,
    );
  }
  const K = ctx.metrics.classes;
  let correct = 0;
  for (let c = 0; c < K; c++) correct += totals.confusion[c * K + c];
  const result: EpochResult = {
    epoch: k + 1,
    lr,
    loss: totals.trainLoss / timing.batches,
    testLoss: totals.testLoss / timing.tested,
    accuracy: (100 * correct) / timing.tested,
    seconds: (performance.now() - timing.t0) / 1000,
    imagesPerSecond: timing.trainSeconds > 0 ? timing.images / timing.trainSeconds : 0,
    confusion: totals.confusion,
  };
  ctx.log(epochLine({ ...result, time: new Date() }));
  return result;
}

/** Checkpoint first, then the metrics line (a failure there is a warning), then `onEpoch`. */
async function recordEpoch(ctx: RunContext, result: EpochResult): Promise<void> {
  const o = ctx.options;
  await saveAt(ctx, { epoch: result.epoch, batch: 0, lossSum: 0, steps: ctx.opt.steps });
  if (o.metrics) {
    const { confusion: _c, ...rest } = result;
    try {
      await appendTextFile(o.metrics, JSON.stringify(rest) + "\n");
    } catch (e) {
      (o.warn ?? console.error)(
        `warning: cannot append to --metrics ${o.metrics}: ${(e as Error).message}`,
      );
    }
  }
  await o.onEpoch?.(result);
}

/**
 * Trains `model` on `trainSet` and tests it on `testSet` every epoch, printing the published runs' epoch line.
 *
 * @example
 * ```ts
 * const result = await train(engine, model, trainSet, testSet, { epochs: 60 });
 * ```
 */
export async function train(
  engine: Engine,
  model: Trainable,
  trainSet: BatchSource,
  testSet: BatchSource,
  options: TrainOptions,
): Promise<TrainResult> {
  const baseLr = options.baseLr ?? 0.08;
  const opt = new SGD(model.params, {
    lr: baseLr,
    momentum: options.momentum ?? 0.9,
    weightDecay: options.weightDecay ?? 5e-4,
    nesterov: options.nesterov ?? true,
  });
  const metrics = new EpochMetrics(engine, model.classes);
  const seed = options.seed ?? 0, smoothing = options.smoothing ?? 0;
  const ctx: RunContext = {
    engine,
    model,
    opt,
    metrics,
    options,
    seed,
    smoothing,
    log: options.log ?? console.log,
    steps: new PlannedSteps(engine, { model, opt, metrics }, {
      smoothing,
      dropoutSeed: (epoch, batch) => batchSeed(seed, epoch, batch),
    }),
  };
  const results: EpochResult[] = [];
  const started = performance.now();
  const done = (interrupted: boolean, alreadyDone = false): TrainResult => ({
    epochs: results,
    seconds: (performance.now() - started) / 1000,
    interrupted,
    alreadyDone,
  });
  let epochNow = 0;
  /** The last checkpoint known good: the resumed one, then each epoch's. */
  let kept = options.resume;
  try {
    let pos: TrainPosition = { epoch: 0, batch: 0, lossSum: 0, steps: 0 };
    if (options.resume) {
      pos = await checkpointer(options).load(options.resume, opt);
      if (pos.epoch >= options.epochs) {
        ctx.log(
          `nothing left to train: ${options.resume} has finished all ${options.epochs} epochs`,
        );
        return done(false, true);
      }
      const at = pos.batch === 0 ? "" : `, batch ${Math.min(pos.batch, trainSet.batches) + 1}`;
      ctx.log(`resuming from ${options.resume}: epoch ${pos.epoch + 1}${at}`);
    }
    for (let k = pos.epoch; k < options.epochs; k++) {
      epochNow = k;
      const lr = cosineLr(k, options.epochs, baseLr);
      opt.lr = lr;
      const first = k === pos.epoch ? pos.batch : 0;
      ctx.metrics.reset(k === pos.epoch ? pos.lossSum : 0);
      const t0 = performance.now();
      const stop = await trainBatches(ctx, trainSet, k, first);
      if (stop !== null) {
        await interruptedAt(ctx, k, stop);
        return done(true);
      }
      const trainSeconds = (performance.now() - t0) / 1000;
      if (!(await evaluate(ctx, testSet))) {
        await interruptedAt(ctx, k, trainSet.batches);
        return done(true);
      }
      const result = await finishEpoch(ctx, k, lr, {
        t0,
        images: Math.max(0, trainSet.batches - first) * trainSet.batchSize,
        trainSeconds,
        batches: trainSet.batches,
        tested: testSet.length,
      });
      results.push(result);
      await recordEpoch(ctx, result);
      kept = options.checkpoint ?? kept;
    }
  } catch (e) {
    // A lost device or a GPU error stops the run at once; say where and what is kept.
    if (e instanceof DeviceError) {
      e.message += ` (in epoch ${epochNow + 1}); ` +
        (kept
          ? `the last good checkpoint is kept in ${kept}: resume with --resume ${kept}`
          : "no checkpoint was written yet");
    }
    throw e;
  } finally {
    ctx.steps.dispose();
    ctx.metrics.dispose();
    opt.dispose();
  }
  const result = done(false);
  ctx.log(`total time: ${duration(result.seconds)}`);
  return result;
}
