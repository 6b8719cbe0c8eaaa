// The reductions' subgroup variants where the adapter lacks subgroups (Deno 2.9's wgpu never
// offers them): the tree is the only choice with nothing measured, and forcing subgroups is
// refused by name, before any subgroup kernel is compiled (Naga refuses `enable subgroups;`).
// The subgroup variants themselves are checked against the references in Chromium
// (kernel_tier_test), and the training page's measurement in page_browser_test.
import { assertEquals, assertThrows } from "./assert.ts";
import { gpuTest } from "./helpers.ts";
import { reduceVariant, sum } from "../engine/ops/reduce.ts";
import { describeReduceTuning, tuneReduce } from "../engine/ops/reduce_tune.ts";
import { batchNorm2d } from "../engine/ops/batch_norm.ts";

gpuTest(
  "reductions: without subgroups tuneReduce keeps the tree and forcing them is refused",
  async (e) => {
    if (e.gpu.subgroups) {
      console.log("this adapter has subgroups: their variants are checked by kernel_tier_test");
      return;
    }
    const tuning = await tuneReduce(e);
    const tree = { variant: "tree", ms: {} };
    assertEquals(tuning, { sum: tree, batchNorm: tree });
    assertEquals(
      describeReduceTuning(tuning),
      "reductions: sum tree; batchNorm tree (the adapter has no subgroups; nothing measured)",
    );
    assertEquals([reduceVariant(e, "sum"), reduceVariant(e, "batchNorm")], ["tree", "tree"]);
    e.reduce.forced = "subgroups";
    try {
      const x = e.upload(new Float32Array(5).fill(1), [5]);
      assertThrows(() => sum(x), RangeError, 'sum: the subgroups variant needs the "subgroups"');
      const c = (v: number) => e.upload(new Float32Array(2).fill(v), [2]);
      const bn = { weight: c(1), bias: c(0), runningMean: c(0), runningVar: c(1) };
      const b = e.upload(new Float32Array(2 * 2 * 9).map((_, i) => i), [2, 2, 3, 3]);
      assertThrows(
        () => batchNorm2d(b, bn, { training: true }),
        RangeError,
        'batchNorm: the subgroups variant needs the "subgroups"',
      );
    } finally {
      e.reduce.forced = null;
    }
    assertEquals((await sum(e.upload(new Float32Array(5).fill(1), [5])).read())[0], 5);
  },
);
