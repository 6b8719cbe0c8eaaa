// Checkpoints: a module's weights and batch-norm statistics as safetensors PyTorch's load_state_dict accepts.
import { type Module, module } from "./module.ts";
import type { Engine } from "../engine/engine.ts";
import type { Tensor } from "../engine/tensor.ts";
import {
  decodeSafetensors,
  encodeSafetensors,
  type SafeTensor,
  type SafeTensorInput,
  type Safetensors,
} from "./safetensors.ts";
import { type LayerSpec, modelTitle } from "./spec.ts";

/** Version written in every checkpoint's metadata (`format`). */
export const CHECKPOINT_FORMAT = "resnet-webgpu-checkpoint/1";

const NBT = ".num_batches_tracked";

/** Options of {@linkcode stateDict} and {@linkcode saveCheckpoint}. */
export interface SaveOptions {
  /** Written as every BN's `num_batches_tracked` (I64 scalar) and in metadata (default 0). */
  step?: number;
  /** Extra string metadata (epoch, accuracy…). */
  metadata?: Record<string, string>;
}

/** Options of {@linkcode loadStateDict} and {@linkcode loadCheckpoint}. */
export interface LoadOptions {
  /** Refuse tensors the module does not have (default true; false skips them, e.g. fixtures). */
  strict?: boolean;
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

/** A checkpoint file's bytes: the state dict and metadata (format, model, spec JSON, step). */
export async function encodeCheckpoint(m: Module, options: SaveOptions = {}): Promise<Uint8Array> {
  const metadata: Record<string, string> = {
    ...options.metadata,
    format: CHECKPOINT_FORMAT,
    model: modelTitle(m.spec),
    spec: JSON.stringify(m.spec),
    step: String(options.step ?? 0),
  };
  return encodeSafetensors(await stateDict(m, options), metadata);
}

/**
 * Writes a checkpoint (via a temporary file and a rename, so a crash never leaves half a file).
 *
 * @example
 * ```ts
 * await saveCheckpoint(model, "resnet18a.safetensors", { step: 48000 });
 * ```
 */
export async function saveCheckpoint(
  m: Module,
  path: string,
  options: SaveOptions = {},
): Promise<void> {
  const bytes = await encodeCheckpoint(m, options);
  const tmp = `${path}.tmp-${Deno.pid}`;
  await Deno.writeFile(tmp, bytes);
  await Deno.rename(tmp, path);
}

function list(names: string[]): string {
  const shown = names.slice(0, 5).map((n) => `"${n}"`).join(", ");
  return names.length > 5 ? `${shown} and ${names.length - 5} more` : shown;
}

/**
 * Copies tensors into a module's parameters and running statistics by name. Refuses (before
 * writing anything) a missing tensor, a wrong shape or dtype, and in strict mode an
 * unexpected tensor, naming it. `num_batches_tracked` entries are accepted and ignored.
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
    const extra = [...tensors.keys()].filter((n) => !known.has(n));
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
    ? decodeSafetensors(await Deno.readFile(source))
    : source instanceof Uint8Array
    ? decodeSafetensors(source)
    : source;
  loadStateDict(m, file.tensors, options);
  return file.metadata;
}

/**
 * Rebuilds a module from one of our checkpoints alone: the spec from its metadata, then the
 * weights and statistics. Files without a `spec` (e.g. written by PyTorch) need `module()` first.
 */
export async function openCheckpoint(
  engine: Engine,
  source: string | Uint8Array,
): Promise<{ module: Module; metadata: Record<string, string> }> {
  const file = decodeSafetensors(typeof source === "string" ? await Deno.readFile(source) : source);
  const json = file.metadata.spec;
  if (!json) {
    throw new TypeError(
      "Cannot open checkpoint: its metadata has no model spec; build the module and use loadCheckpoint",
    );
  }
  const m = module(engine, JSON.parse(json) as LayerSpec);
  try {
    loadStateDict(m, file.tensors);
  } catch (err) {
    m.dispose();
    throw err;
  }
  return { module: m, metadata: file.metadata };
}
