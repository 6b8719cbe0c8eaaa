// The training loop: epochs of SGD steps (one submission each), GPU metrics, test, checkpoints.
import type { Engine } from "../engine.ts";
import type { Module } from "../../models/module.ts";
import type { GpuCifar } from "../../data/gpu_dataset.ts";
import { SGD } from "../optim.ts";
import { PlannedSteps } from "./planned_steps.ts";
import { cosineLr } from "./schedule.ts";
import { EpochMetrics } from "./metrics.ts";
import { loadTrainCheckpoint, saveTrainCheckpoint, type TrainPosition } from "./checkpoint.ts";
import { duration, epochLine } from "./format.ts";

/** Settings of {@linkcode train}; defaults are the recipes' (RECIPES.md). */
export interface TrainOptions {
  epochs: number;
  seed?: number;
  /** Label smoothing of the loss (train and test), default 0. */
  smoothing?: number;
  baseLr?: number;
  momentum?: number;
  weightDecay?: number;
  nesterov?: boolean;
  /** Checkpoint written at the end of every epoch and on interruption. */
  checkpoint?: string;
  /** A checkpoint to continue from. */
  resume?: string;
  /** A JSON-lines file receiving one object per epoch. */
  metrics?: string;
  /** Identifies the run's settings; a resumed checkpoint must carry the same. */
  run?: string;
  /** Where lines go (default console.log). */
  log?: (line: string) => void;
  /** Progress updates during an epoch (batch, total, images/s, seconds left). */
  progress?: (batch: number, batches: number, imagesPerSecond: number, eta: number) => void;
  /** Asked before every batch: true stops the run after writing a checkpoint. */
  interrupted?: () => boolean;
}

/** One epoch's results. */
export interface EpochResult {
  epoch: number;
  lr: number;
  loss: number;
  testLoss: number;
  accuracy: number;
  seconds: number;
  imagesPerSecond: number;
  confusion: Uint32Array;
}

/** The loss became NaN or infinite; the last good checkpoint is kept. */
export class TrainingDivergedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TrainingDivergedError";
  }
}

/** What {@linkcode train} returns. */
export interface TrainResult {
  epochs: EpochResult[];
  seconds: number;
  /** True when stopped by `interrupted()` (a checkpoint was written if one was configured). */
  interrupted: boolean;
}

/** Dropout seed of one batch (distinct per seed, epoch and batch). */
export function batchSeed(seed: number, epoch: number, batch: number): number {
  return ((seed * 0x9e3779b1) ^ (epoch * 0x85ebca6b) ^ (batch * 0xc2b2ae35)) >>> 0;
}

/**
 * Trains `model` on `train` and tests it on `test` every epoch, printing the seed's line.
 *
 * @example
 * ```ts
 * const result = await train(engine, model, trainSet, testSet, { epochs: 60 });
 * ```
 */
