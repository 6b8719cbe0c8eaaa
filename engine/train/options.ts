// What train() takes and returns, and the SGD settings it defaults to (the recipes').
import type { Checkpointer } from "./interfaces.ts";

/** The recipes' SGD (docs/recipes.md): the defaults of {@linkcode TrainOptions} and `cosineLr`. */
export const SGD_DEFAULTS: {
  readonly baseLr: number;
  readonly momentum: number;
  readonly weightDecay: number;
  readonly nesterov: boolean;
} = { baseLr: 0.08, momentum: 0.9, weightDecay: 5e-4, nesterov: true };

/** Settings of {@linkcode train}; defaults are the recipes' (docs/recipes.md). */
export interface TrainOptions {
  /** Epochs to train; the cosine schedule spans them. */
  epochs: number;
  /** Seed of data order, augmentation and dropout (default 0). */
  seed?: number;
  /** Label smoothing of the loss (train and test), default 0. */
  smoothing?: number;
  /** Learning rate of the first epoch (default {@linkcode SGD_DEFAULTS}: 0.08). */
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
  /** classes × classes confusion counts of the test pass, row = true class. */
  confusion: Uint32Array;
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
