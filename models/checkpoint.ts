// Checkpoints, one format: weights and BN statistics under PyTorch's names, plus in metadata the
// model spec, data statistics, and for training runs the optimizer state, position and settings.
import { type Module, module } from "./module.ts";
import type { Engine } from "../engine/engine.ts";
import type { Tensor } from "../engine/tensor.ts";
import type { SGD } from "../engine/optim.ts";
import type { Checkpointer, TrainPosition } from "../engine/train/interfaces.ts";
import {
  decodeSafetensors,
  encodeSafetensors,
  type SafeTensor,
  type SafeTensorInput,
  type Safetensors,
} from "./safetensors.ts";
import { type LayerSpec, modelTitle } from "./spec.ts";
import { readCheckpointFile, writeCheckpointFile } from "./checkpoint_file.ts";
import type { CheckpointStore } from "./checkpoint_store.ts";

/** Version written in every checkpoint's metadata (`format`). */
export const CHECKPOINT_FORMAT = "resnet-webgpu-checkpoint/2";
/** Formats this version reads: the first model format had no training state, only weights. */
const READABLE = [CHECKPOINT_FORMAT, "resnet-webgpu-checkpoint/1"];
/** The trainer's own format before checkpoints were unified: weights without a model spec. */
const OLD_TRAIN_FORMAT = "resnet-webgpu-train/1";

const NBT = ".num_batches_tracked";
/** Tensors of the optimizer, not of the model (PyTorch's load_state_dict must skip them). */
export const OPTIMIZER_PREFIX = "optimizer.";
const MOMENTUM = "optimizer.momentum";

/** Per-channel statistics in pixel units (0–255), as data/transforms.ts's `meanStd` gives them. */
export interface DataStats {
  /** Per-channel mean of the training images, in pixel units. */
  mean: [number, number, number];
  /** Per-channel standard deviation, in pixel units. */
  std: [number, number, number];
}

/** Options of {@linkcode stateDict} and {@linkcode saveCheckpoint}. */
export interface SaveOptions {
  /** Written as every BN's `num_batches_tracked` (I64 scalar) and in metadata (default 0). */
  step?: number;
  /** Data statistics the model's inputs were standardized with (stored as `stats`). */
  stats?: DataStats;
  /** Extra string metadata (epoch, accuracy…). */
  metadata?: Record<string, string>;
}

/** Options of {@linkcode loadStateDict} and {@linkcode loadCheckpoint}. */
export interface LoadOptions {
  /** Refuse tensors the module does not have (default true; false skips them, e.g. fixtures). */
  strict?: boolean;
}

/** What {@linkcode openCheckpoint} returns: the rebuilt module and what the file says of itself. */
export interface OpenedCheckpoint {
  /** The model, rebuilt from the file's spec and weights. */
  module: Module;
  /** The file's metadata (format, model, spec, settings, …). */
  metadata: Record<string, string>;
  /** The data statistics, when the checkpoint has them (every one the trainer writes). */
  stats: DataStats | null;
  /** Where training stood, for checkpoints written by the trainer. */
  position: TrainPosition | null;
  /** The training run's settings, for checkpoints written by the trainer. */
  settings: Record<string, unknown> | null;
}

async function readFlat(m: Module, flat: Tensor): Promise<Float32Array> {
  return (await m.engine.read(flat)) as Float32Array;
}

/**
 * Every parameter and running statistic as F32 tensors under its PyTorch name, plus
 * `<bn>.num_batches_tracked` (I64 scalar) for every batch norm. Reads the GPU twice.
 */
export async function stateDict(
  m: Module,
  options: SaveOptions = {},
): Promise<Map<string, SafeTensorInput>> {
  const store = m.params;
  const out = new Map<string, SafeTensorInput>();
  for (
    const [flat, list] of [[store.weights, store.params], [store.state, store.buffers]] as const
  ) {
    const all = await readFlat(m, flat);
    for (const t of list) {
      const at = (t.offset - flat.offset) / 4;
      out.set(t.name, { dtype: "F32", shape: [...t.shape], data: all.slice(at, at + t.size) });
    }
  }
  const step = BigInt(options.step ?? 0);
  for (const bn of m.batchNorms) out.set(bn + NBT, { dtype: "I64", shape: [], data: [step] });
  return out;
}

/** Training state added to a checkpoint: the optimizer, where training stands, its settings. */
export interface TrainingState {
  /** The optimizer, whose momentum buffer is saved. */
  optimizer: SGD;
  /** Where training stands. */
  position: TrainPosition;
  /** The run's settings (recipe, epochs, batch, seed, …), compared on resume. */
  settings: Record<string, unknown>;
}

/**
 * A checkpoint file's bytes: the state dict and metadata (format, model, spec JSON, step, data
 * statistics) and, with `training`, the momentum buffer, position and settings.
 */