export async function train(
  engine: Engine,
  model: Module,
  trainSet: GpuCifar,
  testSet: GpuCifar,
  options: TrainOptions,
): Promise<TrainResult> {
  const log = options.log ?? console.log;
  const seed = options.seed ?? 0;
  const smoothing = options.smoothing ?? 0;
  const run = options.run ?? "";
  const opt = new SGD(model.params, {
    lr: options.baseLr ?? 0.08,
    momentum: options.momentum ?? 0.9,
    weightDecay: options.weightDecay ?? 5e-4,
    nesterov: options.nesterov ?? true,
  });
  const metrics = new EpochMetrics(engine, 10);
  const steps = new PlannedSteps(engine, { model, opt, metrics }, {
    smoothing,
    dropoutSeed: (epoch, batch) => batchSeed(seed, epoch, batch),
  });
  const results: EpochResult[] = [];
  const started = performance.now();
  try {
    let pos: TrainPosition = { epoch: 0, batch: 0, lossSum: 0, seed, steps: 0, run };
    if (options.resume) {
      pos = await loadTrainCheckpoint(options.resume, model, opt, run);
      log(`resuming from ${options.resume}: epoch ${pos.epoch + 1}, batch ${pos.batch + 1}`);
    }
    for (let k = pos.epoch; k < options.epochs; k++) {
      const lr = cosineLr(k, options.epochs, options.baseLr ?? 0.08);
      opt.lr = lr;
      trainSet.beginEpoch(k, seed);
      const first = k === pos.epoch ? pos.batch : 0;
      metrics.reset(k === pos.epoch ? pos.lossSum : 0);
      const t0 = performance.now();
      const inflight: Promise<void>[] = [];
      let lastProgress = 0;
      for (let i = first; i < trainSet.batches; i++) {
        if (options.interrupted?.()) {
          await engine.sync();
          const lossSum = (await metrics.read()).trainLoss;
          if (options.checkpoint) {
            await saveTrainCheckpoint(options.checkpoint, model, opt, {
              epoch: k,
              batch: i,
              lossSum,
              seed,
              steps: opt.steps,
              run,
            });
            log(
              `interrupted at epoch ${k + 1}, batch ${
                i + 1
              }; checkpoint written to ${options.checkpoint} (resume with --resume ${options.checkpoint})`,
            );
          } else log(`interrupted at epoch ${k + 1}, batch ${i + 1}; no checkpoint configured`);
          return {
            epochs: results,
            seconds: (performance.now() - started) / 1000,
            interrupted: true,
          };
        }
        steps.train(trainSet, k, i);
        // Bound the work queued ahead of the GPU (no readback: completion only).
        inflight.push(engine.device.queue.onSubmittedWorkDone());
        if (inflight.length > 2) await inflight.shift();
        const now = performance.now();
        if (options.progress && now - lastProgress > 250) {
          lastProgress = now;
          const done = i + 1 - first;
          const rate = (done * trainSet.batchSize) / ((now - t0) / 1000);
          const eta = ((trainSet.batches - i - 1) * trainSet.batchSize) / rate;
          options.progress(i + 1, trainSet.batches, rate, eta);
        }
      }
      await Promise.all(inflight);
      const trainSeconds = (performance.now() - t0) / 1000;
      const images = (trainSet.batches - first) * trainSet.batchSize;
      testSet.beginEpoch(0, 0, { shuffle: false });
      for (let i = 0; i < testSet.batches; i++) steps.test(testSet, i);
      const totals = await metrics.read();
      if (totals.badBatch >= 0) {
        const kept = options.checkpoint
          ? `; the last good checkpoint is kept in ${options.checkpoint}`
          : "";
        throw new TrainingDivergedError(
          `Training loss became NaN or infinite at epoch ${k + 1}, batch ${
            totals.badBatch + 1
          }${kept}`,
        );
      }
      let correct = 0;
      for (let c = 0; c < metrics.classes; c++) {
        correct += totals.confusion[c * metrics.classes + c];
      }
      const result: EpochResult = {
        epoch: k + 1,
        lr,
        loss: totals.trainLoss / trainSet.batches,
        testLoss: totals.testLoss / testSet.length,
        accuracy: (100 * correct) / testSet.length,
        seconds: (performance.now() - t0) / 1000,
        imagesPerSecond: images / trainSeconds,
        confusion: totals.confusion,
      };
      results.push(result);
      log(epochLine({ ...result, time: new Date() }));
      if (options.metrics) {
        const { confusion: _c, ...rest } = result;
        await Deno.writeTextFile(options.metrics, JSON.stringify(rest) + "\n", { append: true });
      }
      if (options.checkpoint) {
        await saveTrainCheckpoint(options.checkpoint, model, opt, {
          epoch: k + 1,
          batch: 0,
          lossSum: 0,
          seed,
          steps: opt.steps,
          run,
        });
      }
    }
  } finally {
    steps.dispose();
    metrics.dispose();
    opt.dispose();
  }
  const seconds = (performance.now() - started) / 1000;
  log(`total time: ${duration(seconds)}`);
  return { epochs: results, seconds, interrupted: false };
}
