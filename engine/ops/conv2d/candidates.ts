// The conv2d configs worth measuring on an adapter: cheap ones on software adapters, tile shapes on GPUs.
import type { Engine } from "../../engine.ts";
import { type Conv2dConfig, type Conv2dDirection, winogradApplies } from "./choice.ts";
import type { ConvGeometry } from "./geometry.ts";

/**
 * Workgroup-tile shapes of the tiled family for GPUs (WGSL overrides of tiled_gather.wgsl and
 * tiled_weight.wgsl): BM × BN outputs a workgroup, a K-step of BK, TM × TN outputs an
 * invocation, as the fastest public WebGPU GEMMs use them (64–128 square tiles, 4×4 to 8×8 per
 * thread, K-steps 8–32). Every one keeps BK·BM and BK·BN ≤ 2048 (the kernels' staging arrays)
 * and 256 invocations a workgroup or fewer.
 */
export const GPU_TILES: readonly Record<string, number>[] = [
  { BM: 64, BN: 64, BK: 16, TM: 4, TN: 4 },
  { BM: 128, BN: 64, BK: 16, TM: 8, TN: 4 },
  { BM: 64, BN: 128, BK: 16, TM: 4, TN: 8 },
  { BM: 128, BN: 128, BK: 16, TM: 8, TN: 8 },
  { BM: 64, BN: 64, BK: 32, TM: 4, TN: 4 },
  { BM: 64, BN: 64, BK: 8, TM: 4, TN: 4 },
  { BM: 32, BN: 64, BK: 32, TM: 4, TN: 4 },
];

/** Tile shapes also tried with register prefetch of the next K-tile (gather directions only). */
export const PREFETCH_TILES: readonly Record<string, number>[] = [
  { BM: 64, BN: 64, BK: 16, TM: 4, TN: 4, PF: 1 },
  { BM: 128, BN: 128, BK: 16, TM: 8, TN: 8, PF: 1 },
  { BM: 64, BN: 64, BK: 32, TM: 4, TN: 4, PF: 1 },
];

/** Register-blocked tiles tried besides the default block on software adapters. */
export const SOFTWARE_TILES: readonly Record<string, number>[] = [
  { TM: 4, TP: 4, TQ: 4, TK: 4, TC: 2 },
];

/**
 * The one list of configs the tuner (tuneConv2d, autotune), the bench's `--candidates` and the
 * docs mean, for one direction and shape on this engine: on software adapters the default
 * register block and a smaller one (the tiled kernels are ~10× slower there, never worth
 * timing); on GPUs every tile shape of {@linkcode GPU_TILES} and the blocked default; and where
 * Winograd applies and the engine's mode is not "direct", both tile sizes with the register
 * GEMM, plus on GPUs the GEMM's workgroup-tiled form in the four K-step-16 shapes of
 * {@linkcode GPU_TILES}. The first entry is the untuned default.
 */
export function candidatesFor(
  engine: Engine,
  _dir: Conv2dDirection,
  g: ConvGeometry,
): Conv2dConfig[] {
  const own: Conv2dConfig[] = engine.gpu.software
    ? [
      { variant: "blocked" },
      ...SOFTWARE_TILES.map((tiles) => ({ variant: "blocked" as const, tiles })),
    ]
    : [...GPU_TILES.map((tiles) => ({ variant: "tiled" as const, tiles })), { variant: "blocked" }];
  if (!winogradApplies(g) || engine.conv2d.mode === "direct") return own;
  const gpu = engine.gpu.software ? [] : GPU_TILES.filter((t) => t.BK === 16);
  const winograd = (["winograd", "winograd4"] as const).flatMap((variant) => [
    { variant },
    ...gpu.map((tiles) => ({ variant, tiles })),
  ]);
  return [...own, ...winograd];
}
