// A pool of GPU buffers reused by size class, with bytes in use and peak reported.

const USAGE = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC |
  GPUBufferUsage.COPY_DST;

/** Rounds a byte count up to its size class: 256-byte steps below 64 KiB, else 2^k or 1.5·2^k. */
export function sizeClass(bytes: number): number {
  const b = Math.max(256, Math.ceil(bytes / 256) * 256);
  if (b <= 65536) return b;
  const p = 2 ** Math.floor(Math.log2(b));
  if (b === p) return b;
  return b <= 1.5 * p ? 1.5 * p : 2 * p;
}

/** Reuses storage buffers by size class; buffers go back with {@linkcode BufferPool.release}. */
export class BufferPool {
  #device: GPUDevice;
  #free = new Map<number, GPUBuffer[]>();
  #all = new Set<GPUBuffer>();
  #inUse = 0;
  #peak = 0;
  #allocated = 0;

  /** A pool that allocates from `device`. */
  constructor(device: GPUDevice) {
    this.#device = device;
  }

  /** A buffer of at least `bytes` bytes (usage STORAGE | COPY_SRC | COPY_DST). */
  acquire(bytes: number): GPUBuffer {
    const size = sizeClass(bytes);
    const buffer = this.#free.get(size)?.pop() ?? this.#create(size);
    this.#inUse += size;
    this.#peak = Math.max(this.#peak, this.#inUse);
    return buffer;
  }

  /** Returns a buffer to the pool; it may be handed out again at once. */
  release(buffer: GPUBuffer): void {
    if (!this.#all.has(buffer)) throw new Error("BufferPool.release: buffer is not from this pool");
    const list = this.#free.get(buffer.size) ?? [];
    list.push(buffer);
    this.#free.set(buffer.size, list);
    this.#inUse -= buffer.size;
  }

  /** Destroys the free buffers (not those in use). */
  trim(): void {
    for (const list of this.#free.values()) {
      for (const b of list) {
        this.#all.delete(b);
        this.#allocated -= b.size;
        b.destroy();
      }
    }
    this.#free.clear();
  }

  /** Destroys every buffer, in use or free (a planned step's own pool when it is disposed). */
  destroy(): void {
    for (const b of this.#all) b.destroy();
    this.#all.clear();
    this.#free.clear();
    this.#inUse = 0;
    this.#allocated = 0;
  }

  /** Bytes handed out now, the most ever handed out at once, and bytes allocated on the GPU. */
  get stats(): { inUse: number; peak: number; allocated: number } {
    return { inUse: this.#inUse, peak: this.#peak, allocated: this.#allocated };
  }

  /** Starts a new peak measurement from the bytes in use now. */
  resetPeak(): void {
    this.#peak = this.#inUse;
  }

  #create(size: number): GPUBuffer {
    const buffer = this.#device.createBuffer({ size, usage: USAGE });
    this.#all.add(buffer);
    this.#allocated += size;
    return buffer;
  }
}
