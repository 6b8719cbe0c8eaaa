// The engine: one device, a buffer pool, kernels, the open command encoder and the tape.
import { createGpu, type Gpu, type GpuOptions } from "./device.ts";
import { DeviceErrors } from "./device_errors.ts";
import { BufferPool } from "./buffer_pool.ts";
import { KernelCache, type KernelSource } from "./kernel.ts";
import { BindingCache, type BindValue } from "./bindings.ts";
import type { DispatchSink } from "./step_recording.ts";
import { type DType, dtypeBytes, shapeSize, Tensor } from "./tensor.ts";
import { Tape } from "./tape.ts";
import { ScopeStack } from "./scopes.ts";
import { readBuffer } from "./readback.ts";
import { grid } from "./grid.ts";
import { Conv2dState } from "./ops/conv2d/state.ts";
import type { ReduceState } from "./ops/reduce.ts";
import elementwiseCode from "../kernels/elementwise.wgsl" with { type: "text" };

const ELEMENTWISE: KernelSource = { name: "elementwise.wgsl", code: elementwiseCode };

export type { BindValue };
export type { UniformValues } from "./bindings.ts";

/** Workgroup counts: x, or [x, y] / [x, y, z]. */
export type Workgroups = number | readonly number[];

/**
 * Records GPU work into one command encoder per step and submits it once.
 *
 * @example
 * ```ts
 * const engine = await Engine.create();
 * const x = engine.upload(new Float32Array([1, -2, 3]), [3]);
 * console.log(await x.read());
 * ```
 */
export class Engine {
  /** The adapter and device the engine runs on. */
  readonly gpu: Gpu;
  /** The WebGPU device (`gpu.device`). */
  readonly device: GPUDevice;
  /** The buffer pool tensors are allocated from (bytes in use and peak). */
  readonly pool: BufferPool;
  /** Compiled pipelines, cached by kernel, entry point and override constants. */
  readonly kernels: KernelCache;
  /** The autograd tape: ops push their backward here; `tape.backward(loss)` runs it. */
  readonly tape: Tape;
  /** How conv2d picks its kernels: the `--conv` mode, a forced variant, measured choices. */
  readonly conv2d: Conv2dState = new Conv2dState();
  /** Which sum kernel sum and mean use: forced (tests), or what tuneReduce measured here. */
  readonly reduce: ReduceState = { forced: null, measured: null };
  /** When false, ops record nothing on the tape (eval and optimizer updates). */
  gradEnabled = true;
  /** Number of dispatches recorded since creation (for benchmarks and tests). */
  dispatches = 0;
  /** Number of command buffers flush() has submitted since creation. */
  submissions = 0;
  #encoder: GPUCommandEncoder | null = null;
  #pass: GPUComputePassEncoder | null = null;
  #errors: DeviceErrors;
  #scopes = new ScopeStack();
  #bindings: BindingCache;
  #closed = false;
  /** Where tensors come from: the engine's pool, or a planned step's while it is recorded. */
  #alloc: BufferPool;
  #sink: DispatchSink | null = null;
  #passWrites: ((label: string) => GPUComputePassTimestampWrites) | null = null;

  /** Wraps an opened device; use {@linkcode Engine.create} instead. */
  constructor(gpu: Gpu) {
    this.gpu = gpu;
    this.device = gpu.device;
    this.pool = new BufferPool(gpu.device);
    this.#alloc = this.pool;
    this.kernels = new KernelCache(gpu.device);
    this.tape = new Tape(this);
    this.#bindings = new BindingCache(gpu.device);
    this.#errors = new DeviceErrors(gpu.device, () => this.#closed);
  }

  /** Opens the adapter and device and returns an engine on it. */
  static async create(options: GpuOptions = {}): Promise<Engine> {
    return new Engine(await createGpu(options));
  }

  /** A new uninitialised tensor from the pool; freed by `dispose()` or at the end of its scope. */
  tensor(shape: readonly number[], dtype: DType = "f32"): Tensor {
    const bytes = Math.ceil((shapeSize(shape) * dtypeBytes(dtype)) / 4) * 4;
    const pool = this.#alloc;
    const t = new Tensor(this, pool.acquire(bytes), shape, dtype, {
      release: (x) => this.#release(x, pool),
    });
    this.#scopes.add(t);
    return t;
  }

  /** A tensor that outlives every scope (parameters, optimizer state); free it with dispose(). */
  persistent(shape: readonly number[], dtype: DType = "f32"): Tensor {
    return this.keep(this.tensor(shape, dtype));
  }

  /** A view of `bytes` starting at `offset` in an existing buffer (not freed by dispose). */
  view(buffer: GPUBuffer, offset: number, shape: readonly number[], dtype: DType = "f32"): Tensor {
    return new Tensor(this, buffer, shape, dtype, { offset });
  }

  /** Copies CPU data into a new tensor. */
  upload(
    data: ArrayLike<number> | Float32Array | Uint32Array | Uint8Array,
    shape: readonly number[],
    dtype: DType = "f32",
  ): Tensor {
    const t = this.tensor(shape, dtype);
    this.write(t, data);
    return t;
  }

