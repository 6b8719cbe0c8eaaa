// A tensor: a GPU buffer (or a view into one), a shape and a dtype.
import type { Engine } from "./engine.ts";

/** Element types: f32, u32, and u8 (bytes packed four to a u32 word on the GPU). */
export type DType = "f32" | "u32" | "u8";

/** Bytes one element of a dtype takes. */
export function dtypeBytes(dtype: DType): number {
  return dtype === "u8" ? 1 : 4;
}

/** Number of elements of a shape. */
export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new RangeError(`Bad dimension ${d} in shape [${shape}]`);
    }
    n *= d;
  }
  return n;
}

/** A tensor on the GPU. Create it through an {@linkcode Engine}; free it with `dispose()`. */
export class Tensor {
  /** The engine that made it. */
  readonly engine: Engine;
  /** The GPU buffer holding its elements. */
  readonly buffer: GPUBuffer;
  /** Byte offset of element 0 in `buffer` (non-zero for views such as parameters in a flat buffer). */
  readonly offset: number;
  /** Its shape. */
  readonly shape: readonly number[];
  /** Its element type. */
  readonly dtype: DType;
  /** Number of elements (the product of the shape). */
  readonly size: number;
  /** Whether backward() computes a gradient for this tensor. */
  requiresGrad = false;
  /** The gradient written by the last backward() (leaf tensors only). */
  grad: Tensor | null = null;
  /** Name for error messages and checkpoints (e.g. "layer1.0.conv1.weight"). */
  name = "";
  #release: ((t: Tensor) => void) | null;
  #disposed = false;

  /** Wraps a buffer; use `engine.upload`, `engine.tensor` or an op instead. */
  constructor(
    engine: Engine,
    buffer: GPUBuffer,
    shape: readonly number[],
    dtype: DType,
    options: { offset?: number; release?: (t: Tensor) => void } = {},
  ) {
    this.engine = engine;
    this.buffer = buffer;
    this.shape = Object.freeze([...shape]);
    this.dtype = dtype;
    this.size = shapeSize(shape);
    this.offset = options.offset ?? 0;
    this.#release = options.release ?? null;
  }

  /** Bytes the elements take (u8 rounded up to whole u32 words). */
  get byteLength(): number {
    return Math.ceil((this.size * dtypeBytes(this.dtype)) / 4) * 4;
  }

  /** Whether `dispose()` has been called. */
  get disposed(): boolean {
    return this.#disposed;
  }

  /** Returns the buffer to the engine's pool (views and already-disposed tensors: no-op). */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#release?.(this);
  }

  /** Reads the elements back to the CPU (a sync point; use rarely). */
  read(): Promise<Float32Array | Uint32Array | Uint8Array> {
    return this.engine.read(this);
  }

  /** Shape, dtype and name, for messages. */
  toString(): string {
    return `Tensor(${this.name ? this.name + ", " : ""}[${this.shape.join(", ")}], ${this.dtype})`;
  }
}
