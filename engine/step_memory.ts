// What a step needs of GPU memory, found by recording it against buffers that do not exist.
/// <reference types="@webgpu/types" />
import type { Engine } from "./engine.ts";
import { BufferPool } from "./buffer_pool.ts";
import type { DispatchSink } from "./step_recording.ts";
import type { CompiledKernel } from "./kernel.ts";
import type { BindValue } from "./bindings.ts";
import { Tensor } from "./tensor.ts";
import { availableMemory } from "./host.ts";

/** What one step needs: its own buffers and its largest buffer binding. */
export interface StepMemory {
  /** Bytes of the buffers the step allocates (its pool, size classes and reuse included). */
  bytes: number;
  /** The largest range any dispatch binds, and where. */
  largest: { bytes: number; kernel: string; binding: string };
}

/** A device whose buffers are only sizes: nothing is allocated. */
const SIZES_ONLY = {
  createBuffer: (d: GPUBufferDescriptor) => ({ size: d.size, destroy() {} }),
} as unknown as GPUDevice;

/** Notes every dispatch's bindings instead of recording it. */
class MeasuringSink implements DispatchSink {
  readonly pool = new BufferPool(SIZES_ONLY);
  largest = { bytes: 0, kernel: "", binding: "" };

  dispatch(k: CompiledKernel, bindings: Record<string, BindValue>): void {
    for (const [name, v] of Object.entries(bindings)) {
      if (v instanceof Tensor && v.byteLength > this.largest.bytes) {
        this.largest = { bytes: v.byteLength, kernel: k.label, binding: name };
      }
    }
  }

  onReplay(): void {}
}

/**
 * Runs a step function the way {@linkcode planStep} records it, but every tensor it makes is a
 * size without a GPU buffer and no dispatch is recorded: returns the bytes the planned step would
 * allocate and its largest binding, without allocating them. Kernels are compiled as usual.
 * Throws what the step throws (a RangeError naming the kernel when a dispatch needs more
 * workgroups than the adapter allows).
 */
export function measureStep(engine: Engine, fn: () => void): StepMemory {
  const sink = new MeasuringSink();
  const taped = engine.tape.length;
  try {
    engine.capture(sink, () => engine.scope(fn));
  } finally {
    if (engine.tape.length !== taped) engine.tape.clear();
  }
  return { bytes: sink.pool.stats.allocated, largest: sink.largest };
}

/**
 * The memory the device can use where it is known: for a software adapter (lavapipe,
 * SwiftShader), the host's available memory (Linux /proc/meminfo); null for hardware adapters
 * (WebGPU does not say; an allocation beyond it fails as an out-of-memory error).
 */
export function deviceMemory(engine: Engine): { bytes: number; source: string } | null {
  if (!engine.gpu.software) return null;
  const bytes = availableMemory();
  return bytes === null ? null : { bytes, source: "the host's available memory" };
}
