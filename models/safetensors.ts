// The safetensors file format: encode and decode tensors with a JSON header (checkpoints, fixtures).
//
// Layout: an 8-byte little-endian header length N, N bytes of UTF-8 JSON
// `{"__metadata__": {str: str}, name: {"dtype", "shape", "data_offsets": [begin, end]}, …}`
// (padded with spaces to a multiple of 8 bytes), then the raw little-endian data; offsets
// count from the end of the header and must tile the data section exactly.

/** Element types this codec reads and writes. */
export type SafetensorsDType = "F64" | "F32" | "I64" | "I32" | "U32" | "U8" | "I8" | "BOOL";

/** The array a decoded tensor of each dtype comes back as. */
export type SafetensorsData =
  | Float64Array
  | Float32Array
  | BigInt64Array
  | Int32Array
  | Uint32Array
  | Uint8Array
  | Int8Array;

/** One tensor: dtype, shape (row-major) and its elements. */
export interface SafeTensor {
  /** Element type. */
  dtype: SafetensorsDType;
  /** Shape. */
  shape: number[];
  /** Elements, as a typed array of the dtype. */
  data: SafetensorsData;
}

/** A tensor to encode: `data` may also be plain numbers (I64 accepts safe integers or bigints). */
export interface SafeTensorInput {
  /** Element type. */
  dtype: SafetensorsDType;
  /** Shape. */
  shape: readonly number[];
  /** Elements (converted to the dtype when written). */
  data: SafetensorsData | ArrayLike<number> | ArrayLike<bigint>;
}

/** What a file holds: tensors in file order and the `__metadata__` string map. */
export interface Safetensors {
  /** Tensors by name. */
  tensors: Map<string, SafeTensor>;
  /** The file's `__metadata__` strings. */
  metadata: Record<string, string>;
}

type ArrayCtor = { new (buffer: ArrayBuffer): SafetensorsData; BYTES_PER_ELEMENT: number };

const ARRAYS: Record<SafetensorsDType, ArrayCtor> = {
  F64: Float64Array,
  F32: Float32Array,
  I64: BigInt64Array,
  I32: Int32Array,
  U32: Uint32Array,
  U8: Uint8Array,
  I8: Int8Array,
  BOOL: Uint8Array,
};

/** The python library's dtype order (it writes larger alignments first, then by name). */
const ORDER = ["BOOL", "U8", "I8", "I32", "U32", "F32", "F64", "I64"];
/** Dtypes of the format this codec does not convert (named in errors). */
const KNOWN_UNSUPPORTED = ["F8_E5M2", "F8_E4M3", "I16", "U16", "F16", "BF16", "U64"];
const MAX_HEADER = 100_000_000;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function fail(msg: string, cls: ErrorConstructor = RangeError): never {
  throw new cls(`Cannot decode safetensors: ${msg}`);
}

function checkDType(dtype: unknown, where: string, prefix: string): SafetensorsDType {
  if (typeof dtype === "string" && dtype in ARRAYS) return dtype as SafetensorsDType;
  const kind = KNOWN_UNSUPPORTED.includes(dtype as string) ? "unsupported" : "unknown";
  throw new TypeError(`${prefix}: ${where} has ${kind} dtype ${JSON.stringify(dtype)}`);
}

function elementCount(shape: unknown, where: string, prefix: string): number {
  const ok = Array.isArray(shape) && shape.every((d) => Number.isSafeInteger(d) && d >= 0);
  if (!ok) throw new TypeError(`${prefix}: ${where} has bad shape ${JSON.stringify(shape)}`);
  const n = (shape as number[]).reduce((a, b) => a * b, 1);
  if (!Number.isSafeInteger(n)) throw new RangeError(`${prefix}: ${where} shape overflows`);
  return n;
}

/**
 * Parses a safetensors file; each tensor's data is copied into its own aligned typed array.
 *
 * @example
 * ```ts
 * const { tensors, metadata } = decodeSafetensors(await Deno.readFile("model.safetensors"));
 * const w = tensors.get("conv1.weight")!; // { dtype: "F32", shape: [16, 3, 3, 3], data }
 * ```
 */
