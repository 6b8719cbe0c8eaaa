/**
 * The trainer: epochs of planned training steps and a test pass, the cosine schedule, checkpoints
 * after every epoch, and the three interfaces its inputs implement (data's `GpuCifar` is a
 * `BatchSource`, models' `Module` a `Trainable`, `moduleCheckpointer` a `Checkpointer`).
 *
 * @module
 */

export {
  type EpochResult,
  train,
  TrainingDivergedError,
  type TrainOptions,
  type TrainResult,
} from "./trainer.ts";
export type { Batch, BatchSource, Checkpointer, Trainable, TrainPosition } from "./interfaces.ts";
export { cosineLr } from "./schedule.ts";
