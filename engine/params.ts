// Parameters in one flat GPU buffer (256-byte aligned views), gradients in a twin buffer.
import type { Engine } from "./engine.ts";
import { shapeSize, type Tensor } from "./tensor.ts";

/** One parameter or buffer to allocate: its name, shape, initial values and whether it trains. */
export interface ParamSpec {
  /** Parameter name (e.g. "layer1.0.conv1.weight"). */
  name: string;
  /** Its shape. */
  shape: readonly number[];
  /** Initial values (length = product of shape) or one value for every element. */
  init: Float32Array | number;
  /** False for buffers such as batch-norm running statistics (default true). */
  trainable?: boolean;
}

const ALIGN = 64; // floats: 256 bytes, the storage-binding offset alignment

function layout(specs: readonly ParamSpec[]): { offsets: number[]; total: number } {
  const offsets: number[] = [];
  let total = 0;
  for (const s of specs) {
    offsets.push(total);
    total += Math.ceil(shapeSize(s.shape) / ALIGN) * ALIGN;
  }
  return { offsets, total: Math.max(total, ALIGN) };
}

/**
 * All parameters of a model as views into one flat weight buffer, each with `.grad` a view into
 * a flat gradient buffer at the same offset, so the optimizer updates everything in one pass.
 * Non-trainable buffers (running statistics) live in a third flat buffer.
 */
export class ParamStore {
  /** The engine the buffers live on. */
  readonly engine: Engine;
  /** Flat trainable weights (padding between views is zero). */
  readonly weights: Tensor;
  /** Flat gradients, same layout as `weights`. */
  readonly grads: Tensor;
  /** Flat non-trainable buffers. */
  readonly state: Tensor;
  /** Trainable parameters, in declaration order. */
  readonly params: Tensor[] = [];
  /** Non-trainable buffers, in declaration order. */
  readonly buffers: Tensor[] = [];
  #byName = new Map<string, Tensor>();

  /** Allocates every parameter of `specs` in one flat buffer. */
  constructor(engine: Engine, specs: readonly ParamSpec[]) {
    this.engine = engine;
    const seen = new Set<string>();
    for (const s of specs) {
      if (seen.has(s.name)) throw new Error(`ParamStore: duplicate name "${s.name}"`);
      seen.add(s.name);
      if (typeof s.init !== "number" && s.init.length !== shapeSize(s.shape)) {
        throw new RangeError(
          `ParamStore: "${s.name}" has ${s.init.length} initial values for [${s.shape}]`,
        );
      }
    }
    const trainable = specs.filter((s) => s.trainable !== false);
    const fixed = specs.filter((s) => s.trainable === false);
    const tl = layout(trainable);
    const fl = layout(fixed);
    this.weights = engine.persistent([tl.total]);
    this.grads = engine.persistent([tl.total]);
    this.state = engine.persistent([fl.total]);
    engine.fill(this.grads, 0);
    engine.write(this.weights, pack(trainable, tl));
    engine.write(this.state, pack(fixed, fl));
    trainable.forEach((s, i) => {
      const p = engine.view(this.weights.buffer, tl.offsets[i] * 4, s.shape);
      p.name = s.name;
      p.requiresGrad = true;
      p.grad = engine.view(this.grads.buffer, tl.offsets[i] * 4, s.shape);
      p.grad.name = s.name + ".grad";
      this.params.push(p);
      this.#byName.set(s.name, p);
    });
    fixed.forEach((s, i) => {
      const b = engine.view(this.state.buffer, fl.offsets[i] * 4, s.shape);
      b.name = s.name;
      this.buffers.push(b);
      this.#byName.set(s.name, b);
    });
  }

  /** The parameter or buffer called `name`; throws naming it when there is none. */
  get(name: string): Tensor {
    const t = this.#byName.get(name);
    if (!t) throw new ReferenceError(`No parameter or buffer named "${name}"`);
    return t;
  }

  /** Whether a parameter or buffer of that name exists. */
  has(name: string): boolean {
    return this.#byName.has(name);
  }

  /** Number of trainable elements (the model's parameter count). */
  get count(): number {
    return this.params.reduce((n, p) => n + p.size, 0);
  }

  /** Reads one named tensor back. */
  async read(name: string): Promise<Float32Array> {
    return (await this.engine.read(this.get(name))) as Float32Array;
  }

  /** Overwrites one named tensor. */
  write(name: string, data: ArrayLike<number>): void {
    this.engine.write(this.get(name), data);
  }

  /** Frees the three flat buffers. */
  dispose(): void {
    this.weights.dispose();
    this.grads.dispose();
    this.state.dispose();
  }
}

function pack(specs: readonly ParamSpec[], l: { offsets: number[]; total: number }): Float32Array {
  const flat = new Float32Array(l.total);
  specs.forEach((s, i) => {
    const n = shapeSize(s.shape);
    if (typeof s.init === "number") flat.fill(s.init, l.offsets[i], l.offsets[i] + n);
    else flat.set(s.init, l.offsets[i]);
  });
  return flat;
}
