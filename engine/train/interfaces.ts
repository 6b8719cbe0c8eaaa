// What the trainer needs of its inputs: a batch source, a trainable model, a checkpointer.
import type { Tensor } from "../tensor.ts";
import type { ParamStore } from "../params.ts";
import type { SGD } from "../optim.ts";

/** One batch: inputs x [N, C, H, W] f32 and labels y [N] u32. */
export interface Batch {
  /** Images [N, C, H, W] f32. */
  x: Tensor;
  /** Labels [N] u32. */
  y: Tensor;
}

/** Batches of one data split (data/'s `GpuCifar` is one). */
export interface BatchSource {
  /** Images per epoch. */
  readonly length: number;
  /** Images a batch holds (the last batch may hold fewer). */
  readonly batchSize: number;
  /** Batches per epoch (the last may be partial). */
  readonly batches: number;
  /** Fixes the epoch's order (shuffled from (epoch, seed) unless `shuffle` is false). */
  beginEpoch(epoch: number, seed: number, options?: { shuffle?: boolean }): void;
  /** Images in batch i (batchSize, or less for the last). */
  batchLength(i: number): number;
  /**
   * Batch i of the current epoch, built on the GPU. A function is a per-step index: a planned
   * step calls it at every replay (every batch it names has the first one's size).
   */
  batch(i: number | (() => number)): Batch;
}

/** A model the trainer can run (models/'s `Module` is one). */
export interface Trainable {
  /** Its parameters, which the optimizer updates. */
  readonly params: ParamStore;
  /** Number of classes of the logits. */
  readonly classes: number;
  /** Logits [N, classes]; `seed` drives dropout in training (a function: per replayed step). */
  forward(x: Tensor, options: { training: boolean; seed?: number | (() => number) }): Tensor;
}

/** Where training stands: the next batch to run. */
export interface TrainPosition {
  /** Epoch (0-based) the next batch belongs to. */
  epoch: number;
  /** Next batch within that epoch (0 at an epoch boundary; `batches` after its training part). */
  batch: number;
  /** Sum of the epoch's batch losses so far (non-zero only mid-epoch). */
  lossSum: number;
  /** SGD steps taken. */
  steps: number;
}

/** Saves and restores a model with its optimizer and position (models/'s `moduleCheckpointer`). */
export interface Checkpointer {
  /** Writes the model, optimizer state and position to `path`, atomically. */
  save(path: string, optimizer: SGD, position: TrainPosition): Promise<void>;
  /** Reads `path` into the model and optimizer; returns where to continue. Throws naming the file. */
  load(path: string, optimizer: SGD): Promise<TrainPosition>;
}
