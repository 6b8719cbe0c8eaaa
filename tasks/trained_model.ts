// A trained model from a checkpoint file alone: spec, weights, data statistics, one-line errors.
import type { Engine } from "../engine/engine.ts";
import { type Module, module } from "../models/module.ts";
import { checkFormat, loadStateDict } from "../models/checkpoint.ts";
import { readCheckpointFile } from "../models/checkpoint_file.ts";
import type { SafeTensor } from "../models/safetensors.ts";
import {
  children,
  type LayerSpec,
  modelTitle,
  type ParamInfo,
  paramInfos,
} from "../models/spec.ts";
import type { MeanStd } from "../data/transforms.ts";

/** A model rebuilt from a checkpoint, with what its metadata says about the training data. */
export interface TrainedModel {
  /** The file it came from. */
  path: string;
  module: Module;
  /** "WRN-10-1", "resnet18a"… */
  title: string;
  /** Outputs of the last linear layer. */
  classes: number;
  /** Class names: CIFAR-10's for a 10-class model (checkpoints do not record names). */
  classNames?: string[];
  /** Input channels of the first convolution. */
  channels: number;
  /** The training data's per-channel mean and std (pixel units), when the file carries them. */
  stats?: MeanStd;
  /** Label smoothing the run trained with (0 when not recorded). */
  smoothing: number;
  /** The training run's settings (`settings` metadata; {} for saveCheckpoint files). */
  settings: Record<string, unknown>;
  /** Epochs finished when the checkpoint was written (training checkpoints only). */
  epochsDone?: number;
  /** All string metadata of the file. */
  metadata: Record<string, string>;
}

import { CIFAR10_CLASSES } from "../data/cifar10.ts";
const NBT = ".num_batches_tracked";

function layers(spec: LayerSpec): LayerSpec[] {
  return [spec, ...children(spec).flatMap(layers)];
}

/** Parses the `stats` metadata (`{"mean":[r,g,b],"std":[r,g,b]}`, pixel units); throws if malformed. */
export function parseStats(json: string): MeanStd {
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch {
    throw new TypeError("its data statistics (stats) are not JSON");
  }
  const triple = (a: unknown, positive: boolean) =>
    Array.isArray(a) && a.length === 3 &&
    a.every((x) => typeof x === "number" && Number.isFinite(x) && (!positive || x > 0));
  const s = v as MeanStd;
  if (!s || !triple(s.mean, false) || !triple(s.std, true)) {
    throw new TypeError(
      `its data statistics (stats) are not {"mean":[r,g,b],"std":[r,g,b]} with std > 0: ${json}`,
    );
  }
  return { mean: [...s.mean], std: [...s.std] };
}

/** A checkpoint read and checked against its own model spec, before any GPU work. */
export interface CheckpointInfo extends Omit<TrainedModel, "module"> {
  spec: LayerSpec;
  /** Weights and statistics by PyTorch name (optimizer state removed). */
  tensors: Map<string, SafeTensor>;
}

/**
 * Reads a checkpoint (a training checkpoint of `deno task train:*`, or one written by
 * `saveCheckpoint`) and checks it: a model spec in its metadata, every tensor that spec needs
 * with the right shape and nothing else (optimizer state is set aside), well-formed data
 * statistics if present. Every failure is one sentence naming the file and the problem.
 */
export async function readCheckpoint(path: string): Promise<CheckpointInfo> {
  // Unreadable, truncated, not safetensors, or one of our formats this version cannot read.
  const file = await readCheckpointFile(path, "open checkpoint");
  const meta = file.metadata;
  checkFormat(meta, path);
  const fail = (why: string): never => {
    throw new Error(`Cannot open checkpoint ${path}: ${why}`);
  };
  const json = (key: string): Record<string, unknown> => {
    try {
      return meta[key] ? JSON.parse(meta[key]) : {};
    } catch {
      return fail(`its "${key}" metadata is not JSON`);
    }
  };
  const settings = json("settings");
  const position = json("position");
  if (!meta.spec) {
    fail(
      `it is not a resnet-webgpu checkpoint (no model spec in its metadata; format "${
        meta.format ?? "none"
      }")`,
    );
  }
  let spec: LayerSpec;
  let params: ParamInfo[];
  try {
    spec = JSON.parse(meta.spec) as LayerSpec;
    params = paramInfos(spec);
  } catch (e) {
    return fail(`its model spec is not a valid spec (${(e as Error).message})`);
  }
  const all = layers(spec);
  const linear = all.filter((l) => l.kind === "linear").at(-1);
  const conv = all.find((l) => l.kind === "conv2d");
  if (linear?.kind !== "linear" || conv?.kind !== "conv2d") {
    return fail("its model spec has no convolution or no final linear layer");
  }
  const tensors = new Map([...file.tensors].filter(([n]) => !n.startsWith("optimizer.")));
  for (const p of params) {
    const t = tensors.get(p.name);
    if (!t) fail(`tensor "${p.name}" of its ${modelTitle(spec)} spec is missing`);
    else if (t.shape.join() !== p.shape.join()) {
      fail(`tensor "${p.name}" has shape [${t.shape}], its model spec needs [${p.shape}]`);
    }
  }
  const known = new Set(params.map((p) => p.name));
  const extra = [...tensors.keys()].filter((n) => !known.has(n) && !n.endsWith(NBT));
  if (extra.length) fail(`tensor "${extra[0]}" is not part of its model spec`);
  let stats: MeanStd | undefined;
  try {
    stats = meta.stats ? parseStats(meta.stats) : undefined;
  } catch (e) {
    fail((e as Error).message);
  }
  return {
    path,
    spec,
    tensors,
    title: modelTitle(spec),
    classes: linear.out,
    classNames: linear.out === 10 ? CIFAR10_CLASSES : undefined,
    channels: conv.in,
    stats,
    smoothing: Number(settings.smoothing ?? 0) || 0,
    settings,
    epochsDone: typeof position.epoch === "number" ? position.epoch : undefined,
    metadata: meta,
  };
}

/** Builds the model a checked checkpoint describes and loads its weights and statistics. */
export function buildTrainedModel(engine: Engine, info: CheckpointInfo): TrainedModel {
  const m = module(engine, info.spec);
  try {
    loadStateDict(m, info.tensors);
  } catch (e) {
    m.dispose();
    throw new Error(`Cannot load checkpoint ${info.path}: ${(e as Error).message}`);
  }
  const { spec: _s, tensors: _t, ...rest } = info;
  return { ...rest, module: m };
}

/** Throws when the model and the data disagree (class count, image channels), saying which. */
export function checkModelFitsData(
  t: Pick<TrainedModel, "path" | "title" | "classes" | "channels">,
  classNames: readonly string[],
): void {
  if (t.classes !== classNames.length) {
    throw new RangeError(
      `Model and data disagree: ${t.path} (${t.title}) has ${t.classes} outputs, the data has ${classNames.length} classes`,
    );
  }
  if (t.channels !== 3) {
    throw new RangeError(
      `Model and data disagree: ${t.path} (${t.title}) takes ${t.channels}-channel images, the data has 3 (RGB)`,
    );
  }
}