  /** Overwrites a tensor's elements with CPU data (flushes recorded work first, to keep order). */
  write(t: Tensor, data: ArrayLike<number> | Float32Array | Uint32Array | Uint8Array): void {
    if (data.length !== t.size) {
      throw new RangeError(`write: ${data.length} values for ${t} of ${t.size} elements`);
    }
    let bytes: Uint8Array<ArrayBuffer>;
    if (t.dtype === "u8") {
      bytes = new Uint8Array(t.byteLength);
      bytes.set(data as ArrayLike<number>);
    } else {
      const typed = t.dtype === "f32"
        ? Float32Array.from(data as ArrayLike<number>)
        : Uint32Array.from(data as ArrayLike<number>);
      bytes = new Uint8Array(typed.buffer);
    }
    this.#notPlanning("write");
    this.flush();
    this.device.queue.writeBuffer(t.buffer, t.offset, bytes);
  }

  /** A tensor filled with `value`. */
  full(shape: readonly number[], value: number): Tensor {
    const t = this.tensor(shape);
    this.fill(t, value);
    return t;
  }

  /** Zeros of the given shape. */
  zeros(shape: readonly number[]): Tensor {
    return this.full(shape, 0);
  }

  /** Sets every element of an f32 or u32 tensor to `value` (a u32 tensor gets the integer). */
  fill(t: Tensor, value: number): void {
    const words = t.byteLength / 4;
    if (t.dtype === "f32") {
      this.run(ELEMENTWISE, "fill", { y: t, p: { n: words, s: value } }, grid(words, 256));
    } else {
      const yu = this.view(t.buffer, t.offset, [words], "u32");
      this.run(ELEMENTWISE, "fillU32", { yu, q: { n: words, v: value } }, grid(words, 256));
    }
  }

  /** Copies `src` into `dst` (same number of bytes). */
  copy(src: Tensor, dst: Tensor): void {
    if (src.byteLength !== dst.byteLength) {
      throw new RangeError(`copy: ${src} and ${dst} differ in size`);
    }
    const words = src.byteLength / 4;
    const xu = this.view(src.buffer, src.offset, [words], "u32");
    const yu = this.view(dst.buffer, dst.offset, [words], "u32");
    this.run(ELEMENTWISE, "copyWords", { xu, yu, p: { n: words, s: 0 } }, grid(words, 256));
  }

  /** Adds `src` into `dst` in place (same shape, f32). */
  accumulate(dst: Tensor, src: Tensor): void {
    if (src.size !== dst.size) throw new RangeError(`accumulate: ${src} into ${dst}`);
    this.run(
      ELEMENTWISE,
      "accumulate",
      { x: src, y: dst, p: { n: dst.size, s: 0 } },
      grid(dst.size, 256),
    );
  }

  /** Reads a tensor back to the CPU: submits recorded work and waits (a sync point). */
  async read(t: Tensor): Promise<Float32Array | Uint32Array | Uint8Array> {
    if (t.disposed) throw new Error(`read: ${t} was disposed`);
    this.#notPlanning("read");
    this.flush();
    let copy: ArrayBuffer;
    try {
      copy = await readBuffer(this.device, t.buffer, t.offset, t.byteLength);
    } catch (e) {
      await this.#yieldErrors();
      this.throwIfFailed();
      throw e;
    }
    await this.#yieldErrors();
    this.throwIfFailed();
    if (t.dtype === "f32") return new Float32Array(copy);
    if (t.dtype === "u32") return new Uint32Array(copy);
    return new Uint8Array(copy, 0, t.size);
  }

