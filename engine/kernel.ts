// WGSL kernels: reflection with wgsl_reflect, pipeline cache, bindings checked by name.
// @ts-types="npm:wgsl_reflect@1.6.0/types/index.d.ts"
import { WgslReflect } from "wgsl_reflect";

/** A WGSL source file with a name used in errors (usually the file name). */
export interface KernelSource {
  /** File name, for error messages and cache keys. */
  name: string;
  /** The WGSL source. */
  code: string;
}

/**
 * A WGSL template with each `// @generated KEY` line replaced by `parts[KEY]` (indented as the
 * marker), for kernels whose hot block is written out straight-line. Throws naming a missing marker.
 */
export function fillTemplate(
  name: string,
  template: string,
  parts: Record<string, string[]>,
): KernelSource {
  let code = template;
  for (const [key, lines] of Object.entries(parts)) {
    const marker = new RegExp(`^( *)// @generated ${key}.*$`, "m");
    const m = code.match(marker);
    if (!m) throw new Error(`${name}: template lacks "// @generated ${key}"`);
    code = code.replace(marker, lines.map((l) => m[1] + l).join("\n"));
  }
  return { name, code };
}

/** A uniform struct member as reflected from WGSL. */
export interface Member {
  /** Member name in the WGSL struct. */
  name: string;
  /** Byte offset in the struct. */
  offset: number;
  /** Scalar type of the member. */
  type: "f32" | "u32" | "i32";
}

/** One binding an entry point uses. */
export interface Binding {
  /** Binding name in the WGSL source. */
  name: string;
  /** `@group` index. */
  group: number;
  /** `@binding` index. */
  binding: number;
  /** Storage buffer or uniform struct. */
  kind: "storage" | "uniform";
  /** Element type of a storage array: "f32", "u32", "i32", "vec4<f32>", …; "" for uniforms. */
  element: string;
  /** Storage access, "read" or "read_write"; "" for uniforms. */
  access?: string;
  /** Bytes per array element (storage) or of the whole struct (uniform). */
  bytes: number;
  /** Members of a uniform struct (empty for storage). */
  members: Member[];
}

/** A compiled entry point: its pipeline and the bindings it expects, by name. */
export interface CompiledKernel {
  /** Kernel file and entry point, for error messages. */
  label: string;
  /** The compiled pipeline. */
  pipeline: GPUComputePipeline;
  /** Bindings by name. */
  bindings: Map<string, Binding>;
  /** Unique within its KernelCache (its engine), used in bind-group cache keys. */
  id: number;
}

const reflections = new Map<string, WgslReflect>();

function reflect(src: KernelSource): WgslReflect {
  let r = reflections.get(src.code);
  if (!r) {
    try {
      r = new WgslReflect(src.code);
    } catch (e) {
      throw new SyntaxError(`Cannot parse kernel ${src.name}: ${(e as Error).message}`);
    }
    reflections.set(src.code, r);
  }
  return r;
}

const ELEMENT_BYTES: Record<string, number> = {
  f32: 4,
  u32: 4,
  i32: 4,
  "vec2<f32>": 8,
  "vec4<f32>": 16,
  "vec4<u32>": 16,
  "vec2<u32>": 8,
  "atomic<u32>": 4,
  "atomic<i32>": 4,
};

// deno-lint-ignore no-explicit-any
function typeName(t: any): string {
  if (!t) return "";
  const f = t.format ? typeName(t.format) : "";
  return f ? `${t.name}<${f}>` : t.name;
}

