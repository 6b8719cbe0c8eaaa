// The sum's subgroup variant where the adapter lacks subgroups (Deno 2.9's wgpu never offers
// them): the tree is measured as the only choice, and forcing subgroups is refused by name.
// The subgroup variant itself is checked against the reference in Chromium (kernel_tier_test).
import { assertEquals, assertThrows } from "./assert.ts";
import { gpuTest } from "./helpers.ts";
import { reduceVariant, sum, tuneReduce } from "../engine/ops/reduce.ts";

gpuTest(
  "reduce: without subgroups tuneReduce keeps the tree and forcing them is refused",
  async (e) => {
    if (e.gpu.subgroups) {
      console.log("this adapter has subgroups: their variant is checked by kernel_tier_test");
      return;
    }
    assertEquals(await tuneReduce(e), { variant: "tree", ms: {} });
    assertEquals(reduceVariant(e), "tree");
    e.reduce.forced = "subgroups";
    try {
      const x = e.upload(new Float32Array(5).fill(1), [5]);
      assertThrows(() => sum(x), RangeError, 'needs the "subgroups" feature');
    } finally {
      e.reduce.forced = null;
    }
    assertEquals((await sum(e.upload(new Float32Array(5).fill(1), [5])).read())[0], 5);
  },
);
