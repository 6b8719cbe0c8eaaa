// Conv tuning on first use: every candidate is correct, choices are cached and stale files ignored.
import { assert, assertEquals, assertStringIncludes } from "./assert.ts";
import { assertClose, gpuTest, randn } from "./helpers.ts";
import { autotune, kernelVersion } from "../engine/ops/conv2d/tune_cache.ts";
import { candidatesFor, GPU_TILES, PREFETCH_TILES } from "../engine/ops/conv2d/candidates.ts";
import { conv2dKey } from "../engine/ops/conv2d/choice.ts";
import { conv2dGeometry } from "../engine/ops/conv2d/geometry.ts";
import {
  conv2dBackwardInput,
  conv2dBackwardWeight,
  conv2dForward,
} from "../engine/ops/conv2d/mod.ts";
import {
  conv2dBackwardInputRef,
  conv2dBackwardWeightRef,
  conv2dRef,
  type ConvShape,
} from "./reference/conv2d.ts";

gpuTest(
  "every GPU tile shape of the tuner is correct on odd shapes, all three directions",
  async (e) => {
    const s: ConvShape = { N: 3, C: 5, H: 9, W: 7, K: 6, R: 3, S: 3, stride: 1, padding: 1 };
    const s2: ConvShape = { N: 2, C: 3, H: 9, W: 9, K: 9, R: 3, S: 3, stride: 2, padding: 1 };
    for (const shape of [s, s2]) {
      const xv = randn(shape.N * shape.C * shape.H * shape.W, 1);
      const wv = randn(shape.K * shape.C * 9, 2);
      const g = conv2dGeometry(
        "t",
        [shape.N, shape.C, shape.H, shape.W],
        [shape.K, shape.C, 3, 3],
        shape.stride,
        shape.padding,
      );
      const gyv = randn(shape.N * shape.K * g.P * g.Q, 3);
      for (const tiles of [...GPU_TILES, ...PREFETCH_TILES]) {
        const variant = { variant: "tiled" as const, tiles };
        const o = { stride: shape.stride, padding: shape.padding, variant };
        const [y, dx, dw] = e.scope(() => {
          const x = e.upload(Float32Array.from(xv), [shape.N, shape.C, shape.H, shape.W]);
          const w = e.upload(Float32Array.from(wv), [shape.K, shape.C, 3, 3]);
          const gy = e.upload(Float32Array.from(gyv), [shape.N, shape.K, g.P, g.Q]);
          return [
            conv2dForward(x, w, o),
            conv2dBackwardInput(gy, w, { ...o, inputShape: x.shape }),
            conv2dBackwardWeight(x, gy, { ...o, kernelSize: [3, 3] }),
          ].map((t) => e.keep(t));
        });
        const label = `tiled ${JSON.stringify(tiles)} stride ${shape.stride}`;
        // f32 sums of ≤ 45 terms of values ≤ 1: the direct kernels measure ≤ 1e-6 absolute here.
        assertClose(
          await y.read(),
          conv2dRef(shape, xv, wv),
          { atol: 2e-5, rtol: 1e-5 },
          `${label} forward`,
        );
        assertClose(await dx.read(), conv2dBackwardInputRef(shape, gyv, wv), {
          atol: 2e-5,
          rtol: 1e-5,
        }, `${label} dx`);
        assertClose(await dw.read(), conv2dBackwardWeightRef(shape, xv, gyv), {
          atol: 2e-5,
          rtol: 1e-5,
        }, `${label} dw`);
        for (const t of [y, dx, dw]) t.dispose();
      }
    }
  },
);

gpuTest(
  "autotune measures once, caches per adapter and kernels, and ignores stale or corrupt caches",
  async (e) => {
    const tmp = await Deno.makeTempDir();
    try {
      const cache = `${tmp}/tune.json`;
      const shapes = [{ x: [2, 8, 6, 6], w: [8, 8, 3, 3], stride: 1, padding: 1 }];
      const lines: string[] = [];
      const log = (l: string) => lines.push(l);
      const g = conv2dGeometry("t", shapes[0].x, shapes[0].w, 1, 1);
      const keys = (["forward", "backwardInput", "backwardWeight"] as const).map((d) =>
        conv2dKey(e, d, g)
      );
      for (const k of keys) e.conv2d.choices.delete(k);
      const first = await autotune(e, shapes, { cache, log });
      assertEquals([first.measured, first.cached], [3, 0]);
      for (const k of keys) assert(e.conv2d.choices.has(k), `no choice recorded for ${k}`);
      const file = JSON.parse(await Deno.readTextFile(cache));
      const entry = Object.values(file.adapters)[0] as {
        kernels: string;
        choices: Record<string, unknown>;
      };
      assertEquals(entry.kernels, await kernelVersion());
      assertEquals(Object.keys(entry.choices).sort(), [...keys].sort());
      // Each stored choice is one of this adapter's candidates.
      const names = candidatesFor(e, "forward", g).map((c) => JSON.stringify(c));
      assert(names.includes(JSON.stringify(entry.choices[keys[0]])), JSON.stringify(entry.choices));
      assertStringIncludes(lines.at(-1)!, "conv tuning: 3 measured");

      const again = await autotune(e, shapes, { cache, log });
      assertEquals([again.measured, again.cached], [0, 3]);
      // Another conv mode keeps its own choices: --conv direct never stands in for auto.
      e.conv2d.mode = "direct";
      try {
        const direct = await autotune(e, shapes, { cache, log });
        assertEquals([direct.measured, direct.cached], [3, 0]);
      } finally {
        e.conv2d.mode = "auto";
      }
      const back = await autotune(e, shapes, { cache, log });
      assertEquals([back.measured, back.cached], [0, 3]);

      // Stale: measured with other kernels — measured anew, one line says why.
      entry.kernels = "00000000";
      await Deno.writeTextFile(cache, JSON.stringify(file));
      const stale = await autotune(e, shapes, { cache, log });
      assertEquals(stale.measured, 3);
      assert(lines.some((l) => l.includes("was measured with other kernels")), lines.join("\n"));
      // Corrupt: ignored with a line, never a crash, and rewritten.
      await Deno.writeTextFile(cache, "{ not json");
      const corrupt = await autotune(e, shapes, { cache, log });
      assertEquals(corrupt.measured, 3);
      assert(lines.some((l) => l.includes("not valid JSON")), lines.join("\n"));
      JSON.parse(await Deno.readTextFile(cache));
      // No cache at all: measured, nothing written.
      const none = await autotune(e, shapes, { cache: null, log, budgetSeconds: 0 });
      assertEquals([none.measured, none.skipped], [0, 3]);
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
);