// deno-lint-ignore no-explicit-any
function describeBinding(v: any, kind: "storage" | "uniform", label: string): Binding {
  const t = v.type;
  if (kind === "uniform") {
    // deno-lint-ignore no-explicit-any
    const members: Member[] = (t.members ?? []).map((m: any) => {
      const ty = m.type.name;
      if (ty !== "f32" && ty !== "u32" && ty !== "i32") {
        throw new TypeError(
          `${label}: uniform ${v.name}.${m.name} has type ${ty}; only f32/u32/i32 scalars are supported`,
        );
      }
      return { name: m.name, offset: m.offset, type: ty };
    });
    return {
      name: v.name,
      group: v.group,
      binding: v.binding,
      kind,
      element: "",
      bytes: t.size,
      members,
    };
  }
  const element = t.name === "array" ? typeName(t.format) : typeName(t);
  const bytes = ELEMENT_BYTES[element];
  if (!bytes) {
    throw new TypeError(`${label}: storage ${v.name} has unsupported element type ${element}`);
  }
  const access = v.access === "read_write" ? "read_write" : "read";
  return {
    name: v.name,
    group: v.group,
    binding: v.binding,
    kind,
    element,
    bytes,
    members: [],
    access,
  };
}

/** Compiles and caches pipelines by kernel, entry point and override constants. */
export class KernelCache {
  #device: GPUDevice;
  #cache = new Map<string, CompiledKernel>();
  #modules = new Map<string, GPUShaderModule>();
  /** The next compiled kernel's id (unique within this cache, so within its engine). */
  #nextId = 1;

  /** A cache that compiles on `device`. */
  constructor(device: GPUDevice) {
    this.#device = device;
  }

  /** The pipeline for `entry` of `src` with the given override constants. */
  get(src: KernelSource, entry: string, overrides: Record<string, number> = {}): CompiledKernel {
    const keys = Object.keys(overrides).sort();
    const key = `${src.name}\u0000${entry}\u0000${
      keys.map((k) => `${k}=${overrides[k]}`).join(",")
    }`;
    let k = this.#cache.get(key);
    if (k) return k;
    const label = `${src.name}:${entry}`;
    const r = reflect(src);
    const e = r.entry.compute.find((c) => c.name === entry);
    if (!e) {
      const names = r.entry.compute.map((c) => c.name).join(", ");
      throw new ReferenceError(
        `Kernel ${src.name} has no compute entry point "${entry}" (it has: ${names})`,
      );
    }
    const declared = new Set(r.overrides.map((o) => o.name));
    for (const name of keys) {
      if (!declared.has(name)) throw new ReferenceError(`${label}: no override constant "${name}"`);
    }
    const bindings = new Map<string, Binding>();
    for (const res of e.resources) {
      const kind = res.resourceType === 0 ? "uniform" : res.resourceType === 1 ? "storage" : null;
      if (!kind) throw new TypeError(`${label}: binding ${res.name} is not a buffer`);
      bindings.set(res.name, describeBinding(res, kind, label));
    }
    let module = this.#modules.get(src.name);
    if (!module) {
      module = this.#device.createShaderModule({ label: src.name, code: src.code });
      this.#modules.set(src.name, module);
    }
    const pipeline = this.#device.createComputePipeline({
      label,
      layout: "auto",
      compute: { module, entryPoint: entry, constants: overrides },
    });
    k = { label, pipeline, bindings, id: this.#nextId++ };
    this.#cache.set(key, k);
    return k;
  }
}

/** Packs a plain object of numbers into a uniform struct's bytes, by member name. */
export function packUniform(
  b: Binding,
  values: Record<string, number>,
  label: string,
): ArrayBuffer {
  const data = new ArrayBuffer(Math.max(16, Math.ceil(b.bytes / 16) * 16));
  const view = new DataView(data);
  const seen = new Set<string>();
  for (const m of b.members) {
    const v = values[m.name];
    if (v === undefined) {
      throw new TypeError(`${label}: uniform ${b.name} is missing member "${m.name}"`);
    }
    seen.add(m.name);
    if (m.type === "f32") view.setFloat32(m.offset, v, true);
    else if (m.type === "u32") view.setUint32(m.offset, v, true);
    else view.setInt32(m.offset, v, true);
  }
  for (const name of Object.keys(values)) {
    if (!seen.has(name)) throw new TypeError(`${label}: uniform ${b.name} has no member "${name}"`);
  }
  return data;
}
