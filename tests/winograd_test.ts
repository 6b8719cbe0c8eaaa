// Winograd F(2×2,3×3) conv2d: every direction vs the float64 reference on odd sizes and a
// recipe-like shape (worst relative error written per test), the tape path, and the choice.
import { assert, assertEquals, assertThrows } from "./assert.ts";
import { parseTrainFlags } from "../tasks/train_flags.ts";
import { gpuTest, randn } from "./helpers.ts";
import type { Engine } from "../engine/engine.ts";
import {
  conv2d,
  conv2dBackwardInput,
  conv2dBackwardWeight,
  conv2dForward,
} from "../engine/ops/conv2d/mod.ts";
import {
  chooseConfig,
  type Conv2dConfig,
  isWinograd,
  winogradApplies,
} from "../engine/ops/conv2d/choice.ts";
import { candidatesFor } from "../engine/ops/conv2d/candidates.ts";
import { gemmBlock } from "../engine/ops/conv2d/winograd.ts";
import { conv2dGeometry } from "../engine/ops/conv2d/mod.ts";
import {
  conv2dBackwardInputRef,
  conv2dBackwardWeightRef,
  conv2dRef,
  convOut,
  type ConvShape,
} from "./reference/conv2d.ts";
import { scaledError as relErr } from "./reference/error.ts";

function check(what: string, got: ArrayLike<number>, want: ArrayLike<number>, tol: number) {
  const r = relErr(got, want);
  assert(r <= tol, `${what}: worst relative error ${r.toExponential(2)} > ${tol}`);
}

const label = (s: ConvShape) => `${s.N}x${s.C}x${s.H}x${s.W} → ${s.K} p${s.padding}`;

/** Runs the three raw Winograd directions on s and checks each within its tolerance. */
async function checkShape(
  e: Engine,
  s: ConvShape,
  seed: number,
  tol: number[],
  variant: "winograd" | "winograd4" | Conv2dConfig = "winograd",
) {
  const { P, Q } = convOut(s);
  const xd = randn(s.N * s.C * s.H * s.W, seed), wd = randn(s.K * s.C * 9, seed + 1);
  const bd = randn(s.K, seed + 2), gd = randn(s.N * s.K * P * Q, seed + 3);
  const x = e.upload(xd, [s.N, s.C, s.H, s.W]), w = e.upload(wd, [s.K, s.C, 3, 3]);
  const b = e.upload(bd, [s.K]), gy = e.upload(gd, [s.N, s.K, P, Q]);
  const geo = { stride: 1, padding: s.padding, variant };
  const y = conv2dForward(x, w, { ...geo, bias: b });
  const gx = conv2dBackwardInput(gy, w, { ...geo, inputShape: x.shape });
  const gw = conv2dBackwardWeight(x, gy, { ...geo, kernelSize: [3, 3] });
  check(`forward ${label(s)}`, await y.read(), conv2dRef(s, xd, wd, bd), tol[0]);
  check(`dx ${label(s)}`, await gx.read(), conv2dBackwardInputRef(s, gd, wd), tol[1]);
  check(`dw ${label(s)}`, await gw.read(), conv2dBackwardWeightRef(s, xd, gd), tol[2]);
  for (const t of [x, w, b, gy, y, gx, gw]) t.dispose();
}

const odd = (N: number, C: number, H: number, W: number, K: number, padding: number) => ({
  N,
  C,
  H,
  W,
  K,
  R: 3,
  S: 3,
  stride: 1,
  padding,
});

gpuTest("winograd: batch 3, 7×7, 3 → 5 channels, padding 1, every direction", async (e) => {
  // measured worst relative error: forward 1.43e-7, dx 1.51e-7, dw 4.31e-7
  await checkShape(e, odd(3, 3, 7, 7, 5, 1), 10, [2e-7, 2e-7, 5e-7]);
});

gpuTest("winograd: batch 3, 9×9, 5 → 3 channels, padding 1, every direction", async (e) => {
  // measured worst relative error: forward 1.03e-7, dx 1.57e-7, dw 2.61e-7
  await checkShape(e, odd(3, 5, 9, 9, 3, 1), 20, [2e-7, 2e-7, 3e-7]);
});

