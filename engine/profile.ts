// Per-dispatch GPU time: every dispatch a function records gets a compute pass of its own with
// a timestamp at its start and end (needs timestamp-query). For finding where a step's time goes:
// one dispatch a pass takes away what the adapter could overlap in a shared pass, so the sum can
// exceed the step's time a little.
import type { Engine } from "./engine.ts";

/** One timed dispatch: its kernel's label (source[constants]:entry) and GPU milliseconds. */
export interface DispatchTime {
  /** The kernel's label: source name (with its generated constants) and entry point. */
  label: string;
  /** GPU milliseconds between the dispatch's pass's two timestamps. */
  ms: number;
}

/** GPU time of one kernel family (the label without its [generated constants]). */
export interface KernelTime {
  /** source:entry, without the .wgsl suffix and the [constants]. */
  kernel: string;
  /** Summed GPU milliseconds. */
  ms: number;
  /** Dispatches summed. */
  calls: number;
}

const PER_SET = 2048; // dispatches per query set: 4,096 timestamps, WebGPU's most

/**
 * Records `fn` once (inside a scope), submits it and returns the GPU time of each dispatch, in
 * order. Throws when the adapter has no timestamp-query.
 */
export async function profileDispatches(e: Engine, fn: () => void): Promise<DispatchTime[]> {
  if (!e.gpu.timestamps) {
    throw new Error(
      "profileDispatches: this adapter has no timestamp-query, so dispatches cannot be timed",
    );
  }
  await e.sync();
  const sets: GPUQuerySet[] = [];
  const labels: string[] = [];
  e.timeEachDispatch((label) => {
    const i = labels.length % PER_SET;
    if (i === 0) sets.push(e.device.createQuerySet({ type: "timestamp", count: 2 * PER_SET }));
    labels.push(label);
    const querySet = sets[sets.length - 1];
    return { querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 };
  });
  try {
    e.scope(fn);
  } finally {
    e.timeEachDispatch(null);
  }
  const bytes = 2 * PER_SET * 8, size = Math.max(1, sets.length) * bytes;
  const d = e.device;
  const resolved = d.createBuffer({
    size,
    usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
  });
  const read = d.createBuffer({ size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const enc = e.commandEncoder();
  sets.forEach((qs, k) => {
    const n = Math.min(PER_SET, labels.length - k * PER_SET);
    enc.resolveQuerySet(qs, 0, 2 * n, resolved, k * bytes);
  });
  enc.copyBufferToBuffer(resolved, 0, read, 0, size);
  e.flush();
  try {
    await read.mapAsync(GPUMapMode.READ);
    const ts = new BigInt64Array(read.getMappedRange().slice(0));
    read.unmap();
    return labels.map((label, i) => {
      const at = Math.floor(i / PER_SET) * 2 * PER_SET + 2 * (i % PER_SET);
      return { label, ms: Math.max(0, Number(ts[at + 1] - ts[at]) / 1e6) };
    });
  } finally {
    for (const b of [resolved, read]) b.destroy();
    for (const qs of sets) qs.destroy();
  }
}

/** Sums dispatch times per kernel family, largest first. */
export function kernelTimes(times: readonly DispatchTime[]): KernelTime[] {
  const by = new Map<string, KernelTime>();
  for (const t of times) {
    const kernel = t.label.replace(/\.wgsl/, "").replace(/\[[^\]]*\]/g, "");
    const k = by.get(kernel) ?? { kernel, ms: 0, calls: 0 };
    k.ms += t.ms;
    k.calls++;
    by.set(kernel, k);
  }
  return [...by.values()].sort((a, b) => b.ms - a.ms);
}
