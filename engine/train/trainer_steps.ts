// The trainer's training and test steps, planned once per batch size and replayed.
import type { Engine } from "../engine.ts";
import type { SGD } from "../optim.ts";
import { crossEntropyParts, softmaxCrossEntropy } from "../ops/loss.ts";
import { type PlannedStep, planStep } from "../planned_step.ts";
import type { EpochMetrics } from "./metrics.ts";
import { measureStep, type StepMemory } from "../step_memory.ts";
import type { BatchSource, Trainable } from "./interfaces.ts";

/** What the planned steps need of a data split: batch sizes and a batch built from an index. */
type PlannedBatches = Pick<BatchSource, "batchLength" | "batch">;
/** What they need of a model: a forward pass taking a per-step dropout seed. */
type PlannedModel = Pick<Trainable, "forward">;

/** Options of {@linkcode PlannedSteps}. */
export interface PlannedStepsOptions {
  smoothing: number;
  /** The dropout seed of a training batch. */
  dropoutSeed: (epoch: number, batch: number) => number;
}

/**
 * A training step (batch, forward, softmax-CE, loss into the metrics, backward, SGD) and a test
 * step (batch, forward with running statistics, loss and confusion into the metrics), each
 * planned at its first use for a batch size and replayed after: the epoch, batch index, dropout
 * seed and learning rate are the per-step values. Only one split's plans are kept: switching
 * from training to test (or back) frees the other's, so the GPU holds the larger of the two
 * steps' memory, not both (re-planning costs tens of milliseconds of host time once an epoch).
 * The caller waits for the GPU before switching (the trainer does, to read its metrics).
 */
export class PlannedSteps {
  #engine: Engine;
  #model: PlannedModel;
  #opt: SGD;
  #metrics: EpochMetrics;
  #options: PlannedStepsOptions;
  #now = { epoch: 0, batch: 0, test: 0 };
  /** Plans by split and batch size. */
  #plans = new Map<PlannedBatches, Map<number, PlannedStep<Record<string, never>, void>>>();

  constructor(
    engine: Engine,
    parts: { model: PlannedModel; opt: SGD; metrics: EpochMetrics },
    options: PlannedStepsOptions,
  ) {
    this.#engine = engine;
    this.#model = parts.model;
    this.#opt = parts.opt;
    this.#metrics = parts.metrics;
    this.#options = options;
  }

  /** Runs (records and submits) training step `batch` of `epoch` on `data`. */
  train(data: PlannedBatches, epoch: number, batch: number): void {
    const now = this.#now;
    now.epoch = epoch;
    now.batch = batch;
    this.#plan(data, batch, () => planStep(this.#engine, this.#trainBody(data))).replay();
  }

  /** Runs test batch `batch` of `data` (no tape). */
  test(data: PlannedBatches, batch: number): void {
    this.#now.test = batch;
    this.#plan(data, batch, () => planStep(this.#engine, this.#testBody(data))).replay();
  }

  /**
   * What a training step on batches of `train` and a test step on `test` would allocate and
   * bind, found without allocating (engine/step_memory.ts); nothing is planned or run.
   */
  measure(train: PlannedBatches, test: PlannedBatches): { train: StepMemory; test: StepMemory } {
    return {
      train: measureStep(this.#engine, this.#trainBody(train)),
      test: measureStep(this.#engine, this.#testBody(test)),
    };
  }

  /** What a training step records: batch, forward, loss, backward, SGD. */
  #trainBody(data: PlannedBatches): () => void {
    const now = this.#now, e = this.#engine, o = this.#options;
    return () => {
      const b = data.batch(() => now.batch);
      const seed = () => o.dropoutSeed(now.epoch, now.batch);
      const logits = this.#model.forward(b.x, { training: true, seed });
      const loss = softmaxCrossEntropy(logits, b.y, { smoothing: o.smoothing });
      this.#metrics.trackTrain(loss, () => now.batch);
      e.tape.backward(loss);
      this.#opt.step();
    };
  }

  /** What a test step records: batch, forward with running statistics, loss and confusion. */
  #testBody(data: PlannedBatches): () => void {
    const now = this.#now, e = this.#engine;
    return () =>
      e.noGrad(() => {
        const b = data.batch(() => now.test);
        const logits = this.#model.forward(b.x, { training: false });
        const parts = crossEntropyParts(logits, b.y, { smoothing: this.#options.smoothing });
        this.#metrics.trackTest(parts.rowLoss, parts.pred, b.y);
      });
  }

  /** GPU bytes the plans hold. */
  get bytes(): number {
    let n = 0;
    for (const m of this.#plans.values()) for (const s of m.values()) n += s.bytes;
    return n;
  }

  /** Frees every plan (WebGPU keeps buffers alive for work already submitted). */
  dispose(): void {
    for (const m of this.#plans.values()) for (const s of m.values()) s.dispose();
    this.#plans.clear();
  }

  /** The plan for `data` at the size of its batch `batch`, made by `make` at first use. */
  #plan(
    data: PlannedBatches,
    batch: number,
    make: () => PlannedStep<Record<string, never>, void>,
  ): PlannedStep<Record<string, never>, void> {
    const size = data.batchLength(batch);
    for (const [other, plans] of this.#plans) {
      if (other === data) continue;
      for (const s of plans.values()) s.dispose();
      this.#plans.delete(other);
    }
    let bySize = this.#plans.get(data);
    if (!bySize) this.#plans.set(data, bySize = new Map());
    let step = bySize.get(size);
    if (!step) bySize.set(size, step = make());
    return step;
  }
}