gpuTest(
  "winograd: batch 3, 9×7, 5 → 5, padding 0 and 7×9 padding 2, every direction",
  async (e) => {
    // measured worst relative error (forward, dx, dw): p0 1.85e-7, 1.93e-7, 2.33e-7;
    // p2 1.89e-7, 1.81e-7, 1.94e-7
    await checkShape(e, odd(3, 5, 9, 7, 5, 0), 30, [2e-7, 2.5e-7, 2.5e-7]);
    await checkShape(e, odd(3, 5, 7, 9, 5, 2), 40, [2e-7, 2.5e-7, 2.5e-7]);
  },
);

gpuTest("winograd: recipe-like 2×64×16×16 → 64, padding 1, every direction", async (e) => {
  // measured worst relative error: forward 3.03e-7, dx 3.32e-7, dw 2.78e-7
  await checkShape(e, odd(2, 64, 16, 16, 64, 1), 50, [4e-7, 4e-7, 4e-7]);
});

gpuTest("winograd F(4×4,3×3): batch 3, 7×7 3 → 5 and 9×9 5 → 3, padding 1", async (e) => {
  // measured worst relative error (forward, dx, dw): 7×7 1.06e-6, 1.62e-6, 1.84e-6;
  // 9×9 1.13e-6, 2.08e-6, 1.38e-6
  await checkShape(e, odd(3, 3, 7, 7, 5, 1), 10, [1.2e-6, 1.8e-6, 2e-6], "winograd4");
  await checkShape(e, odd(3, 5, 9, 9, 3, 1), 20, [1.3e-6, 2.3e-6, 1.6e-6], "winograd4");
});

gpuTest("winograd F(4×4,3×3): padding 0 and 2, and recipe-like 2×64×16×16 → 64", async (e) => {
  // measured worst relative error (forward, dx, dw): p0 1.36e-6, 1.63e-6, 1.11e-6;
  // p2 1.77e-6, 1.11e-6, 1.70e-6; recipe-like 5.86e-6, 5.26e-6, 2.73e-6
  await checkShape(e, odd(3, 5, 9, 7, 5, 0), 30, [1.5e-6, 1.8e-6, 1.3e-6], "winograd4");
  await checkShape(e, odd(3, 5, 7, 9, 5, 2), 40, [2e-6, 1.3e-6, 1.9e-6], "winograd4");
  await checkShape(e, odd(2, 64, 16, 16, 64, 1), 50, [6.5e-6, 6e-6, 3e-6], "winograd4");
});

gpuTest(
  "winograd vec4 output rows: 8², 4², 12×8 planes and padding 0, both tile sizes",
  async (e) => {
    // Planes whose output sides are multiples of 4 store whole vec4 rows (outputTiles4); the
    // recipe's small planes have 2 tiles a row (F(4×4) on 8², F(2×2) on 4²).
    // measured worst relative error (forward, dx, dw), F(2×2) | F(4×4):
    // 8² 1.51e-7, 1.60e-7, 3.25e-7 | 1.85e-6, 1.55e-6, 2.03e-6; 4² 1.36e-7, 2.07e-7, 1.37e-7 |
    // 2.30e-6, 1.70e-6, 1.65e-6; 12×8 1.35e-7, 2.28e-7, 2.22e-7 | 1.41e-6, 2.36e-6, 1.54e-6;
    // 10×6 p0 (8×4 out) 1.20e-7, 1.83e-7, 1.20e-7 | 1.47e-6, 1.01e-6, 1.04e-6
    const cases: [ConvShape, number[], number[]][] = [
      [odd(3, 5, 8, 8, 6, 1), [2e-7, 2e-7, 4e-7], [2.2e-6, 2e-6, 2.5e-6]],
      [odd(3, 5, 4, 4, 6, 1), [2e-7, 2.5e-7, 2e-7], [2.7e-6, 2e-6, 2e-6]],
      [odd(3, 5, 12, 8, 6, 1), [2e-7, 2.8e-7, 2.8e-7], [1.8e-6, 2.8e-6, 1.9e-6]],
      [odd(2, 3, 10, 6, 4, 0), [1.5e-7, 2.2e-7, 1.5e-7], [1.8e-6, 1.3e-6, 1.3e-6]],
    ];
    for (const [i, [s, tol2, tol4]] of cases.entries()) {
      await checkShape(e, s, 60 + 10 * i, tol2, "winograd");
      await checkShape(e, s, 60 + 10 * i, tol4, "winograd4");
    }
  },
);

