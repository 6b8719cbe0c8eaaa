// CIFAR-10 on the GPU: images as bytes, an epoch order uploaded once, one kernel per batch.
import type { Engine } from "../engine/engine.ts";
import type { Tensor } from "../engine/tensor.ts";
import type { Batch } from "../engine/train/interfaces.ts";
import { grid } from "../engine/grid.ts";
import { epochKey, epochOrder } from "./random.ts";
import type { ImageSet, MeanStd } from "./transforms.ts";
import code from "../kernels/augment.wgsl" with { type: "text" };

const SRC = { name: "augment.wgsl", code };
const IMAGE = 3 * 32 * 32;
const WG = 256;
const PER_INVOCATION = 4; // outputs each kernel invocation writes (part of one row)

/** Options for {@linkcode GpuCifar.upload}. */
export interface GpuCifarOptions {
  /** Per-channel mean and std (pixel units) used to standardize every batch. */
  stats: MeanStd;
  /** Images per batch (125 for training, 1,000 for test); the last batch may be smaller. */
  batchSize: number;
  /** Random crop (zero-pad 4, 32×32) and random horizontal flip (p = 0.5) per image. */
  augment?: boolean;
  /** The flip-doubled set: 2N positions, index i ≥ N is image i − N mirrored (no second copy). */
  mirror?: boolean;
  /** Most images per GPU buffer (default: what the storage binding limit allows; for tests). */
  partImages?: number;
}

/** One batch: standardized images f32 [size, 3, 32, 32] and labels u32 [size] (caller owns them). */
export interface GpuBatch extends Batch {
  /** Images in the batch. */
  size: number;
}

/**
 * A CIFAR-10 split held on the GPU as bytes. `beginEpoch` uploads the epoch's order (one write);
 * `batch(i)` records one kernel that gathers, augments and standardizes batch i. No readbacks.
 *
 * @example
 * ```ts
 * const train = GpuCifar.upload(engine, { images: d.x, labels: d.y, n: d.n },
 *   { stats: meanStd(d.x, d.n), batchSize: 125, augment: true });
 * train.beginEpoch(epoch, seed);
 * for (let i = 0; i < train.batches; i++) engine.scope(() => step(train.batch(i)));
 * ```
 */
export class GpuCifar {
  /** The engine the split lives on. */
  readonly engine: Engine;
  /** Images stored. */
  readonly n: number;
  /** Positions an epoch visits: n, or 2n with `mirror`. */
  readonly length: number;
  /** Images a batch holds (the last batch of an epoch may hold fewer). */
  readonly batchSize: number;
  /** Batches an epoch has (the last one partial when batchSize does not divide length). */
  readonly batches: number;
  /** Whether batches are randomly cropped (pad 4) and flipped. */
  readonly augment: boolean;
  #parts: Tensor[];
  #buffers: GPUBuffer[];
  #split: number;
  #labels: Tensor;
  #order: Tensor;
  #orderCpu: Uint32Array = new Uint32Array(0);
  #state = "";
  #params: Record<string, number>;

  private constructor(engine: Engine, set: ImageSet, options: GpuCifarOptions) {
    this.engine = engine;
    this.n = set.n;
    this.length = options.mirror ? 2 * set.n : set.n;
    this.batchSize = options.batchSize;
    this.batches = Math.ceil(this.length / this.batchSize);
    this.augment = options.augment ?? false;
    const limits = engine.gpu.limits;
    const fit = Math.floor(
      Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize) / IMAGE,
    );
    const perPart = Math.min(fit, options.partImages ?? fit);
    if (set.n > 2 * perPart) {
      throw new RangeError(
        `GpuCifar: ${set.n} images need more than 2 buffers of ${perPart} images ` +
          `(storage binding limit ${limits.maxStorageBufferBindingSize} bytes)`,
      );
    }
    this.#split = Math.min(set.n, perPart);
    const counts = [this.#split, set.n - this.#split].filter((c) => c > 0);
    this.#buffers = counts.map((c) =>
      engine.device.createBuffer({
        label: `cifar images ${c}`,
        size: Math.max(4, c * IMAGE),
        usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC,
      })
    );
    this.#parts = counts.map((c, i) => engine.view(this.#buffers[i], 0, [c, 3, 32, 32], "u8"));
    counts.reduce((first, c, i) => {
      engine.write(this.#parts[i], set.images.subarray(first * IMAGE, (first + c) * IMAGE));
      return first + c;
    }, 0);
    this.#labels = engine.persistent([set.n], "u8");
    engine.write(this.#labels, set.labels.subarray(0, set.n));
    this.#order = engine.persistent([4 + this.length], "u32");
    const { mean, std } = options.stats;
    this.#params = {
      offset: 0,
      count: 0,
      n: set.n,
      split: this.#split,
      augment: this.augment ? 1 : 0,
      mean0: mean[0],
      mean1: mean[1],
      mean2: mean[2],
      inv0: 1 / std[0],
      inv1: 1 / std[1],
      inv2: 1 / std[2],
    };
    this.beginEpoch(0, 0, { shuffle: false });
  }

