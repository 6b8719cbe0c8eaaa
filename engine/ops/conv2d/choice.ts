// Conv2d variant choice per (adapter, direction, shape) and the tile defaults of each variant.
import type { Engine } from "../../engine.ts";
import type { ConvGeometry } from "./geometry.ts";

/** Kernel families: register-blocked without workgroup memory, or workgroup-memory tiles. */
export type Conv2dVariant = "blocked" | "tiled";
/** The three GEMMs of a convolution. */
export type Conv2dDirection = "forward" | "backwardInput" | "backwardWeight";
/** A variant and optional tile overrides (WGSL override constants). */
export interface Conv2dConfig {
  variant: Conv2dVariant;
  tiles?: Record<string, number>;
}

/** Choices measured by tuneConv2d, keyed by conv2dKey; the ops read it, never await. */
export const conv2dChoices: Map<string, Conv2dConfig> = new Map();

/** Key of the choice map: adapter, direction and shape. */
export function conv2dKey(engine: Engine, dir: Conv2dDirection, g: ConvGeometry): string {
  const { N, C, H, W, K, R, S, stride, pad } = g;
  return `${engine.gpu.name}|${dir}|${N},${C},${H},${W},${K},${R},${S},${stride},${pad}`;
}

let forced: Conv2dVariant | null = null;

/** Forces every conv2d dispatch to one variant (tests, benchmarks); null restores the choice. */
export function forceConv2dVariant(variant: Conv2dVariant | null): void {
  forced = variant;
}

/** The config to run: forced, asked, tuned, else blocked on software adapters and tiled on GPUs. */
export function chooseConfig(
  engine: Engine,
  dir: Conv2dDirection,
  g: ConvGeometry,
  asked?: Conv2dConfig | Conv2dVariant,
): Conv2dConfig {
  if (forced) return { variant: forced };
  if (asked) return typeof asked === "string" ? { variant: asked } : asked;
  return conv2dChoices.get(conv2dKey(engine, dir, g)) ??
    { variant: engine.gpu.software ? "blocked" : "tiled" };
}

/** Rounds a up to a multiple of b. */
export const up = (a: number, b: number): number => Math.ceil(a / b) * b;

/** The taps and output grid of one gather GEMM, as far as tile defaults need them. */
export interface GatherShape {
  M: number;
  NU: number;
  NV: number;
  GR: number;
  GC: number;
}

/**
 * Default tiles of the blocked gather. Speed on lavapipe follows FMAs per loaded value
 * (TM·TP·TQ·taps / (TM·taps + patch)); compile time grows steeply with live accumulators
 * (TM·TP·TQ: 128 ≈ 1 s, 256 ≈ 20 s, 512 ≈ 150 s, once: Mesa caches compiled shaders on disk).
 */
export function blockedTiles(
  q: GatherShape,
  asked: Record<string, number> = {},
): Record<string, number> {
  const taps = q.NU * q.NV;
  const small = q.GR <= 8 && q.GC <= 8 && q.GR * q.GC > 16; // one 8×8 tile per image
  const [tm, tp, tq] = taps === 1
    ? [16, 4, 4]
    : taps > 16
    ? [4, 2, 4]
    : small
    ? [4, 8, 8]
    : [8, 4, 8];
  return {
    TM: Math.min(asked.TM ?? tm, up(q.M, 4)),
    TP: Math.min(asked.TP ?? tp, q.GR),
    TQ: Math.min(asked.TQ ?? tq, q.GC),
  };
}

/** Default tiles of the blocked backward-weight kernel (accumulators TK·TC·R·S ≤ 256). */
export function blockedWeightTiles(
  g: ConvGeometry,
  asked: Record<string, number> = {},
): Record<string, number> {
  const taps = g.R * g.S;
  const [tk, tc, tp, tq] = taps === 1
    ? [16, 16, 1, 1] // a plain GEMM per position: 256 FMAs per 32 loads
    : taps > 9
    ? [4, 1, 2, 4]
    : g.stride === 1
    ? [4, 4, 4, 8] // 3×3: 4608 FMAs per 128 + 4·60 loads
    : [8, 2, 4, 4]; // stride 2 reuses less input: favour more output channels
  return {
    TK: Math.min(asked.TK ?? tk, up(g.K, 4)),
    TC: Math.min(asked.TC ?? tc, g.C),
    TP: Math.min(asked.TP ?? tp, g.P),
    TQ: Math.min(asked.TQ ?? tq, g.Q),
  };
}

/** Tiles of the workgroup-memory kernels; WGT = invocations per workgroup. */
export function tiledTiles(asked: Record<string, number> = {}): Record<string, number> {
  const t: Record<string, number> = { BM: 64, BN: 64, BK: 16, TM: 4, TN: 4, PF: 0 };
  for (const k of Object.keys(t)) t[k] = asked[k] ?? t[k];
  return { ...t, WGT: (t.BM / t.TM) * (t.BN / t.TN) };
}