gpuTest(
  "winograd in chunks of images (a small binding limit): every direction, both sizes",
  async (e) => {
    // Large batches run in chunks of images so no transformed tensor exceeds the binding limit;
    // a limit forced down to ~40 KB makes batch 3 run in chunks of one or two images (the
    // tensors are still bound whole, well inside the device's real limit). Measured worst
    // relative error (forward, dx, dw; dw whole and chunked): 9×9 F(2×2) 1.53e-7, 1.51e-7,
    // 3.84e-7 / 2.31e-7, F(4×4) 1.51e-6, 1.25e-6, 1.99e-6 / 2.04e-6; 8×8 F(2×2) 1.42e-7,
    // 1.87e-7, 4.80e-7 / 1.86e-7, F(4×4) 2.93e-6, 1.46e-6, 2.41e-6 / 1.85e-6.
    const limits = e.gpu.limits;
    const real = limits.maxStorageBufferBindingSize;
    // [shape, F(2×2) and F(4×4) tolerances]: 9×9 stores outputs one by one, 8×8 as vec4 rows.
    const cases: [ConvShape, number[], number[]][] = [
      [odd(3, 5, 9, 9, 6, 1), [2e-7, 2e-7, 4.5e-7], [1.8e-6, 1.5e-6, 2.4e-6]],
      [odd(3, 5, 8, 8, 6, 1), [1.7e-7, 2.2e-7, 5.5e-7], [3.3e-6, 1.7e-6, 2.8e-6]],
    ];
    for (const [s, tol2, tol4] of cases) {
      const count = async (variant: "winograd" | "winograd4") => {
        const before = e.dispatches;
        await checkShape(e, s, 90, variant === "winograd" ? tol2 : tol4, variant);
        return e.dispatches - before;
      };
      for (const variant of ["winograd", "winograd4"] as const) {
        const whole = await count(variant);
        limits.maxStorageBufferBindingSize = 40_000;
        let chunked: number;
        try {
          chunked = await count(variant);
        } finally {
          limits.maxStorageBufferBindingSize = real;
        }
        // 2–3 chunks: input tiles, GEMM and output tiles once or twice more in forward and dx,
        // both tile transforms and the GEMM more in dw with sums into dU (measured: 9×9 32
        // dispatches against 13 and 12, 8×8 26 against 12).
        assert(chunked >= whole + 12, `${variant}: ${chunked} dispatches chunked vs ${whole}`);
      }
    }
  },
);

gpuTest("winograd GEMM, workgroup-tiled form (GPUs): every direction, 3 tile shapes", async (e) => {
  // The GPU form, run here for its numerics (the tuner measures it on hardware adapters only).
  // Measured worst relative error (forward, dx, dw) over the three tile shapes: F(2×2) 9×9
  // 2.10e-7, 2.17e-7, 2.51e-7, 16×16 64→40 4.59e-7, 3.05e-7, 6.08e-7; F(4×4) 9×9 2.87e-6,
  // 3.54e-6, 2.19e-6, 16×16 8.37e-6, 5.31e-6, 3.78e-6.
  const tiles: Record<string, number>[] = [
    {},
    { BM: 128, BN: 128, BK: 16, TM: 8, TN: 8 },
    { BM: 32, BN: 64, BK: 32 },
  ];
  const tol = {
    winograd: [[2.5e-7, 2.5e-7, 3e-7], [5.3e-7, 3.5e-7, 7e-7]],
    winograd4: [[3.3e-6, 4e-6, 2.5e-6], [9.5e-6, 6e-6, 4.3e-6]],
  };
  for (const [i, t] of tiles.entries()) {
    for (const variant of ["winograd", "winograd4"] as const) {
      const cfg = { variant, tiles: t };
      await checkShape(e, odd(3, 5, 9, 9, 6, 1), 100 + i, tol[variant][0], cfg);
      await checkShape(e, odd(2, 64, 16, 16, 40, 1), 110 + i, tol[variant][1], cfg);
    }
  }
  // Tiles the kernel cannot hold are refused, naming the bounds.
  const x = e.upload(randn(2 * 5 * 8 * 8, 7), [2, 5, 8, 8]);
  const w = e.upload(randn(6 * 5 * 9, 8), [6, 5, 3, 3]);
  const big = { variant: "winograd4" as const, tiles: { BM: 128, BN: 128, TM: 4, TN: 4 } };
  assertThrows(() => conv2dForward(x, w, { padding: 1, variant: big }), RangeError, "≤ 256");
  for (const t of [x, w]) t.dispose();
  // The tuner's candidates: the GPU form only on hardware adapters.
  const g = conv2dGeometry("t", [8, 64, 16, 16], [64, 64, 3, 3], 1, 1);
  const tiled = candidatesFor(e, "forward", g).filter((c) => isWinograd(c.variant) && c.tiles);
  assertEquals(tiled.length, e.gpu.software ? 0 : 8);
});

