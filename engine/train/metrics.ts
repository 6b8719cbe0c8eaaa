// GPU accumulators for an epoch: training loss sum, first non-finite batch, test loss, confusion.
import type { Engine } from "../engine.ts";
import type { Tensor } from "../tensor.ts";
import code from "../../kernels/metrics.wgsl" with { type: "text" };
import reduceCode from "../../kernels/reduce.wgsl" with { type: "text" };

const SRC = { name: "metrics.wgsl", code };
const REDUCE = { name: "reduce.wgsl", code: reduceCode };
const NONE = 0xffffffff;

/** What one epoch's accumulators hold once read back. */
export interface EpochTotals {
  /** Sum of the training batches' mean losses. */
  trainLoss: number;
  /** Index of the first batch whose loss was NaN or infinite, or -1. */
  badBatch: number;
  /** Sum of the test rows' losses. */
  testLoss: number;
  /** [K·K] counts, row = true class, column = predicted class. */
  confusion: Uint32Array;
}

/** Accumulates metrics on the GPU during an epoch; `read()` is the one readback per epoch. */
export class EpochMetrics {
  readonly engine: Engine;
  readonly classes: number;
  #train: Tensor;
  #bad: Tensor;
  #test: Tensor;
  #confusion: Tensor;

  constructor(engine: Engine, classes: number) {
    this.engine = engine;
    this.classes = classes;
    this.#train = engine.persistent([1]);
    this.#bad = engine.persistent([1], "u32");
    this.#test = engine.persistent([1]);
    this.#confusion = engine.persistent([classes * classes], "u32");
    this.reset();
  }

  /** Zeroes every accumulator (optionally starting the training sum at `trainLoss`). */
  reset(trainLoss = 0): void {
    this.engine.fill(this.#train, trainLoss);
    this.engine.fill(this.#bad, NONE);
    this.engine.fill(this.#test, 0);
    this.engine.fill(this.#confusion, 0);
  }

  /**
   * Adds a training batch's mean loss [1]; remembers `batch` if the loss is not finite (a
   * function: the batch index of each replay of a planned step).
   */
  trackTrain(loss: Tensor, batch: number | (() => number)): void {
    this.engine.run(SRC, "trackLoss", {
      loss,
      total: this.#train,
      bad: this.#bad,
      p: typeof batch === "function"
        ? () => ({ batch: batch(), N: 0, K: 0 })
        : { batch, N: 0, K: 0 },
    }, 1);
  }

  /** Adds a test batch: per-row losses [N], predictions and labels (u32 [N]). */
  trackTest(rowLoss: Tensor, pred: Tensor, labels: Tensor): void {
    const e = this.engine;
    const s = e.tensor([1]);
    e.run(REDUCE, "sum", { x: rowLoss, out: s, p: { n: rowLoss.size, s: 1 } }, 1);
    e.accumulate(this.#test, s);
    s.dispose();
    const N = labels.size;
    e.run(SRC, "countConfusion", {
      labels,
      pred,
      confusion: this.#confusion,
      p: { batch: 0, N, K: this.classes },
    }, Math.ceil(N / 64));
  }

  /** Reads the accumulators back (a sync point). */
  async read(): Promise<EpochTotals> {
    const [train, bad, test, confusion] = await Promise.all([
      this.engine.read(this.#train),
      this.engine.read(this.#bad),
      this.engine.read(this.#test),
      this.engine.read(this.#confusion),
    ]);
    return {
      trainLoss: train[0],
      badBatch: bad[0] === NONE ? -1 : bad[0],
      testLoss: test[0],
      confusion: confusion as Uint32Array,
    };
  }

  /** Frees the accumulators. */
  dispose(): void {
    for (const t of [this.#train, this.#bad, this.#test, this.#confusion]) t.dispose();
  }
}
