// Bind groups and uniform buffers for dispatches, cached so a static step rebuilds nothing.
import { DeviceErrors } from "./device_errors.ts";
import { type Binding, type CompiledKernel, packUniform } from "./kernel.ts";
import { Tensor } from "./tensor.ts";

/** A uniform struct's members by name. */
export type UniformValues = Record<string, number>;

/**
 * A value bound to a kernel binding: a tensor for storage; for a uniform, numbers by member name
 * or a function returning them. A function is a per-step value: eager dispatches call it at once,
 * a planned step calls it at every replay (learning rate, dropout seed, batch index).
 */
export type BindValue = Tensor | UniformValues | (() => UniformValues);

/** Where a uniform of one dispatch lives: a buffer range. */
export type UniformPlacer = (
  k: CompiledKernel,
  b: Binding,
  value: UniformValues | (() => UniformValues),
) => GPUBufferBinding;

const UNIFORM_CACHE_LIMIT = 4096;
const BIND_GROUP_CACHE_LIMIT = 65536;

/**
 * Checks bindings by name against a kernel's reflection and returns its bind groups: cached by
 * buffer identity, offset and size (the pool hands a step the same buffers every time) and
 * uniform buffers cached by content.
 */
export class BindingCache {
  #device: GPUDevice;
  #bindGroups = new Map<string, GPUBindGroup>();
  #uniforms = new Map<string, GPUBuffer>();
  #ids = new WeakMap<GPUBuffer, number>();
  #nextId = 1;
  #retired: GPUBuffer[] = [];

  constructor(device: GPUDevice) {
    this.#device = device;
  }

  /** Destroys uniform buffers evicted from the cache (call after a submit). */
  afterSubmit(): void {
    for (const b of this.#retired) b.destroy();
    this.#retired = [];
  }

  /** Forgets every bind group (after buffers they name were destroyed). */
  clearBindGroups(): void {
    this.#bindGroups.clear();
  }

  /** Destroys the cached uniform buffers. */
  destroy(): void {
    for (const b of this.#uniforms.values()) b.destroy();
    this.#uniforms.clear();
    this.#bindGroups.clear();
    this.afterSubmit();
  }

  #id(b: GPUBuffer): number {
    let id = this.#ids.get(b);
    if (!id) {
      id = this.#nextId++;
      this.#ids.set(b, id);
    }
    return id;
  }

  #uniform(k: CompiledKernel, name: string, values: Record<string, number>): GPUBuffer {
    const b = k.bindings.get(name)!;
    const data = packUniform(b, values, k.label);
    const key = `${b.bytes}:${Array.from(new Uint32Array(data)).join(",")}`;
    let buf = this.#uniforms.get(key);
    if (!buf) {
      if (this.#uniforms.size >= UNIFORM_CACHE_LIMIT) {
        this.#retired.push(...this.#uniforms.values());
        this.#uniforms.clear();
        this.#bindGroups.clear();
      }
      buf = this.#device.createBuffer({
        size: data.byteLength,
        usage: GPUBufferUsage.UNIFORM,
        mappedAtCreation: true,
      });
      new Uint8Array(buf.getMappedRange()).set(new Uint8Array(data));
      buf.unmap();
      this.#uniforms.set(key, buf);
    }
    return buf;
  }

  /** The bind groups of one dispatch; throws naming a missing, extra or mistyped binding. */
  bind(k: CompiledKernel, values: Record<string, BindValue>): GPUBindGroup[] {
    const { entries, keys } = checkedEntries(k, values, (k, b, v) => ({
      buffer: this.#uniform(k, b.name, typeof v === "function" ? v() : v),
    }), (b) => this.#id(b));
    const groups: GPUBindGroup[] = [];
    for (let g = 0; g < entries.length; g++) {
      const key = `${k.id}|${g}|${keys.join("|")}`;
      let bg = this.#bindGroups.get(key);
      if (!bg) {
        bg = createGroup(this.#device, k, g, entries[g]);
        if (this.#bindGroups.size >= BIND_GROUP_CACHE_LIMIT) this.#bindGroups.clear();
        this.#bindGroups.set(key, bg);
      }
      groups.push(bg);
    }
    return groups;
  }
}

/**
 * Fresh (uncached) bind groups of one dispatch with its uniforms placed by `place`; the same
 * checks as {@linkcode BindingCache.bind} (a planned step owns what it binds).
 */
export function bindOnce(
  device: GPUDevice,
  k: CompiledKernel,
  values: Record<string, BindValue>,
  place: UniformPlacer,
  out: GPUBindGroupEntry[][] = [],
): GPUBindGroup[] {
  const { entries } = checkedEntries(k, values, place, () => 0);
  out.push(...entries.map((g) => g ?? []));
  const groups: GPUBindGroup[] = [];
  for (let g = 0; g < entries.length; g++) groups.push(createGroup(device, k, g, entries[g]));
  return groups;
}

function createGroup(
  device: GPUDevice,
  k: CompiledKernel,
  g: number,
  entries: GPUBindGroupEntry[] | undefined,
): GPUBindGroup {
  // A scope names the kernel in a validation error (a binding over the adapter's limits).
  return DeviceErrors.scoped(device, k.label, () =>
    device.createBindGroup({
      label: k.label,
      layout: k.pipeline.getBindGroupLayout(g),
      entries: entries ?? [],
    }));
}

/** Checks bindings by name against a kernel's reflection and returns its entries per group. */
function checkedEntries(
  k: CompiledKernel,
  values: Record<string, BindValue>,
  place: UniformPlacer,
  id: (b: GPUBuffer) => number,
): { entries: GPUBindGroupEntry[][]; keys: string[] } {
  for (const name of Object.keys(values)) {
    if (!k.bindings.has(name)) {
      const expected = [...k.bindings.keys()].join(", ");
      throw new TypeError(`${k.label}: unexpected binding "${name}" (expected: ${expected})`);
    }
  }
  const entries: GPUBindGroupEntry[][] = [];
  const keys: string[] = [];
  for (const b of k.bindings.values()) {
    const v = values[b.name];
    if (v === undefined) throw new TypeError(`${k.label}: binding "${b.name}" is missing`);
    let resource: GPUBufferBinding;
    if (b.kind === "uniform") {
      if (v instanceof Tensor) {
        throw new TypeError(`${k.label}: uniform "${b.name}" takes numbers, not ${v}`);
      }
      resource = place(k, b, v);
    } else {
      if (!(v instanceof Tensor)) {
        throw new TypeError(`${k.label}: storage "${b.name}" needs a tensor`);
      }
      if (v.disposed) throw new Error(`${k.label}: "${b.name}" is bound to disposed ${v}`);
      const wantsFloat = b.element.includes("f32");
      if (wantsFloat !== (v.dtype === "f32")) {
        throw new TypeError(`${k.label}: "${b.name}" holds ${b.element} but got ${v}`);
      }
      if (v.byteLength % b.bytes !== 0) {
        throw new RangeError(
          `${k.label}: "${b.name}" of ${b.element} needs a multiple of ${b.bytes} bytes, got ${v} (${v.byteLength} bytes)`,
        );
      }
      resource = { buffer: v.buffer, offset: v.offset, size: v.byteLength };
    }
    (entries[b.group] ??= []).push({ binding: b.binding, resource });
    keys.push(
      `${b.group}.${b.binding}:${id(resource.buffer)}@${resource.offset ?? 0}+${
        resource.size ?? 0
      }`,
    );
  }
  return { entries, keys };
}