gpuTest("winograd GEMM blocks: every block shape, odd row and column counts", async (e) => {
  // [shape, variant, tolerance per direction]; tile counts T = N·⌈P/m⌉·⌈Q/m⌉ pick the blocks
  // (forward and backward-input: B has ⌈T/4⌉ vec4 columns; backward-weight: ⌈C/4⌉).
  const cases: [ConvShape, "winograd" | "winograd4", number[]][] = [
    // T 4: 1 vec4 column, 8 lanes along the rows; measured 4.68e-6, 4.27e-6, 2.72e-6
    [odd(1, 40, 8, 8, 70, 1), "winograd4", [5e-6, 4.5e-6, 3e-6]],
    // T 9: 3 columns, 2×4 lanes; measured 2.22e-6, 2.29e-6, 2.23e-6
    [odd(1, 9, 12, 12, 11, 1), "winograd4", [2.5e-6, 2.5e-6, 2.5e-6]],
    // T 18: 5 columns, 4×2 lanes; measured 2.31e-6, 2.21e-6, 2.58e-6
    [odd(2, 7, 12, 12, 13, 1), "winograd4", [2.5e-6, 2.5e-6, 3e-6]],
    // T 36: 9 columns, 16 rows × 2 columns a lane, 4×2 lanes; measured 2.50e-7, 2.85e-7, 3.47e-7
    [odd(1, 36, 12, 12, 33, 1), "winograd", [3e-7, 3e-7, 4e-7]],
    // T 64: 16 columns, 2 a lane; measured 1.59e-7, 2.17e-7, 3.41e-7
    [odd(1, 6, 16, 16, 40, 1), "winograd", [2e-7, 2.5e-7, 4e-7]],
  ];
  const seen = new Set<string>();
  for (const [s, variant, tol] of cases) {
    const m = variant === "winograd4" ? 4 : 2;
    const T = s.N * Math.ceil(s.H / m) * Math.ceil(s.W / m);
    for (const n4 of [Math.ceil(T / 4), Math.ceil(s.C / 4)]) {
      seen.add(JSON.stringify(gemmBlock(n4)));
    }
    await checkShape(e, s, 60 + s.C, tol, variant);
  }
  seen.add(JSON.stringify(gemmBlock(32))); // the wide block: the recipe-like tests above
  assertEquals(seen.size, 6, `blocks exercised: ${[...seen].join(" ")}`);
});

gpuTest(
  "winograd through the tape: forward's filter transform reused by backward-input",
  async (e) => {
    const s = odd(3, 5, 9, 9, 5, 1);
    const xd = randn(3 * 5 * 81, 60), wd = randn(5 * 5 * 9, 61), rd = randn(3 * 5 * 81, 62);
    // measured worst relative error (y, dx, dw): F(2×2) 2.17e-7, 1.99e-7, 1.83e-7;
    // F(4×4) 3.00e-6, 2.69e-6, 2.32e-6
    const tols = { winograd: [2.5e-7, 2.2e-7, 2e-7], winograd4: [3.3e-6, 3e-6, 2.6e-6] };
    for (const variant of ["winograd", "winograd4"] as const) {
      e.conv2d.forced = variant;
      try {
        const x = e.upload(xd, [3, 5, 9, 9]), w = e.upload(wd, [5, 5, 3, 3]);
        x.requiresGrad = w.requiresGrad = true;
        const y = conv2d(x, w, { padding: 1 });
        e.tape.backward(y, e.upload(rd, y.shape));
        const tol = tols[variant];
        check(`${variant} tape y`, await y.read(), conv2dRef(s, xd, wd), tol[0]);
        check(
          `${variant} tape dx`,
          await x.grad!.read(),
          conv2dBackwardInputRef(s, rd, wd),
          tol[1],
        );
        check(
          `${variant} tape dw`,
          await w.grad!.read(),
          conv2dBackwardWeightRef(s, xd, rd),
          tol[2],
        );
      } finally {
        e.conv2d.forced = null;
      }
    }
  },
);

