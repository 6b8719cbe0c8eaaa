// The training loop: epochs of SGD steps (one submission each), a test pass, checkpoints.
import type { Engine } from "../engine.ts";
import { DeviceError } from "../device.ts";
import { GpuError } from "../device_errors.ts";
import { WriteError } from "../write_error.ts";
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
import { type EpochResult, SGD_DEFAULTS, type TrainOptions, type TrainResult } from "./options.ts";
export type { EpochResult, TrainOptions, TrainResult };

/** The loss became NaN or infinite; the last good checkpoint is kept. */
export class TrainingDivergedError extends Error {
  /** `message` names the epoch and batch. */
  constructor(message: string) {
    super(message);
    this.name = "TrainingDivergedError";
  }
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
  const baseLr = options.baseLr ?? SGD_DEFAULTS.baseLr;
  const opt = new SGD(model.params, {
    lr: baseLr,
    momentum: options.momentum ?? SGD_DEFAULTS.momentum,
    weightDecay: options.weightDecay ?? SGD_DEFAULTS.weightDecay,
    nesterov: options.nesterov ?? SGD_DEFAULTS.nesterov,
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
    if (e instanceof GpuError && e.kind === "out-of-memory") {
      e.message += `; the planned steps held ${
        ctx.steps.bytes.toLocaleString("en-US")
      } bytes at batch ${trainSet.batchSize}: a smaller batch needs less`;
    }
    if (e instanceof WriteError && e.path === options.checkpoint) {
      const room = e.noSpace ? " once there is room" : "";
      e.message += `; the run stopped in epoch ${epochNow + 1}: ` +
        (kept
          ? `the last good checkpoint is ${kept}: resume with --resume ${kept}${room}`
          : `no checkpoint was written yet`);
    }
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
