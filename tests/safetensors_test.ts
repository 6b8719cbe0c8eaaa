// The safetensors codec: round trips, the python library's byte layout, and each decode error.
import { assert, assertEquals, assertThrows } from "./assert.ts";
import {
  decodeSafetensors,
  encodeSafetensors,
  readSafetensors,
  type SafeTensorInput,
  writeSafetensors,
} from "../models/safetensors.ts";
import { randn } from "./helpers.ts";

/** Builds a file by hand: header JSON (unpadded) then the given data bytes. */
function rawFile(header: unknown, data: Uint8Array, lengthOverride?: bigint): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, lengthOverride ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

Deno.test("round trip of every dtype, odd shapes, metadata and an empty tensor", () => {
  const f32 = Float32Array.from(randn(3 * 5 * 7, 1));
  const tensors: Record<string, SafeTensorInput> = {
    "layer1.0.conv1.weight": { dtype: "F32", shape: [3, 5, 7], data: f32 },
    "f64": { dtype: "F64", shape: [3], data: [0.1, -2.5, 1e300] },
    "labels": { dtype: "I64", shape: [4], data: [3, 0, -9, 2 ** 40] },
    "big": { dtype: "I64", shape: [2], data: new BigInt64Array([-(2n ** 62n), 5n]) },
    "i32": { dtype: "I32", shape: [2, 1], data: [-7, 2147483647] },
    "u32": { dtype: "U32", shape: [3], data: new Uint32Array([0, 1, 4294967295]) },
    "bytes": { dtype: "U8", shape: [5], data: [0, 1, 127, 200, 255] },
    "i8": { dtype: "I8", shape: [2], data: [-128, 127] },
    "mask": { dtype: "BOOL", shape: [3], data: [1, 0, 1] },
    "empty": { dtype: "F32", shape: [0, 4], data: [] },
    "scalar": { dtype: "F32", shape: [], data: [2.5] },
  };
  const meta = { version: "1", what: 'a "quoted" ünïcode string' };
  const { tensors: back, metadata } = decodeSafetensors(encodeSafetensors(tensors, meta));
  assertEquals(metadata, meta);
  assertEquals([...back.keys()].sort(), Object.keys(tensors).sort());
  for (const [name, t] of Object.entries(tensors)) {
    const b = back.get(name)!;
    assertEquals(b.dtype, t.dtype, name);
    assertEquals(b.shape, [...t.shape], name);
    const want = t.dtype === "I64"
      ? Array.from(t.data as ArrayLike<number>, (v) => BigInt(v))
      : Array.from(
        t.data as ArrayLike<number>,
        (v) => t.dtype === "F32" ? Math.fround(v) : v,
      );
    assertEquals(Array.from(b.data as ArrayLike<number | bigint>), want, name);
  }
  assert(back.get("labels")!.data instanceof BigInt64Array, "I64 decodes to BigInt64Array");
  assert(back.get("layer1.0.conv1.weight")!.data instanceof Float32Array, "F32 → Float32Array");
});

Deno.test("encoding matches the python library's layout byte for byte", () => {
  // safetensors.torch.save_file({"attn.0": torch.arange(6.).reshape(1, 2, 3)}) — header padded
  // with spaces to 64 bytes, data right after.
  const bytes = encodeSafetensors({
    "attn.0": { dtype: "F32", shape: [1, 2, 3], data: [0, 1, 2, 3, 4, 5] },
  });
  const json = '{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}';
  assertEquals(Number(new DataView(bytes.buffer).getBigUint64(0, true)), 64);
  assertEquals(new TextDecoder().decode(bytes.subarray(8, 72)), json.padEnd(64, " "));
  assertEquals(Array.from(new Float32Array(bytes.slice(72).buffer)), [0, 1, 2, 3, 4, 5]);
  // An empty file with metadata: {"__metadata__":{"framework":"pt"}} padded to 40 bytes.
  const empty = encodeSafetensors({}, { framework: "pt" });
  assertEquals(empty.length, 48);
  assertEquals(
    new TextDecoder().decode(empty.subarray(8)),
    '{"__metadata__":{"framework":"pt"}}     ',
  );
});

Deno.test("header lists __metadata__ first, then tensors widest dtype first, then by name", () => {
  const bytes = encodeSafetensors(
    {
      b: { dtype: "F32", shape: [1], data: [1] },
      a: { dtype: "U8", shape: [1], data: [1] },
      c: { dtype: "I64", shape: [1], data: [1] },
      a2: { dtype: "F32", shape: [1], data: [2] },
    },
    { z: "1", m: "2" },
  );
  const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  assertEquals(Object.keys(header), ["__metadata__", "c", "a2", "b", "a"]);
  assertEquals(Object.keys(header.__metadata__), ["m", "z"]);
  assertEquals(header.c.data_offsets, [0, 8]);
  assertEquals(header.a.data_offsets, [16, 17]);
  assertEquals([...decodeSafetensors(bytes).tensors.keys()], ["c", "a2", "b", "a"]);
});

Deno.test("decoding accepts any header order and unaligned data offsets", () => {
  const data = new Uint8Array(1 + 4);
  data[0] = 9;
  new DataView(data.buffer).setFloat32(1, 1.5, true);
  const file = rawFile({
    f: { dtype: "F32", shape: [1], data_offsets: [1, 5] },
    u: { dtype: "U8", shape: [1], data_offsets: [0, 1] },
  }, data);
  const { tensors, metadata } = decodeSafetensors(file);
  assertEquals(metadata, {});
  assertEquals(Array.from(tensors.get("f")!.data as Float32Array), [1.5]);
  assertEquals(Array.from(tensors.get("u")!.data as Uint8Array), [9]);
});

