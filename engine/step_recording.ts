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

/** One recorded dispatch, with its bind group entries (to re-point a buffer range later). */
interface Command {
  kernel: CompiledKernel;
  pipeline: GPUComputePipeline;
  groups: GPUBindGroup[];
  entries: GPUBindGroupEntry[][];
  x: number;
  y: number;
  z: number;
}

/** A pool that notes, per buffer, at which command index it was handed out and given back. */
class RecordingPool extends BufferPool {
  readonly acquired: Map<GPUBuffer, number[]> = new Map();
  readonly released: Map<GPUBuffer, number[]> = new Map();
  #at: () => number;

  constructor(device: GPUDevice, at: () => number) {
    super(device);
    this.#at = at;
  }

  override acquire(bytes: number): GPUBuffer {
    const b = super.acquire(bytes);
    push(this.acquired, b, this.#at());
    return b;
  }

  override release(buffer: GPUBuffer): void {
    super.release(buffer);
    push(this.released, buffer, this.#at());
  }
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const list = m.get(k);
  if (list) list.push(v);
  else m.set(k, [v]);
}

function range(e: GPUBindGroupEntry): GPUBufferBinding {
  return e.resource as GPUBufferBinding;
}

/** "read", "read_write" or "" (uniform) for binding `binding` of group `group` of a kernel. */
function accessOf(k: CompiledKernel, group: number, binding: number): string {
  for (const b of k.bindings.values()) {
    if (b.group === group && b.binding === binding) return b.access ?? "";
  }
  return "";
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
  readonly pool: RecordingPool;
  readonly commands: Command[] = [];
  readonly effects: (() => void)[] = [];
  #device: GPUDevice;
  #static: UniformSlab;
  #perStep: UniformSlab;
  #values: PerStep[] = [];

  constructor(device: GPUDevice) {
    this.#device = device;
    this.pool = new RecordingPool(device, () => this.commands.length);
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
    const entries: GPUBindGroupEntry[][] = [];
    const groups = bindOnce(this.#device, k, bindings, (k, b, v) => this.#place(k, b, v), entries);
    this.commands.push({ kernel: k, pipeline: k.pipeline, groups, entries, x, y, z });
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

  /**
   * Ends the recording: drops every copy of a temporary that is freed right after it (the tape
   * copying a parameter's gradient into the flat gradient buffer, say) by pointing the commands
   * that wrote and read the temporary at the copy's destination instead; then uploads the
   * constant uniforms. Returns the number of copies dropped.
   */
  finish(): number {
    let dropped = 0;
    for (let i = this.commands.length - 1; i >= 0; i--) {
      if (this.#elide(i)) dropped++;
    }
    this.#static.upload();
    return dropped;
  }

  /**
   * Drops copy command i when its source is a whole pool buffer acquired at command a and
   * released right after the copy, every command in [a, i) binds that buffer only as that range
   * and none binds the destination range, and no command using the source binds the
   * destination's buffer.
   */
  #elide(i: number): boolean {
    const c = this.commands[i];
    if (c.kernel.label !== "elementwise.wgsl:copyWords") return false;
    const flat = c.entries.flat();
    const at = (name: string) =>
      range(flat.find((e) => e.binding === c.kernel.bindings.get(name)!.binding)!);
    const src = at("xu"), dst = at("yu");
    const a = this.pool.acquired.get(src.buffer)?.findLast((n) => n <= i);
    const r = this.pool.released.get(src.buffer)?.find((n) => n > (a ?? Infinity));
    if (a === undefined || r !== i + 1 || (src.offset ?? 0) !== 0) return false;
    const dOff = dst.offset ?? 0, size = src.size!;
    const users: number[] = [];
    for (let j = a; j < i; j++) {
      const modes = { src: new Set<string>(), dst: new Set<string>() };
      const cmd = this.commands[j];
      cmd.entries.forEach((g, n) => {
        for (const e of g) {
          const b = range(e);
          if (b.buffer === src.buffer) modes.src.add(accessOf(cmd.kernel, n, e.binding));
          else if (b.buffer === dst.buffer) modes.dst.add(accessOf(cmd.kernel, n, e.binding));
        }
      });
      for (const e of cmd.entries.flat()) {
        const b = range(e);
        const off = b.offset ?? 0;
        if (b.buffer === src.buffer && (off !== 0 || b.size !== size)) return false;
        // The destination range must be untouched until the copy.
        if (b.buffer === dst.buffer && off < dOff + size && dOff < off + (b.size ?? 0)) {
          return false;
        }
      }
      if (modes.src.size === 0) continue;
      // Re-pointed, this command binds the destination's buffer with every mode it used for
      // either: one buffer read-only and read-write in one dispatch is refused by WebGPU.
      if (new Set([...modes.src, ...modes.dst]).size > 1) return false;
      users.push(j);
    }
    for (const j of users) {
      const u = this.commands[j];
      u.entries = u.entries.map((g) =>
        g.map((e) =>
          range(e).buffer === src.buffer
            ? { binding: e.binding, resource: { buffer: dst.buffer, offset: dOff, size } }
            : e
        )
      );
      u.groups = u.entries.map((g, n) =>
        this.#device.createBindGroup({
          label: u.kernel.label,
          layout: u.pipeline.getBindGroupLayout(n),
          entries: g,
        })
      );
    }
    this.commands.splice(i, 1);
    return true;
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
