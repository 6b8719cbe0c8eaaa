// The conv2d configs worth measuring on an adapter: cheap ones on software adapters, tile shapes on GPUs.
import type { Engine } from "../../engine.ts";
import type { Conv2dConfig, Conv2dDirection } from "./choice.ts";
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

/** Extra candidates other kernel families add (e.g. Winograd), asked per direction and shape. */
const families: ((engine: Engine, dir: Conv2dDirection, g: ConvGeometry) => Conv2dConfig[])[] = [];

/** Registers a kernel family's candidates (called once by the family's module). */
export function addCandidates(
  fn: (engine: Engine, dir: Conv2dDirection, g: ConvGeometry) => Conv2dConfig[],
): void {
  families.push(fn);
}

/**
 * The configs the tuner measures for one direction and shape: on software adapters the default
 * register block and a smaller one (the tiled kernels are ~10× slower there, never worth
 * timing); on GPUs every tile shape of {@linkcode GPU_TILES} and the blocked default; plus what
 * other families register. The first entry is the untuned default.
 */
export function candidatesFor(
  engine: Engine,
  dir: Conv2dDirection,
  g: ConvGeometry,
): Conv2dConfig[] {
  const own: Conv2dConfig[] = engine.gpu.software
    ? [
      { variant: "blocked" },
      ...SOFTWARE_TILES.map((tiles) => ({ variant: "blocked" as const, tiles })),
    ]
    : [...GPU_TILES.map((tiles) => ({ variant: "tiled" as const, tiles })), { variant: "blocked" }];
  return [...own, ...families.flatMap((f) => f(engine, dir, g))];
}
