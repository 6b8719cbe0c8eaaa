/**
 * The trainer: epochs of planned training steps and a test pass, the cosine schedule, checkpoints
 * after every epoch, and the three interfaces its inputs implement (data's `GpuCifar` is a
 * `BatchSource`, models' `Module` a `Trainable`, `moduleCheckpointer` a `Checkpointer`).
 *
 * @module
 */

export { train, TrainingDivergedError } from "./trainer.ts";
export { type EpochResult, SGD_DEFAULTS, type TrainOptions, type TrainResult } from "./options.ts";
export type { Batch, BatchSource, Checkpointer, Trainable, TrainPosition } from "./interfaces.ts";
export { cosineLr } from "./schedule.ts";
export {
  checkMemory,
  describeNeed,
  fitsBatch,
  largestBatch,
  MemoryLimitError,
  type MemoryNeed,
  memoryNeed,
  type MemoryQuestion,
} from "./memory.ts";