export async function encodeCheckpoint(
  m: Module,
  options: SaveOptions & { training?: TrainingState } = {},
): Promise<Uint8Array> {
  const t = options.training;
  const step = t ? t.position.steps : options.step ?? 0;
  const metadata: Record<string, string> = {
    ...options.metadata,
    format: CHECKPOINT_FORMAT,
    model: modelTitle(m.spec),
    spec: JSON.stringify(m.spec),
    step: String(step),
  };
  if (options.stats) metadata.stats = JSON.stringify(options.stats);
  const tensors = await stateDict(m, { step });
  if (t) {
    const momentum = (await m.engine.read(t.optimizer.momentumBuffer)) as Float32Array;
    tensors.set(MOMENTUM, { dtype: "F32", shape: [momentum.length], data: momentum });
    metadata.position = JSON.stringify(t.position);
    metadata.settings = JSON.stringify(t.settings);
  }
  return encodeSafetensors(tensors, metadata);
}

/**
 * Writes a checkpoint atomically (temporary file in the same folder, then a rename), so a
 * crash never leaves half a file.
 *
 * @example
 * ```ts
 * await saveCheckpoint(model, "resnet18a.safetensors", { step: 48000, stats });
 * ```
 */
export async function saveCheckpoint(
  m: Module,
  path: string,
  options: SaveOptions & { training?: TrainingState } = {},
): Promise<void> {
  await writeCheckpointFile(path, await encodeCheckpoint(m, options));
}

function list(names: string[]): string {
  const shown = names.slice(0, 5).map((n) => `"${n}"`).join(", ");
  return names.length > 5 ? `${shown} and ${names.length - 5} more` : shown;
}

/**
 * Copies tensors into a module's parameters and running statistics by name. Refuses (before
 * writing anything) a missing tensor, a wrong shape or dtype, and in strict mode an
 * unexpected tensor, naming it. `num_batches_tracked` and `optimizer.*` entries are ignored.
 */
export function loadStateDict(
  m: Module,
  tensors: Map<string, SafeTensor>,
  options: LoadOptions = {},
): void {
  const strict = options.strict ?? true;
  const named = m.named();
  const missing = named.map(([n]) => n).filter((n) => !tensors.has(n));
  if (missing.length) {
    throw new ReferenceError(`Cannot load weights: ${list(missing)} missing`);
  }
  const values = new Map<string, Float32Array>();
  for (const [name, t] of named) {
    const src = tensors.get(name)!;
    if (src.shape.join() !== t.shape.join()) {
      throw new RangeError(
        `Cannot load weights: "${name}" has shape [${src.shape}], the model needs [${t.shape}]`,
      );
    }
    if (src.dtype !== "F32" && src.dtype !== "F64") {
      throw new TypeError(`Cannot load weights: "${name}" is ${src.dtype}, expected F32`);
    }
    values.set(
      name,
      src.data instanceof Float32Array ? src.data : Float32Array.from(src.data as Float64Array),
    );
  }
  if (strict) {
    const known = new Set([...values.keys(), ...m.batchNorms.map((b) => b + NBT)]);
    const extra = [...tensors.keys()].filter((n) =>
      !known.has(n) && !n.startsWith(OPTIMIZER_PREFIX)
    );
    if (extra.length) {
      throw new ReferenceError(
        `Cannot load weights: unexpected ${list(extra)} (the model has no such tensor)`,
      );
    }
  }
  for (const [name, t] of named) m.engine.write(t, values.get(name)!);
}

/** Reads a checkpoint (a path, bytes or decoded safetensors) into a module; returns its metadata. */
export async function loadCheckpoint(
  m: Module,
  source: string | Uint8Array | Safetensors,
  options: LoadOptions = {},
): Promise<Record<string, string>> {
  const file = typeof source === "string"
    ? await readCheckpointFile(source)
    : source instanceof Uint8Array
    ? decodeSafetensors(source)
    : source;
  loadStateDict(m, file.tensors, options);
  return file.metadata;
}

function parseJson(meta: Record<string, string>, key: string, where: string): unknown {
  if (meta[key] === undefined) return null;
  try {
    return JSON.parse(meta[key]);
  } catch {
    throw new SyntaxError(`Cannot open checkpoint ${where}: its "${key}" metadata is not JSON`);
  }
}

/** Refuses files that are not ours or of a format this version cannot read, naming the file. */
export function checkFormat(metadata: Record<string, string>, where: string): void {
  const format = metadata.format;
  if (format === OLD_TRAIN_FORMAT) {
    throw new TypeError(
      `Cannot open checkpoint ${where}: it is a training checkpoint of an older format ` +
        `(${OLD_TRAIN_FORMAT}) that carries no model spec, so this version cannot resume or ` +
        `open it; load its weights with loadCheckpoint into a module built with the same spec`,
    );
  }
  if (format !== undefined && !READABLE.includes(format)) {
    throw new TypeError(
      `Cannot open checkpoint ${where}: format "${format}" is not one this version reads (${
        READABLE.join(", ")
      })`,
    );
  }
}