  /** Copies a split's images ([n, 3, 32, 32] bytes) and labels to the GPU. */
  static upload(engine: Engine, set: ImageSet, options: GpuCifarOptions): GpuCifar {
    if (set.images.length < set.n * IMAGE || set.labels.length < set.n) {
      throw new RangeError(
        `GpuCifar.upload: ${set.n} images need ${set.n * IMAGE} bytes and labels`,
      );
    }
    if (!(options.batchSize >= 1)) {
      throw new RangeError(`GpuCifar: bad batchSize ${options.batchSize}`);
    }
    return new GpuCifar(engine, set, options);
  }

  /**
   * Sets the epoch's order (Fisher–Yates from seed and epoch when shuffle, else 0 … length−1) and
   * the key of its random crops and flips; one upload, skipped when nothing changed.
   */
  beginEpoch(epoch: number, seed = 0, options: { shuffle?: boolean } = {}): void {
    const shuffle = options.shuffle ?? true;
    const key = epochKey(seed, epoch);
    const state = `${shuffle ? `${seed}/${epoch}` : "identity"}|${this.augment ? key : ""}`;
    if (state === this.#state) return;
    this.#orderCpu = epochOrder(this.length, seed, epoch, shuffle);
    const words = new Uint32Array(4 + this.length);
    words[0] = key;
    words.set(this.#orderCpu, 4);
    this.engine.write(this.#order, words);
    this.#state = state;
  }

  /** The current epoch's order (a CPU copy; index ≥ n means mirrored). */
  get order(): Uint32Array {
    return this.#orderCpu;
  }

  /** Images in batch i (batchSize, or less for the last). */
  batchLength(i: number): number {
    if (!(i >= 0 && i < this.batches && Number.isInteger(i))) {
      throw new RangeError(`GpuCifar.batch: index ${i} outside 0 … ${this.batches - 1}`);
    }
    return Math.min(this.batchSize, this.length - i * this.batchSize);
  }

  /**
   * Records the kernel building batch i of the current epoch; returns fresh x and y tensors.
   * A function is a per-step index (a planned step calls it at every replay; every batch it
   * names must have the first one's size).
   */
  batch(i: number | (() => number)): GpuBatch {
    const index = typeof i === "function" ? i : () => i;
    const size = this.batchLength(index());
    const e = this.engine;
    const x = e.tensor([size, 3, 32, 32]);
    const y = e.tensor([size], "u32");
    const params = (j: number) => {
      if (this.batchLength(j) !== size) {
        throw new RangeError(
          `GpuCifar.batch: batch ${j} has ${this.batchLength(j)} images, not ${size}`,
        );
      }
      return { ...this.#params, offset: j * this.batchSize, count: size };
    };
    const p = typeof i === "function" ? () => params(i()) : params(i);
    const img1 = this.#parts[1] ?? this.#parts[0];
    e.run(
      SRC,
      "batch",
      { img0: this.#parts[0], img1, labels: this.#labels, order: this.#order, x, y, p },
      grid((size * IMAGE) / PER_INVOCATION, WG),
      { WG },
    );
    return { x, y, size };
  }

  /** Frees the GPU buffers. */
  dispose(): void {
    this.engine.flush();
    for (const b of this.#buffers) b.destroy();
    this.#labels.dispose();
    this.#order.dispose();
  }
}
