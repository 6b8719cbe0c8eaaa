// Per-dispatch profiling (engine/profile.ts): one time per dispatch in order, the results of the
// profiled work unchanged, more than one query set, and the engine back to one pass afterwards.
import { assert, assertEquals, assertRejects } from "./assert.ts";
import { assertClose, gpuTest, randn } from "./helpers.ts";
import { add, relu } from "../engine/ops/elementwise.ts";
import { kernelTimes, profileDispatches } from "../engine/profile.ts";

gpuTest("profileDispatches: a time per dispatch, in order, and the work's results", async (e) => {
  if (!e.gpu.timestamps) {
    await assertRejects(() => profileDispatches(e, () => {}), Error, "no timestamp-query");
    return;
  }
  const n = 1 << 22, small = 7;
  const a = e.upload(randn(n, 1), [n]), b = e.upload(randn(n, 2), [n]);
  const s = e.upload(randn(small, 3), [small]);
  const out = e.tensor([n]), outS = e.tensor([small]);
  const before = e.dispatches;
  const times = await profileDispatches(e, () => {
    e.copy(relu(add(a, b)), out); // add, relu, copyWords over 4 Mi floats
    e.copy(relu(s), outS); // relu, copyWords over 7
  });
  assertEquals(e.dispatches - before, 5);
  assertEquals(times.map((t) => t.label), [
    "elementwise.wgsl:add",
    "elementwise.wgsl:relu",
    "elementwise.wgsl:copyWords",
    "elementwise.wgsl:relu",
    "elementwise.wgsl:copyWords",
  ]);
  for (const t of times) assert(Number.isFinite(t.ms) && t.ms >= 0, `${t.label}: ${t.ms} ms`);
  // 4 Mi floats against 7: the large relu is timed as the longer one by far.
  assert(times[1].ms > 4 * times[3].ms, `relu 4 Mi ${times[1].ms} ms vs 7: ${times[3].ms} ms`);
  const [av, bv] = [await a.read(), await b.read()];
  const want = av.map((x, i) => Math.max(0, x + bv[i]));
  assertClose(await out.read(), want, { atol: 0, rtol: 0 }, "profiled add + relu");
  const sv = await s.read();
  assertClose(
    await outS.read(),
    sv.map((x) => Math.max(0, x)),
    { atol: 0, rtol: 0 },
    "profiled small relu",
  );
  const k = kernelTimes(times);
  assertEquals(k.map((x) => x.calls).reduce((p, c) => p + c, 0), 5);
  assertEquals(k.find((x) => x.kernel === "elementwise:relu")?.calls, 2);
  assert(k.every((x, i) => i === 0 || k[i - 1].ms >= x.ms), "kernelTimes: largest first");
  // Afterwards one shared pass again: work records and computes as before.
  e.copy(relu(s), outS);
  assertEquals(e.dispatches - before, 7);
  assertClose(
    await outS.read(),
    sv.map((x) => Math.max(0, x)),
    { atol: 0, rtol: 0 },
    "after profiling",
  );
  for (const t of [a, b, s, out, outS]) t.dispose();
});

gpuTest("profileDispatches: more dispatches than one query set holds (2,048)", async (e) => {
  if (!e.gpu.timestamps) return; // the test above checks the error
  const x = e.upload(randn(5, 4), [5]);
  const acc = e.zeros([5]);
  const times = await profileDispatches(e, () => {
    for (let i = 0; i < 2100; i++) e.accumulate(acc, x);
  });
  assertEquals(times.length, 2100);
  assert(times.every((t) => t.label === times[0].label && t.ms >= 0 && Number.isFinite(t.ms)));
  const xv = await x.read();
  assertClose(
    await acc.read(),
    xv.map((v) => 2100 * v),
    { atol: 1e-3, rtol: 1e-4 },
    "2,100 accumulations",
  );
  x.dispose();
  acc.dispose();
});
