// Training checkpoints: model weights and BN statistics (PyTorch names), SGD momentum, position.
import type { Module } from "../../models/module.ts";
import type { SGD } from "../optim.ts";
import { loadStateDict, stateDict } from "../../models/checkpoint.ts";
import { decodeSafetensors, encodeSafetensors } from "../../models/safetensors.ts";
import { modelTitle } from "../../models/spec.ts";

/** Marks a file as a training checkpoint of this format. */
export const TRAIN_CHECKPOINT_FORMAT = "resnet-webgpu-train/1";
const MOMENTUM = "optimizer.momentum";

/** Where training stands: the next batch to run, and what identifies the run. */
export interface TrainPosition {
  /** Epoch (0-based) the next batch belongs to. */
  epoch: number;
  /** Next batch within that epoch (0 at an epoch boundary). */
  batch: number;
  /** Sum of the epoch's batch losses so far (non-zero only mid-epoch). */
  lossSum: number;
  /** Seed of data order, augmentation and dropout. */
  seed: number;
  /** SGD steps taken. */
  steps: number;
  /** The run's settings (recipe, epochs, batch, model); a resume must match them. */
  run: string;
}

/**
 * Writes weights, BN statistics, the SGD momentum buffer, the position, the model spec (JSON, so
 * the model can be rebuilt from the file alone) and any extra `metadata`, atomically
 * (temporary file, then rename): a crash leaves the previous checkpoint whole.
 */
export async function saveTrainCheckpoint(
  path: string,
  model: Module,
  opt: SGD,
  pos: TrainPosition,
  metadata: Record<string, string> = {},
): Promise<void> {
  const tensors = await stateDict(model, { step: pos.steps });
  const momentum = (await model.engine.read(opt.momentumBuffer)) as Float32Array;
  tensors.set(MOMENTUM, { dtype: "F32", shape: [momentum.length], data: momentum });
  const bytes = encodeSafetensors(tensors, {
    ...metadata,
    model: modelTitle(model.spec),
    spec: JSON.stringify(model.spec),
    format: TRAIN_CHECKPOINT_FORMAT,
    epoch: String(pos.epoch),
    batch: String(pos.batch),
    lossSum: String(pos.lossSum),
    seed: String(pos.seed),
    steps: String(pos.steps),
    run: pos.run,
  });
  const dir = path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : ".";
  await Deno.mkdir(dir, { recursive: true });
  const tmp = `${path}.tmp-${Deno.pid}`;
  await Deno.writeFile(tmp, bytes);
  await Deno.rename(tmp, path);
}

/** Loads a training checkpoint of the same run settings into the model and optimizer; returns where to continue. */
export async function loadTrainCheckpoint(
  path: string,
  model: Module,
  opt: SGD,
  run: string,
): Promise<TrainPosition> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    throw new Error(`Cannot resume: ${path} cannot be read (${(e as Error).message})`);
  }
  const file = decodeSafetensors(bytes);
  const m = file.metadata;
  if (m.format !== TRAIN_CHECKPOINT_FORMAT) {
    throw new Error(
      `Cannot resume: ${path} is not a training checkpoint (format "${m.format ?? "none"}")`,
    );
  }
  if ((m.run ?? "") !== run) {
    throw new Error(
      `Cannot resume from ${path}: it was written by a run with "${m.run}", this run is "${run}"`,
    );
  }
  const momentum = file.tensors.get(MOMENTUM);
  if (!momentum || momentum.data.length !== opt.momentumBuffer.size) {
    throw new Error(
      `Cannot resume: ${path} has no momentum buffer of ${opt.momentumBuffer.size} values for this model`,
    );
  }
  file.tensors.delete(MOMENTUM);
  loadStateDict(model, file.tensors);
  model.engine.write(opt.momentumBuffer, momentum.data as Float32Array);
  const pos: TrainPosition = {
    epoch: Number(m.epoch),
    batch: Number(m.batch),
    lossSum: Number(m.lossSum),
    seed: Number(m.seed),
    steps: Number(m.steps),
    run: m.run ?? "",
  };
  opt.steps = pos.steps;
  return pos;
}