  /** Records one dispatch of `entry` in `src` with buffers bound by name. */
  run(
    src: KernelSource,
    entry: string,
    bindings: Record<string, BindValue>,
    workgroups: Workgroups,
    overrides: Record<string, number> = {},
  ): void {
    this.throwIfFailed();
    const k = this.kernels.get(src, entry, overrides);
    const [x, y = 1, z = 1] = typeof workgroups === "number" ? [workgroups] : workgroups;
    const max = this.gpu.limits.maxComputeWorkgroupsPerDimension;
    if (x > max || y > max || z > max || x < 1 || y < 1 || z < 1) {
      throw new RangeError(`${k.label}: workgroups [${x}, ${y}, ${z}] outside 1..${max}`);
    }
    if (this.#sink) return this.#sink.dispatch(k, bindings, x, y, z);
    const groups = this.#bindings.bind(k, bindings);
    this.#encoder ??= this.device.createCommandEncoder();
    const own = this.#passWrites?.(k.label); // profiling: a pass of its own, timestamped
    if (own) {
      this.#pass = (this.#pass?.end(), this.#encoder.beginComputePass({ timestampWrites: own }));
    }
    this.#pass ??= this.#encoder.beginComputePass();
    this.#pass.setPipeline(k.pipeline);
    groups.forEach((g, i) => this.#pass!.setBindGroup(i, g));
    this.#pass.dispatchWorkgroups(x, y, z);
    this.dispatches++;
    if (own) this.#pass = (this.#pass.end(), null);
  }

  /**
   * While `writes` is set, every dispatch gets a compute pass of its own with the timestamp
   * writes it returns for the kernel's label (engine/profile.ts); null goes back to one pass.
   */
  timeEachDispatch(writes: ((label: string) => GPUComputePassTimestampWrites) | null): void {
    this.#pass?.end();
    this.#pass = null;
    this.#passWrites = writes;
  }

  /** Submits the recorded work as one command buffer (no wait). */
  flush(): void {
    this.#notPlanning("flush");
    if (!this.#encoder) return;
    this.#pass?.end();
    this.device.queue.submit([this.#encoder.finish()]);
    this.submissions++;
    this.#encoder = null;
    this.#pass = null;
    this.#bindings.afterSubmit();
  }

  /**
   * The open command encoder with no compute pass open (a planned step encodes its replay here;
   * the next flush submits it with the work recorded before and after).
   */
  commandEncoder(): GPUCommandEncoder {
    this.#notPlanning("commandEncoder");
    this.#pass?.end();
    this.#pass = null;
    return this.#encoder ??= this.device.createCommandEncoder();
  }

  /** Drops the recorded work without submitting it (benchmarks that time recording alone). */
  discard(): void {
    if (!this.#encoder) return;
    this.#pass?.end();
    this.#encoder.finish();
    this.#encoder = null;
    this.#pass = null;
    this.#bindings.afterSubmit();
  }

  /** Whether a planned step is being recorded (ops then register per-step host work). */
  get planning(): boolean {
    return this.#sink !== null;
  }

  /**
   * Host work a planned step repeats at the start of every replay after the first (advancing a
   * step counter, say); outside planning it does nothing. Per-step uniform functions are called
   * after it.
   */
  onReplay(fn: () => void): void {
    this.#sink?.onReplay(fn);
  }

  /**
   * Runs `fn` with every dispatch going to `sink` instead of the command encoder and every new
   * tensor from `sink.pool`, outside any scope (engine/planned_step.ts uses it).
   */
  capture<T>(sink: DispatchSink, fn: () => T): T {
    if (this.#sink) throw new Error("capture: a planned step is already being recorded");
    this.#sink = sink;
    this.#alloc = sink.pool;
    try {
      return this.#scopes.outside(fn);
    } finally {
      this.#sink = null;
      this.#alloc = this.pool;
    }
  }

  #notPlanning(what: string): void {
    if (this.#sink) {
      throw new Error(`${what}: not allowed inside a planned step (it records GPU work only)`);
    }
  }

  /** Submits and waits for the GPU; throws if any GPU error was reported. */
  async sync(): Promise<void> {
    this.flush();
    await this.device.queue.onSubmittedWorkDone();
    await this.#yieldErrors();
    this.throwIfFailed();
  }

  /** Throws the first GPU validation error or device loss seen so far. */
  throwIfFailed(): void {
    if (this.#errors.first) throw this.#errors.first;
  }

  /** Runs `fn`; tensors it creates are freed at the end, except those it returns or keeps. */
  scope<T>(fn: () => T): T {
    return this.#scopes.run(fn);
  }

  /** Moves a tensor out of every scope so it is not freed at scope end. */
  keep<T extends Tensor>(t: T): T {
    this.#scopes.remove(t);
    return t;
  }

  /** Runs `fn` without recording on the tape. */
  noGrad<T>(fn: () => T): T {
    const was = this.gradEnabled;
    this.gradEnabled = false;
    try {
      return fn();
    } finally {
      this.gradEnabled = was;
    }
  }

  /** Records an op on the tape when any input needs a gradient; marks the output as needing one. */
  record(
    inputs: readonly Tensor[],
    output: Tensor,
    backward: (gy: Tensor) => readonly (Tensor | null)[],
  ): void {
    if (!this.gradEnabled || !inputs.some((t) => t.requiresGrad)) return;
    output.requiresGrad = true;
    this.tape.push({ inputs, output, backward });
  }

  /** Destroys free pooled buffers (and the bind groups that may name them). */
  trim(): void {
    this.flush();
    this.#bindings.clearBindGroups();
    this.pool.trim();
  }

  /** Frees pooled buffers, pipelines' uniforms and the device at once. */
  destroy(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.flush();
    this.#bindings.destroy();
    this.pool.trim();
    this.device.destroy();
  }

  /** Waits for the GPU, then {@linkcode destroy}s; call it before exit (see README: Mesa aborts). */
  async close(): Promise<void> {
    if (this.#closed) return;
    try {
      this.flush();
      await this.device.queue.onSubmittedWorkDone();
    } finally {
      this.destroy();
    }
  }

  #release(t: Tensor, pool: BufferPool): void {
    this.#scopes.remove(t);
    pool.release(t.buffer);
  }

  async #yieldErrors(): Promise<void> {
    await this.#errors.settled();
    await new Promise((r) => setTimeout(r, 0));
  }
}
