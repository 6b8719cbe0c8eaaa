// CIFAR-10 batches: mean/std, epoch orders and draws, and the GPU batch kernel (crop, flip, zscore).
import { assert, assertEquals } from "./assert.ts";
import { assertClose, gpuTest } from "./helpers.ts";
import { meanStd } from "../data/transforms.ts";
import { augmentDraw, epochKey, epochOrder } from "../data/random.ts";
import { GpuCifar } from "../data/gpu_dataset.ts";
import { batchReference, meanStdReference } from "./reference/augment.ts";
import { R, synth } from "./cifar_fixture.ts";

Deno.test("meanStd matches the float64 reference", () => {
  const s = synth(R, 7);
  const n = 5 * R;
  const got = meanStd(s.x, n);
  const want = meanStdReference(s.x, n);
  assertClose(got.mean, want.mean, { atol: 1e-9, rtol: 1e-12 }, "mean");
  assertClose(got.std, want.std, { atol: 1e-9, rtol: 1e-12 }, "std");
});

Deno.test("epoch orders are seeded permutations; draws cover every crop and flip", () => {
  const a = epochOrder(1001, 42, 3);
  assertEquals(Array.from(a), Array.from(epochOrder(1001, 42, 3)));
  assertEquals(Array.from(a).sort((p, q) => p - q), Array.from({ length: 1001 }, (_, i) => i));
  assert(a.some((v, i) => v !== epochOrder(1001, 42, 4)[i]), "epochs differ");
  assert(a.some((v, i) => v !== epochOrder(1001, 43, 3)[i]), "seeds differ");
  assert(a.some((v, i) => v !== i), "shuffled");
  assertEquals(Array.from(epochOrder(9, 42, 3, false)), [0, 1, 2, 3, 4, 5, 6, 7, 8]);
  const seen = { cy: new Set<number>(), cx: new Set<number>(), flips: 0 };
  for (let p = 0; p < 2000; p++) {
    const d = augmentDraw(epochKey(1, 0), p);
    seen.cy.add(d.cy);
    seen.cx.add(d.cx);
    seen.flips += d.flip ? 1 : 0;
  }
  assertEquals([seen.cy.size, seen.cx.size], [9, 9]);
  assert(seen.flips > 900 && seen.flips < 1100, `flips ${seen.flips} of 2000`);
});

/** Checks every batch of an epoch against the float64 reference. */
async function checkEpoch(
  ds: GpuCifar,
  s: { images: Uint8Array; labels: Uint8Array; n: number },
  stats: ReturnType<typeof meanStd>,
  key: number,
): Promise<number[]> {
  const sizes: number[] = [];
  for (let i = 0; i < ds.batches; i++) {
    const { x, y, size } = ds.batch(i);
    const want = batchReference(
      s.images,
      s.labels,
      s.n,
      ds.order,
      i * ds.batchSize,
      size,
      stats,
      ds.augment ? (p) => augmentDraw(key, p) : null,
    );
    assertEquals(x.shape, [size, 3, 32, 32]);
    assertClose(await x.read(), want.x, { atol: 2e-5, rtol: 1e-5 }, `batch ${i} x`);
    assertEquals(Array.from(await y.read()), want.y, `batch ${i} y`);
    x.dispose();
    y.dispose();
    sizes.push(size);
  }
  return sizes;
}

gpuTest("GPU batches: crop + flip over two buffer parts, partial last batch", async (e) => {
  const s = synth(R, 10);
  const set = { images: s.x, labels: s.y, n: 5 * R };
  const stats = meanStd(s.x, set.n);
  const ds = GpuCifar.upload(e, set, { stats, batchSize: 8, augment: true, partImages: 20 });
  ds.beginEpoch(2, 77);
  assertEquals(await checkEpoch(ds, set, stats, epochKey(77, 2)), [8, 8, 8, 8, 3]);
  const first = Array.from(ds.order);
  ds.beginEpoch(3, 77);
  assert(first.some((v, i) => v !== ds.order[i]), "a new epoch reshuffles");
  await checkEpoch(ds, set, stats, epochKey(77, 3));
  ds.dispose();
});

gpuTest(
  "GPU batches: flip-doubled set (indices ≥ n mirrored), shuffled and in order",
  async (e) => {
    const s = synth(R, 11);
    const set = { images: s.x, labels: s.y, n: 5 * R };
    const stats = meanStd(s.x, set.n);
    const ds = GpuCifar.upload(e, set, { stats, batchSize: 16, mirror: true, partImages: 30 });
    assertEquals([ds.length, ds.batches], [70, 5]);
    assertEquals(await checkEpoch(ds, set, stats, 0), [16, 16, 16, 16, 6]); // identity order
    ds.beginEpoch(0, 9);
    assert(Array.from(ds.order).some((v) => v >= set.n), "mirrored indices in the order");
    await checkEpoch(ds, set, stats, 0);
    ds.dispose();
    const test = { images: s.X, labels: s.Y, n: R };
    const ts = GpuCifar.upload(e, test, { stats, batchSize: 1000 });
    assertEquals(await checkEpoch(ts, test, stats, 0), [R]);
    ts.dispose();
  },
);