export function decodeSafetensors(bytes: Uint8Array): Safetensors {
  if (!LITTLE_ENDIAN) fail("this host is big-endian, the format is little-endian", Error);
  if (bytes.length < 8) fail(`file is truncated: ${bytes.length} bytes, no 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = view.getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER)) fail(`header length ${n} exceeds the ${MAX_HEADER}-byte limit`);
  const headerLen = Number(n);
  if (8 + headerLen > bytes.length) {
    fail(
      `header overflow: header length ${headerLen} runs past the end of a ${bytes.length}-byte file`,
    );
  }
  let header: unknown;
  try {
    header = JSON.parse(
      new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + headerLen)),
    );
  } catch (e) {
    fail(`header is not valid UTF-8 JSON (${(e as Error).message})`, SyntaxError);
  }
  if (!header || typeof header !== "object" || Array.isArray(header)) {
    fail("header is not a JSON object", TypeError);
  }
  const metadata: Record<string, string> = {};
  const entries: { name: string; info: SafeTensorInfo; begin: number; end: number }[] = [];
  const prefix = "Cannot decode safetensors";
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === "__metadata__") {
      if (!raw || typeof raw !== "object" || Array.isArray(raw)) {
        fail("__metadata__ is not an object", TypeError);
      }
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== "string") fail(`__metadata__ value of "${k}" is not a string`, TypeError);
        metadata[k] = v;
      }
      continue;
    }
    const info = raw as SafeTensorInfo;
    if (!info || typeof info !== "object") fail(`entry "${name}" is not an object`, TypeError);
    const dtype = checkDType(info.dtype, `tensor "${name}"`, prefix);
    const count = elementCount(info.shape, `tensor "${name}"`, prefix);
    const off = info.data_offsets;
    if (
      !Array.isArray(off) || off.length !== 2 ||
      !off.every((o) => Number.isSafeInteger(o) && o >= 0)
    ) {
      fail(`tensor "${name}" has bad data_offsets ${JSON.stringify(off)}`, TypeError);
    }
    const [begin, end] = off;
    if (end < begin) {
      fail(`tensor "${name}" has data_offsets [${begin}, ${end}] that end before they begin`);
    }
    const want = count * ARRAYS[dtype].BYTES_PER_ELEMENT;
    if (end - begin !== want) {
      fail(
        `tensor "${name}" spans ${end - begin} bytes but ${dtype} [${info.shape}] needs ${want}`,
      );
    }
    entries.push({ name, info, begin, end });
  }
  const dataStart = 8 + headerLen;
  const dataLen = bytes.length - dataStart;
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  let prev = "";
  for (const t of entries) {
    if (t.end > dataLen) {
      fail(
        `tensor "${t.name}" data_offsets [${t.begin}, ${t.end}] are out of range of the ${dataLen}-byte data section (truncated file?)`,
      );
    }
    if (t.begin < at) fail(`tensor "${t.name}" overlaps "${prev}" (offset ${t.begin} < ${at})`);
    if (t.begin > at) {
      fail(`gap of ${t.begin - at} bytes before tensor "${t.name}" (offsets must be contiguous)`);
    }
    at = t.end;
    prev = t.name;
  }
  if (at !== dataLen) fail(`${dataLen - at} bytes after the last tensor's data`);
  const tensors = new Map<string, SafeTensor>();
  for (const t of entries) {
    const dtype = t.info.dtype as SafetensorsDType;
    const copy = bytes.slice(dataStart + t.begin, dataStart + t.end).buffer;
    tensors.set(t.name, { dtype, shape: [...t.info.shape], data: new ARRAYS[dtype](copy) });
  }
  return { tensors, metadata };
}

interface SafeTensorInfo {
  dtype: string;
  shape: number[];
  data_offsets: number[];
}

function toBytes(name: string, t: SafeTensorInput): Uint8Array {
  const prefix = "Cannot encode safetensors";
  const dtype = checkDType(t.dtype, `tensor "${name}"`, prefix);
  const count = elementCount(t.shape, `tensor "${name}"`, prefix);
  if (t.data.length !== count) {
    throw new RangeError(
      `${prefix}: tensor "${name}" has ${t.data.length} values for shape [${t.shape}]`,
    );
  }
  const Ctor = ARRAYS[dtype];
  let arr: SafetensorsData;
  if (t.data instanceof Ctor) arr = t.data;
  else if (dtype === "I64") {
    arr = new BigInt64Array(count);
    for (let i = 0; i < count; i++) {
      const v = (t.data as ArrayLike<number | bigint>)[i];
      if (typeof v === "number" && !Number.isSafeInteger(v)) {
        throw new RangeError(
          `${prefix}: tensor "${name}" value ${v} at ${i} is not a safe integer for I64`,
        );
      }
      arr[i] = BigInt(v);
    }
  } else {
    arr = new Ctor(new ArrayBuffer(count * Ctor.BYTES_PER_ELEMENT));
    (arr as Float64Array).set(t.data as ArrayLike<number>);
  }
  return new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength);
}

/**
 * Serializes tensors and an optional string map to safetensors bytes, laid out as the python
 * library does: data ordered by dtype (widest first) then name, offsets contiguous, `__metadata__`
 * first in the header, header padded with spaces to a multiple of 8 bytes.
 *
 * @example
 * ```ts
 * const bytes = encodeSafetensors({ w: { dtype: "F32", shape: [2], data: [1, 2] } }, { version: "1" });
 * ```
 */
export function encodeSafetensors(
  tensors: Map<string, SafeTensorInput> | Record<string, SafeTensorInput>,
  metadata?: Record<string, string>,
): Uint8Array {
  const list = [...(tensors instanceof Map ? tensors : Object.entries(tensors))];
  list.sort(([an, a], [bn, b]) =>
    ORDER.indexOf(b.dtype) - ORDER.indexOf(a.dtype) || (an < bn ? -1 : an > bn ? 1 : 0)
  );
  const header: Record<string, unknown> = {};
  if (metadata) {
    const m: Record<string, string> = {};
    for (const k of Object.keys(metadata).sort()) {
      if (typeof metadata[k] !== "string") {
        throw new TypeError(`Cannot encode safetensors: metadata "${k}" is not a string`);
      }
      m[k] = metadata[k];
    }
    header.__metadata__ = m;
  }
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of list) {
    if (name === "__metadata__") {
      throw new TypeError(`Cannot encode safetensors: "__metadata__" is reserved`);
    }
    const data = toBytes(name, t);
    header[name] = {
      dtype: t.dtype,
      shape: [...t.shape],
      data_offsets: [offset, offset + data.length],
    };
    offset += data.length;
    chunks.push(data);
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const pad = (8 - (json.length % 8)) % 8;
  if (pad) {
    const padded = new Uint8Array(json.length + pad).fill(0x20);
    padded.set(json);
    json = padded;
  }
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Reads and decodes a safetensors file. */
export async function readSafetensors(path: string | URL): Promise<Safetensors> {
  return decodeSafetensors(await Deno.readFile(path));
}

/** Encodes tensors and metadata and writes them to a file. */
export async function writeSafetensors(
  path: string | URL,
  tensors: Map<string, SafeTensorInput> | Record<string, SafeTensorInput>,
  metadata?: Record<string, string>,
): Promise<void> {
  await Deno.writeFile(path, encodeSafetensors(tensors, metadata));
}
