// Engine basics: upload/read, pool reuse, scopes, binding errors, GPU error reporting.
import { assert, assertEquals, assertRejects, assertThrows } from "./assert.ts";
import { assertClose, gpuTest, randn } from "./helpers.ts";
import { add, relu } from "../engine/ops/elementwise.ts";
import { sizeClass } from "../engine/buffer_pool.ts";
import code from "../kernels/elementwise.wgsl" with { type: "text" };

const SRC = { name: "elementwise.wgsl", code };

gpuTest("upload and read round-trip f32, u32 and u8 of odd lengths", async (e) => {
  const f = Float32Array.from(randn(13, 1));
  assertEquals(Array.from(await e.upload(f, [13]).read()), Array.from(f));
  const u = Uint32Array.from([1, 2, 3, 4294967295, 7]);
  assertEquals(Array.from(await e.upload(u, [5], "u32").read()), Array.from(u));
  const b = Uint8Array.from([0, 255, 7, 9, 200, 1, 3]);
  assertEquals(Array.from(await e.upload(b, [7], "u8").read()), Array.from(b));
});

gpuTest("a missing binding fails with a message naming it", (e) => {
  const x = e.upload([1, 2], [2]);
  assertThrows(
    () => e.run(SRC, "add", { x, y: x, p: { n: 2, s: 0 } }, 1),
    TypeError,
    '"b" is missing',
  );
  return Promise.resolve();
});

gpuTest("an extra binding fails with a message naming it", (e) => {
  const x = e.upload([1, 2], [2]);
  const y = e.tensor([2]);
  assertThrows(
    () => e.run(SRC, "relu", { x, y, b: x, p: { n: 2, s: 0 } }, 1),
    TypeError,
    'unexpected binding "b"',
  );
  return Promise.resolve();
});

gpuTest("a wrongly typed binding or uniform member fails with a message naming it", (e) => {
  const x = e.upload([1, 2], [2]);
  const u = e.upload([1, 2], [2], "u32");
  assertThrows(
    () => e.run(SRC, "relu", { x: u, y: x, p: { n: 2, s: 0 } }, 1),
    TypeError,
    '"x" holds f32',
  );
  assertThrows(
    () => e.run(SRC, "relu", { x, y: x, p: { n: 2 } }, 1),
    TypeError,
    'missing member "s"',
  );
  assertThrows(
    () => e.run(SRC, "relu", { x, y: x, p: { n: 2, s: 0, q: 1 } }, 1),
    TypeError,
    'no member "q"',
  );
  assertThrows(() => e.run(SRC, "nope", {}, 1), ReferenceError, 'no compute entry point "nope"');
  return Promise.resolve();
});

gpuTest("a GPU validation error is raised at the next sync, not ignored", async () => {
  const { Engine } = await import("../engine/engine.ts");
  const e = await Engine.create();
  const bad = e.device.createShaderModule({ code: "fn broken( {" });
  assert(bad);
  const { GpuError } = await import("../engine/device_errors.ts");
  await assertRejects(() => e.sync(), GpuError, "Shader '' parsing error: expected identifier");
  e.destroy();
});

gpuTest("the pool reuses buffers by size class and tracks peak bytes", async (e) => {
  assertEquals(sizeClass(1), 256);
  assertEquals(sizeClass(70000), 98304);
  assertEquals(sizeClass(131072), 131072);
  e.pool.resetPeak();
  const before = e.pool.stats.inUse;
  const a = e.tensor([1000]);
  const buf = a.buffer;
  a.dispose();
  const b = e.tensor([980]);
  assert(b.buffer === buf, "same size class reuses the freed buffer");
  assertEquals(e.pool.stats.peak - before, sizeClass(4000));
  b.dispose();
  assertEquals(e.pool.stats.inUse, before);
  await e.sync();
});

gpuTest("scope frees what it creates except what it returns", async (e) => {
  const before = e.pool.stats.inUse;
  const x = e.upload(randn(64, 2), [64]);
  const kept = e.scope(() => relu(add(x, x)));
  assertEquals(e.pool.stats.inUse - before, 2 * 256);
  const expected = Array.from(randn(64, 2), (v) => Math.max(0, 2 * v));
  assertClose(await kept.read(), expected, { atol: 1e-6 });
  kept.dispose();
  x.dispose();
  assertEquals(e.pool.stats.inUse, before);
});