Deno.test("read and write through a file", async () => {
  const path = await Deno.makeTempFile({ suffix: ".safetensors" });
  try {
    await writeSafetensors(path, { x: { dtype: "F32", shape: [2], data: [1, 2] } }, { k: "v" });
    const { tensors, metadata } = await readSafetensors(path);
    assertEquals(metadata, { k: "v" });
    assertEquals(Array.from(tensors.get("x")!.data as Float32Array), [1, 2]);
  } finally {
    await Deno.remove(path);
  }
});

const F4 = new Uint8Array(4);

Deno.test("decode errors: truncated length, header overflow, header too large, bad JSON", () => {
  assertThrows(() => decodeSafetensors(new Uint8Array(5)), RangeError, "truncated: 5 bytes");
  const ok = rawFile({ x: { dtype: "F32", shape: [1], data_offsets: [0, 4] } }, F4);
  assertThrows(
    () => decodeSafetensors(ok.subarray(0, 20)),
    RangeError,
    "header overflow: header length 54 runs past the end of a 20-byte file",
  );
  assertThrows(
    () => decodeSafetensors(rawFile({}, F4, 2n ** 40n)),
    RangeError,
    "exceeds the 100000000-byte limit",
  );
  const bad = rawFile({}, new Uint8Array(0));
  bad[8] = 0x5b; // "[}" is not JSON
  assertThrows(() => decodeSafetensors(bad), SyntaxError, "not valid UTF-8 JSON");
  assertThrows(() => decodeSafetensors(rawFile([1], F4)), TypeError, "not a JSON object");
});

Deno.test("decode errors: truncated data, offsets out of range, overlapping, gaps, trailing bytes", () => {
  const one = { x: { dtype: "F32", shape: [2], data_offsets: [0, 8] } };
  assertThrows(
    () => decodeSafetensors(rawFile(one, F4)),
    RangeError,
    'tensor "x" data_offsets [0, 8] are out of range of the 4-byte data section (truncated file?)',
  );
  const overlap = {
    a: { dtype: "F32", shape: [2], data_offsets: [0, 8] },
    b: { dtype: "F32", shape: [1], data_offsets: [4, 8] },
  };
  assertThrows(
    () => decodeSafetensors(rawFile(overlap, new Uint8Array(8))),
    RangeError,
    'tensor "b" overlaps "a"',
  );
  const gap = { a: { dtype: "F32", shape: [1], data_offsets: [4, 8] } };
  assertThrows(
    () => decodeSafetensors(rawFile(gap, new Uint8Array(8))),
    RangeError,
    'gap of 4 bytes before tensor "a"',
  );
  const x = { x: { dtype: "F32", shape: [1], data_offsets: [0, 4] } };
  assertThrows(
    () => decodeSafetensors(rawFile(x, new Uint8Array(7))),
    RangeError,
    "3 bytes after the last tensor",
  );
  const backwards = { x: { dtype: "F32", shape: [0], data_offsets: [4, 0] } };
  assertThrows(
    () => decodeSafetensors(rawFile(backwards, F4)),
    RangeError,
    "end before they begin",
  );
  const wrongSize = { x: { dtype: "F32", shape: [2], data_offsets: [0, 4] } };
  assertThrows(
    () => decodeSafetensors(rawFile(wrongSize, F4)),
    RangeError,
    "spans 4 bytes but F32 [2] needs 8",
  );
});

Deno.test("decode errors: unknown and unsupported dtypes, bad shapes, offsets and metadata", () => {
  const t = (info: Record<string, unknown>) =>
    rawFile({ x: { dtype: "F32", shape: [1], data_offsets: [0, 4], ...info } }, F4);
  assertThrows(
    () => decodeSafetensors(t({ dtype: "Q4" })),
    TypeError,
    'tensor "x" has unknown dtype "Q4"',
  );
  assertThrows(
    () => decodeSafetensors(t({ dtype: "BF16" })),
    TypeError,
    'unsupported dtype "BF16"',
  );
  assertThrows(() => decodeSafetensors(t({ shape: [-1] })), TypeError, "bad shape [-1]");
  assertThrows(
    () => decodeSafetensors(t({ data_offsets: [0] })),
    TypeError,
    "bad data_offsets [0]",
  );
  const meta = rawFile({ __metadata__: { v: 1 } }, new Uint8Array(0));
  assertThrows(
    () => decodeSafetensors(meta),
    TypeError,
    '__metadata__ value of "v" is not a string',
  );
});

Deno.test("encode errors: wrong value count, unknown dtype, unsafe I64, reserved name", () => {
  assertThrows(
    () => encodeSafetensors({ x: { dtype: "F32", shape: [2, 2], data: [1, 2, 3] } }),
    RangeError,
    'tensor "x" has 3 values for shape [2,2]',
  );
  assertThrows(
    // deno-lint-ignore no-explicit-any
    () => encodeSafetensors({ x: { dtype: "F16" as any, shape: [1], data: [1] } }),
    TypeError,
    "unsupported dtype",
  );
  assertThrows(
    () => encodeSafetensors({ x: { dtype: "I64", shape: [1], data: [2 ** 60] } }),
    RangeError,
    "not a safe integer",
  );
  assertThrows(
    () => encodeSafetensors({ __metadata__: { dtype: "U8", shape: [0], data: [] } }),
    TypeError,
    "reserved",
  );
});
