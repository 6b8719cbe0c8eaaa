// The kernel tier in Chromium (Dawn: Tint and SwiftShader): every op family's forward and
// backward against the float64 references the Deno tests use, every conv variant the engine may
// choose, and two planned training steps of WRN-10-1 and of a small ResNet beside the same steps
// in Deno. The page runs tests/browser/kernel_page.ts (bundled with the browser build's swaps)
// and POSTs its per-case errors back; they are asserted here.
import { assert, assertEquals } from "./assert.ts";
import { buildWeb } from "../tasks/build_web.ts";
import { chromiumPath, NO_CHROMIUM, runInChromium } from "../tasks/chromium.ts";
import { type TierResult, tierTable } from "./browser/kernel_page.ts";
import { KERNEL_CASES } from "./kernel_cases.ts";
import { MODELS, modelSteps } from "./model_step_case.ts";
import { Engine } from "../engine/engine.ts";

if (chromiumPath() === null) console.error(NO_CHROMIUM);

Deno.test({
  name:
    "kernel tier in Chromium: every op family and conv variant, and two models' steps as in Deno",
  ignore: chromiumPath() === null,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "kernel-tier-" });
    try {
      await buildWeb({ entry: "tests/browser/kernel_page.ts", out: `${dir}/tier.js` });
      const { result: page } = await runInChromium<TierResult>(
        `import { runTier } from "/tier.js";\npost(await runTier(log));`,
        { files: { "/tier.js": await Deno.readFile(`${dir}/tier.js`) }, timeoutMs: 540_000 },
      );
      console.log(tierTable(page));
      assert(/swiftshader|google/i.test(page.adapter), `not Dawn's adapter: ${page.adapter}`);
      assertEquals(page.cases.map((c) => c.name), KERNEL_CASES.map((c) => c.name));
      // Chromium's adapter has subgroups: the subgroup variants run there, never skipped.
      assert(page.features.includes("subgroups"), `no subgroups in ${page.features}`);
      assertEquals(page.cases.filter((c) => c.skipped).map((c) => c.family), []);
      for (const [family, t] of Object.entries(page.reduce)) {
        assert(t.ms.subgroups! > 0 && t.ms.tree! > 0, `tuneReduce measured ${family}`);
      }
      for (const [i, c] of page.cases.entries()) {
        const tol = KERNEL_CASES[i].tol;
        assert(
          c.ratio <= 1,
          `${c.family} ${c.name} in Chromium: ${c.where} (|error| ${c.maxAbs} over ` +
            `${tol.atol} + ${tol.rtol}·|reference|: ${tol.why})`,
        );
      }
      // The same planned steps in Deno (Naga, lavapipe). Two f32 compilers order and fuse the
      // arithmetic differently; after two SGD steps (lr 0.05) every parameter and loss measured
      // within 3e-7 of Deno's (2026-12-05); 1e-5 leaves room for other drivers' rounding.
      const e = await Engine.create();
      try {
        // WRN-10-1 once more in Chromium with every reduction's subgroup variant forced (the
        // sum in the loss's batch mean, batch norm's statistics and backward sums).
        assert(page.subgroupSteps, "no WRN-10-1 steps with the subgroup reductions");
        assertEquals(page.subgroupKernels, [
          "batch_norm_subgroups.wgsl:backwardReduceSubgroups",
          "batch_norm_subgroups.wgsl:statsSubgroups",
          "reduce_subgroups.wgsl:sum",
        ]);
        const runs = [
          ...(Object.keys(MODELS) as (keyof typeof MODELS)[]).map((name) =>
            [name, name, page.models[name]] as const
          ),
          ["WRN-10-1", "WRN-10-1, subgroup reductions", page.subgroupSteps] as const,
        ];
        for (const [name, label, got] of runs) {
          const deno = await modelSteps(e, name);
          assertEquals(got.params.length, deno.params.length, `${label}: parameter count`);
          for (const [s, l] of deno.losses.entries()) {
            assert(
              Math.abs(got.losses[s] - l) <= 1e-5,
              `${label} step ${s + 1} loss: Chromium ${got.losses[s]}, Deno ${l}`,
            );
          }
          let worst = 0, at = 0;
          for (let j = 0; j < deno.params.length; j++) {
            const d = Math.abs(got.params[j] - deno.params[j]);
            if (!(d <= worst)) [worst, at] = [d, j];
          }
          console.log(
            `${label}: losses ${
              got.losses.join(", ")
            } in Chromium; parameters within ${worst} of Deno's`,
          );
          assert(
            worst <= 1e-5,
            `${label}: parameter ${at} is ${got.params[at]} in Chromium, ${
              deno.params[at]
            } in Deno`,
          );
        }
      } finally {
        await e.close();
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
