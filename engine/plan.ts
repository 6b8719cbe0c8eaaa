// The recording of a planned step: dispatches with bind groups built once, uniforms in two slabs.
import { BufferPool } from "./buffer_pool.ts";
import { bindOnce, type BindValue, type UniformValues } from "./bindings.ts";
import { type Binding, type CompiledKernel, packUniform } from "./kernel.ts";

/** What {@linkcode Engine.capture} sends dispatches and per-step host work to. */
export interface DispatchSink {
  /** The pool every tensor created while recording comes from. */
  readonly pool: BufferPool;
  /** Takes one checked dispatch instead of the command encoder. */
  dispatch(
    k: CompiledKernel,
    bindings: Record<string, BindValue>,
    x: number,
    y: number,
    z: number,
  ): void;
  /** Host work to repeat at the start of every replay after the first. */
  onReplay(fn: () => void): void;
}

/** One recorded dispatch. */
interface Command {
  pipeline: GPUComputePipeline;
  groups: GPUBindGroup[];
  x: number;
  y: number;
  z: number;
}

/** A uniform whose members are computed at every replay, and its place in the per-step slab. */
interface PerStep {
  fn: () => UniformValues;
  binding: Binding;
  label: string;
  chunk: number;
  offset: number;
}

/** Bytes of one uniform slab buffer (the smallest maxUniformBufferBindingSize WebGPU allows). */
const CHUNK = 65536;

/** Uniform structs packed at aligned offsets into a few 64 KiB buffers, mirrored on the CPU. */
class UniformSlab {
  readonly chunks: { buffer: GPUBuffer; data: Uint8Array<ArrayBuffer>; used: number }[] = [];
  #device: GPUDevice;
  #align: number;
  #label: string;

  constructor(device: GPUDevice, label: string) {
    this.#device = device;
    this.#align = device.limits.minUniformBufferOffsetAlignment;
    this.#label = label;
  }

  /** A place for `bytes` bytes: chunk index and byte offset. */
  place(bytes: number): { chunk: number; offset: number } {
    let c = this.chunks.at(-1);
    if (!c || c.used + bytes > CHUNK) {
      c = {
        buffer: this.#device.createBuffer({
          label: this.#label,
          size: CHUNK,
          usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
        }),
        data: new Uint8Array(CHUNK),
        used: 0,
      };
      this.chunks.push(c);
    }
    const offset = c.used;
    c.used = Math.ceil((offset + bytes) / this.#align) * this.#align;
    return { chunk: this.chunks.length - 1, offset };
  }

  /** Uploads the used part of every chunk (one writeBuffer each). */
  upload(): void {
    for (const c of this.chunks) {
      if (c.used > 0) this.#device.queue.writeBuffer(c.buffer, 0, c.data, 0, c.used);
    }
  }

  get bytes(): number {
    return this.chunks.length * CHUNK;
  }

  destroy(): void {
    for (const c of this.chunks) c.buffer.destroy();
  }
}

/**
 * Records one step's dispatches (engine.capture sends them here): pipelines and bind groups
 * built once, constant uniforms packed once into a static slab, per-step uniforms (given as
 * functions) into a small per-step slab that {@linkcode StepRecording.writeValues} refills and
 * uploads with one writeBuffer. Tensors made while recording come from its own pool, so nothing
 * the step binds is handed to anyone else or trimmed.
 */
export class StepRecording implements DispatchSink {
  readonly pool: BufferPool;
  readonly commands: Command[] = [];
  readonly effects: (() => void)[] = [];
  #device: GPUDevice;
  #static: UniformSlab;
  #perStep: UniformSlab;
  #values: PerStep[] = [];

  constructor(device: GPUDevice) {
    this.#device = device;
    this.pool = new BufferPool(device);
    this.#static = new UniformSlab(device, "planned step: constant uniforms");
    this.#perStep = new UniformSlab(device, "planned step: per-step uniforms");
  }

  dispatch(
    k: CompiledKernel,
    bindings: Record<string, BindValue>,
    x: number,
    y: number,
    z: number,
  ): void {
    const groups = bindOnce(this.#device, k, bindings, (k, b, v) => this.#place(k, b, v));
    this.commands.push({ pipeline: k.pipeline, groups, x, y, z });
  }

  onReplay(fn: () => void): void {
    this.effects.push(fn);
  }

  /** Number of uniforms recomputed at every replay. */
  get perStepValues(): number {
    return this.#values.length;
  }

  /** GPU bytes the recording holds: its pool and both slabs. */
  get bytes(): number {
    return this.pool.stats.allocated + this.#static.bytes + this.#perStep.bytes;
  }

  /** Uploads the constant uniforms (once, when recording ends). */
  finish(): void {
    this.#static.upload();
  }

  /** Calls every per-step uniform function, packs the results and uploads the per-step slab. */
  writeValues(): void {
    if (this.#values.length === 0) return;
    for (const v of this.#values) {
      const data = new Uint8Array(packUniform(v.binding, v.fn(), v.label));
      this.#perStep.chunks[v.chunk].data.set(data, v.offset);
    }
    this.#perStep.upload();
  }

  /** Encodes every dispatch into `pass`, skipping pipeline and bind-group calls that repeat. */
  encode(pass: GPUComputePassEncoder): void {
    let pipeline: GPUComputePipeline | null = null;
    const bound: (GPUBindGroup | null)[] = [null, null, null, null];
    for (const c of this.commands) {
      if (c.pipeline !== pipeline) {
        pass.setPipeline(c.pipeline);
        pipeline = c.pipeline;
      }
      for (let i = 0; i < c.groups.length; i++) {
        if (bound[i] !== c.groups[i]) {
          pass.setBindGroup(i, c.groups[i]);
          bound[i] = c.groups[i];
        }
      }
      pass.dispatchWorkgroups(c.x, c.y, c.z);
    }
  }

  /** Destroys the pool's buffers and both slabs. */
  destroy(): void {
    this.pool.destroy();
    this.#static.destroy();
    this.#perStep.destroy();
  }

  #place(
    k: CompiledKernel,
    b: Binding,
    v: UniformValues | (() => UniformValues),
  ): GPUBufferBinding {
    const perStep = typeof v === "function";
    const data = new Uint8Array(packUniform(b, perStep ? v() : v, k.label));
    const slab = perStep ? this.#perStep : this.#static;
    const at = slab.place(data.byteLength);
    const chunk = slab.chunks[at.chunk];
    chunk.data.set(data, at.offset);
    if (perStep) this.#values.push({ fn: v, binding: b, label: k.label, ...at });
    return { buffer: chunk.buffer, offset: at.offset, size: data.byteLength };
  }
}