gpuTest("conv choice: --conv modes, and Winograd only where it applies", (e) => {
  const g3 = conv2dGeometry("t", [8, 64, 32, 32], [64, 64, 3, 3], 1, 1);
  const s2 = conv2dGeometry("t", [8, 64, 32, 32], [64, 64, 3, 3], 2, 1);
  const k1 = conv2dGeometry("t", [8, 64, 32, 32], [64, 64, 1, 1], 1, 0);
  assert(winogradApplies(g3) && !winogradApplies(s2) && !winogradApplies(k1));
  const direct = e.gpu.software ? "blocked" : "tiled";
  try {
    const soft = e.gpu.software;
    e.conv2d.mode = "winograd";
    for (const d of ["forward", "backwardInput", "backwardWeight"] as const) {
      assert(isWinograd(chooseConfig(e, d, g3).variant), `${d}: Winograd when asked by mode`);
      assertEquals(chooseConfig(e, d, s2).variant, direct);
    }
    e.conv2d.mode = "auto";
    const narrow = conv2dGeometry("t", [8, 16, 32, 32], [128, 16, 3, 3], 1, 1);
    const tiny = conv2dGeometry("t", [8, 512, 4, 4], [512, 512, 3, 3], 1, 1);
    const pick = (d: "forward" | "backwardInput" | "backwardWeight", g: typeof g3) =>
      chooseConfig(e, d, g).variant;
    // Software adapters: the measured defaults; hardware: direct until tuned.
    assertEquals(pick("forward", g3), soft ? "winograd4" : direct);
    assertEquals(pick("backwardWeight", g3), soft ? "winograd4" : direct);
    // 8 images of 4×4: 8 F(4×4) tiles, 32 F(2×2) tiles; 2 images: 8 F(2×2) tiles
    const few = conv2dGeometry("t", [2, 512, 4, 4], [512, 512, 3, 3], 1, 1);
    for (const d of ["forward", "backwardInput", "backwardWeight"] as const) {
      assertEquals(pick(d, tiny), soft ? "winograd" : direct, `${d}: 32 F(2×2) tiles`);
      assertEquals(pick(d, few), direct, `${d}: too few tiles`);
    }
    assertEquals(pick("backwardInput", narrow), direct, "16 output channels of dx");
    assertEquals(pick("backwardWeight", narrow), soft ? "winograd4" : direct, "16 → 128 dw");
    const thin = conv2dGeometry("t", [8, 64, 32, 32], [16, 64, 3, 3], 1, 1);
    assertEquals(pick("backwardWeight", thin), direct, "16 filters");
    e.conv2d.mode = "direct";
    assertEquals(chooseConfig(e, "forward", g3).variant, direct);
    assertEquals(chooseConfig(e, "forward", g3, "winograd").variant, "winograd", "asked wins");
    assertEquals(chooseConfig(e, "forward", k1, "winograd").variant, direct, "falls back");
  } finally {
    e.conv2d.mode = "auto";
  }
  return Promise.resolve();
});

Deno.test("--conv flag of the training tasks: the three modes, auto by default", () => {
  const mode = (args: string[]) => {
    const f = parseTrainFlags("wide", args);
    return f === "help" ? "help" : f.conv;
  };
  assertEquals(mode([]), "auto");
  assertEquals(mode(["--conv", "winograd"]), "winograd");
  assertEquals(mode(["--conv", "direct"]), "direct");
  assertThrows(() => mode(["--conv", "fft"]), Error, "--conv must be direct, winograd or auto");
});