/**
 * Rebuilds a module from one of our checkpoints alone: the spec from its metadata, then the
 * weights and statistics. Files without a `spec` (e.g. written by PyTorch) need `module()` first.
 *
 * @example
 * ```ts
 * const { module: model, stats } = await openCheckpoint(engine, "runs/res.safetensors");
 * ```
 */
export async function openCheckpoint(
  engine: Engine,
  source: string | Uint8Array,
): Promise<OpenedCheckpoint> {
  const where = typeof source === "string" ? source : "(bytes)";
  const file = typeof source === "string"
    ? await readCheckpointFile(source)
    : decodeSafetensors(source);
  const meta = file.metadata;
  checkFormat(meta, where);
  const spec = parseJson(meta, "spec", where) as LayerSpec | null;
  if (!spec) {
    throw new TypeError(
      `Cannot open checkpoint ${where}: its metadata has no model spec; build the module and use loadCheckpoint`,
    );
  }
  const m = module(engine, spec);
  try {
    loadStateDict(m, file.tensors);
  } catch (err) {
    m.dispose();
    (err as Error).message = `Cannot open checkpoint ${where}: ${(err as Error).message}`;
    throw err;
  }
  return {
    module: m,
    metadata: meta,
    stats: parseJson(meta, "stats", where) as DataStats | null,
    position: parseJson(meta, "position", where) as TrainPosition | null,
    settings: parseJson(meta, "settings", where) as Record<string, unknown> | null,
  };
}

/** Options of {@linkcode moduleCheckpointer}. */
export interface CheckpointerOptions {
  /** Data statistics stored with every checkpoint. */
  stats?: DataStats;
  /** The run's settings; a resumed checkpoint must carry the same, or is refused naming them. */
  settings?: Record<string, unknown>;
  /** Where checkpoints are written and read by name (default: files, written atomically). */
  store?: CheckpointStore;
}

const FILES: CheckpointStore = { read: readCheckpointFile, write: writeCheckpointFile };

/** The differences between two settings objects, as `key: theirs → ours` phrases. */
export function settingsDiff(
  stored: Record<string, unknown>,
  ours: Record<string, unknown>,
): string[] {
  const keys = [...new Set([...Object.keys(stored), ...Object.keys(ours)])];
  return keys.filter((k) => JSON.stringify(stored[k]) !== JSON.stringify(ours[k])).map((k) =>
    `${k}=${JSON.stringify(stored[k])} there, ${JSON.stringify(ours[k])} here`
  );
}

/**
 * How the trainer saves and resumes a module: this package's checkpoint format, with the
 * momentum buffer, position, settings and data statistics in it.
 */
export function moduleCheckpointer(m: Module, options: CheckpointerOptions = {}): Checkpointer {
  const settings = options.settings ?? {};
  const store = options.store ?? FILES;
  return {
    save: async (path, optimizer, position) =>
      store.write(
        path,
        await encodeCheckpoint(m, {
          stats: options.stats,
          training: { optimizer, position, settings },
        }),
      ),
    async load(path, optimizer) {
      const file = await store.read(path, "resume from");
      const meta = file.metadata;
      checkFormat(meta, path);
      const position = parseJson(meta, "position", path) as TrainPosition | null;
      const momentum = file.tensors.get(MOMENTUM);
      if (!position || !momentum) {
        throw new TypeError(
          `Cannot resume from ${path}: it holds weights but no training state (written by saveCheckpoint, not by a training run)`,
        );
      }
      const stored = (parseJson(meta, "settings", path) ?? {}) as Record<string, unknown>;
      const diff = settingsDiff(stored, settings);
      if (diff.length) {
        throw new RangeError(
          `Cannot resume from ${path}: it was written by a run with other settings (${
            diff.join("; ")
          })`,
        );
      }
      if (meta.spec !== JSON.stringify(m.spec)) {
        throw new RangeError(
          `Cannot resume from ${path}: it holds ${meta.model ?? "another model"}, this run trains ${
            modelTitle(m.spec)
          }`,
        );
      }
      if (momentum.data.length !== optimizer.momentumBuffer.size) {
        throw new RangeError(
          `Cannot resume from ${path}: its momentum buffer has ${momentum.data.length} values, this model needs ${optimizer.momentumBuffer.size}`,
        );
      }
      loadStateDict(m, file.tensors);
      m.engine.write(optimizer.momentumBuffer, momentum.data as Float32Array);
      optimizer.steps = position.steps;
      return position;
    },
  };
}
