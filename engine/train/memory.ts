// Before any work: does a batch fit the adapter? The planned steps' bytes against what it grants.
import type { Engine } from "../engine.ts";
import { SGD } from "../optim.ts";
import { sizeClass } from "../buffer_pool.ts";
import { deviceMemory, type StepMemory } from "../step_memory.ts";
import { EpochMetrics } from "./metrics.ts";
import { SGD_DEFAULTS } from "./options.ts";
import { PlannedSteps } from "./trainer_steps.ts";
import type { Trainable } from "./interfaces.ts";

/** A batch the adapter cannot hold: what it needs, the limit, and the largest batch that fits. */
export class MemoryLimitError extends RangeError {
  /** The largest training batch that fits (0: none does). */
  readonly largestBatch: number;
  /** A refusal with its message and the largest batch that fits. */
  constructor(message: string, largestBatch: number) {
    super(message);
    this.name = "MemoryLimitError";
    this.largestBatch = largestBatch;
  }
}

/** The sizes a check is about. */
export interface MemoryQuestion {
  /** Images of a training batch. */
  batch: number;
  /** Images of a test batch. */
  testBatch: number;
  /** Label smoothing of the loss (part of the step). */
  smoothing: number;
  /** Bytes the data will hold on the GPU besides the steps (images, labels, orders). */
  dataBytes: number;
  /** One image's shape (default CIFAR's [3, 32, 32]). */
  image?: readonly number[];
}

/** What a training run needs at one batch size. */
export interface MemoryNeed {
  /** The training step (only one of the two steps is held at a time). */
  train: StepMemory;
  /** The test step. */
  test: StepMemory;
  /** Every byte: the larger step, the parameters, optimizer and metrics, and the data. */
  total: number;
}

const fmt = (n: number) => n.toLocaleString("en-US");
const mb = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;

/** The steps of `model` at these sizes, measured without allocating them. */
export function memoryNeed(engine: Engine, model: Trainable, q: MemoryQuestion): MemoryNeed {
  const image = q.image ?? [3, 32, 32];
  const before = engine.pool.stats.allocated;
  // The trainer's optimizer (Nesterov momentum: one more buffer the size of the weights).
  const { momentum, nesterov, weightDecay } = SGD_DEFAULTS;
  const opt = new SGD(model.params, { lr: 0, momentum, nesterov, weightDecay });
  const metrics = new EpochMetrics(engine, model.classes);
  const steps = new PlannedSteps(engine, { model, opt, metrics }, {
    smoothing: q.smoothing,
    dropoutSeed: () => 0,
  });
  const shapes = (n: number) => ({
    batchLength: () => n,
    batch: () => ({ x: engine.tensor([n, ...image]), y: engine.tensor([n], "u32") }),
  });
  try {
    const { train, test } = steps.measure(shapes(q.batch), shapes(q.testBatch));
    // Parameters, gradients, momentum and metrics: allocated now, held for the whole run.
    const held = engine.pool.stats.allocated;
    return { train, test, total: Math.max(train.bytes, test.bytes) + held + q.dataBytes };
  } finally {
    steps.dispose();
    metrics.dispose();
    opt.dispose();
    if (engine.pool.stats.allocated > before) engine.trim();
  }
}

/** Why `need` does not fit `engine`'s adapter, or null when it fits. */
function overLimit(engine: Engine, need: MemoryNeed, q: MemoryQuestion): string | null {
  const l = engine.gpu.limits;
  for (
    const [what, m, n] of [["training", need.train, q.batch], [
      "test",
      need.test,
      q.testBatch,
    ]] as const
  ) {
    const big = m.largest;
    const where = `${big.binding} of ${big.kernel}`;
    if (big.bytes > l.maxStorageBufferBindingSize) {
      return `the ${what} step at batch ${fmt(n)} binds ${
        fmt(big.bytes)
      } bytes at once (${where}), over the adapter's maxStorageBufferBindingSize of ${
        fmt(l.maxStorageBufferBindingSize)
      } bytes`;
    }
    if (sizeClass(big.bytes) > l.maxBufferSize) {
      return `the ${what} step at batch ${fmt(n)} needs a buffer of ${
        fmt(sizeClass(big.bytes))
      } bytes (${where}), over the adapter's maxBufferSize of ${fmt(l.maxBufferSize)} bytes`;
    }
  }
  const memory = deviceMemory(engine);
  if (memory && need.total > memory.bytes) {
    return `the run at batch ${fmt(q.batch)} needs ${
      mb(need.total)
    } of GPU memory (steps, parameters and data), more than ${memory.source}, ${mb(memory.bytes)}`;
  }
  return null;
}

/** Whether a training batch of `q.batch` (and the test batch) fits; measured, nothing allocated. */
export function fitsBatch(engine: Engine, model: Trainable, q: MemoryQuestion): boolean {
  try {
    return overLimit(engine, memoryNeed(engine, model, q), q) === null;
  } catch (e) {
    if (e instanceof RangeError && /workgroups/.test(e.message)) return false;
    throw e;
  }
}

/** The largest training batch ≤ `q.batch` that fits (binary search on measured steps), or 0. */
export function largestBatch(engine: Engine, model: Trainable, q: MemoryQuestion): number {
  let lo = 0, hi = q.batch; // fits(lo) holds (0 trivially), the answer is ≤ hi
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fitsBatch(engine, model, { ...q, batch: mid })) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * Refuses, before any GPU work, a training batch the adapter cannot hold: measures the training
 * and test steps (nothing allocated) against `maxStorageBufferBindingSize`, `maxBufferSize` and
 * the device memory where known, and throws a {@linkcode MemoryLimitError} naming the batch, the
 * bytes, the limit and the largest batch that fits. Returns the need when it fits.
 */
export function checkMemory(engine: Engine, model: Trainable, q: MemoryQuestion): MemoryNeed {
  let need: MemoryNeed | null = null;
  let why: string | null;
  try {
    need = memoryNeed(engine, model, q);
    why = overLimit(engine, need, q);
  } catch (e) {
    if (!(e instanceof RangeError && /workgroups/.test(e.message))) throw e;
    why = `a kernel of the step at batch ${
      fmt(q.batch)
    } needs more workgroups than the adapter allows (${e.message})`;
  }
  if (why === null && need) return need;
  const best = largestBatch(engine, model, { ...q, batch: q.batch - 1 });
  const fit = best > 0
    ? `the largest batch that fits is ${fmt(best)}`
    : `no training batch fits beside the test step (batch ${fmt(q.testBatch)})`;
  throw new MemoryLimitError(
    `a training batch of ${fmt(q.batch)} does not fit ${engine.gpu.name}: ${why}; ${fit}`,
    best,
  );
}

/** One line on what a fitting run needs. */
export function describeNeed(engine: Engine, need: MemoryNeed): string {
  const l = engine.gpu.limits;
  const big = need.train.largest.bytes >= need.test.largest.bytes
    ? need.train.largest
    : need.test.largest;
  const memory = deviceMemory(engine);
  return `memory: ${mb(need.total)} in all (training step ${mb(need.train.bytes)}, test step ${
    mb(need.test.bytes)
  }${memory ? `; ${mb(memory.bytes)} available` : ""}), largest binding ${mb(big.bytes)} of ${
    mb(l.maxStorageBufferBindingSize)
  } allowed`;
}
