// Conv2d variant choice per (adapter, direction, shape) and the tile defaults of each variant.
import type { Engine } from "../../engine.ts";
import type { ConvGeometry } from "./geometry.ts";

/**
 * Kernel families: register-blocked without workgroup memory, workgroup-memory tiles, or
 * Winograd F(2×2,3×3) ("winograd") or F(4×4,3×3) ("winograd4"), 3×3 stride-1 layers only
 * (see winograd.ts).
 */
export type Conv2dVariant = "blocked" | "tiled" | "winograd" | "winograd4";
/** Which algorithm conv2d may pick: direct kernels only, Winograd wherever it applies, or measured. */
export type Conv2dMode = "direct" | "winograd" | "auto";
/** The three GEMMs of a convolution. */
export type Conv2dDirection = "forward" | "backwardInput" | "backwardWeight";
/** A variant and optional tile overrides (WGSL override constants). */
export interface Conv2dConfig {
  /** The kernel family. */
  variant: Conv2dVariant;
  /** Override constants of the tiled kernels (tile sides, K-step, outputs an invocation). */
  tiles?: Record<string, number>;
}

/** Key of the choice map: adapter, direction and shape. */
export function conv2dKey(engine: Engine, dir: Conv2dDirection, g: ConvGeometry): string {
  const { N, C, H, W, K, R, S, stride, pad } = g;
  return `${engine.gpu.name}|${dir}|${N},${C},${H},${W},${K},${R},${S},${stride},${pad}`;
}

/** Whether a variant is one of the Winograd ones. */
export function isWinograd(v: Conv2dVariant): boolean {
  return v === "winograd" || v === "winograd4";
}

/** Whether Winograd (either tile size) computes this convolution: 3×3, stride 1, padding ≤ 2. */
export function winogradApplies(g: ConvGeometry): boolean {
  return g.R === 3 && g.S === 3 && g.stride === 1 && g.pad <= 2;
}

/**
 * The Winograd variant used without tuning, or null for the direct kernels: on software
 * adapters, what lavapipe runs of `bench/conv_bench.ts` (batch 8 and 32, README) measured
 * fastest. What counts is the batch's number of tiles T_m = N·⌈P/m⌉·⌈Q/m⌉ against the filter
 * transform's cost, which does not shrink with the batch (F(4×4) writes 4× the weights): F(4×4)
 * wins with T₄ ≥ 128 (1.7–5× at batch 32, backward-weight from 32 tiles), F(2×2) below while
 * T₂ ≥ 32 (1.5–2.2× on the 8² and 4² planes at batch 8, except 4² backward-weight: 1.1×);
 * stems (3 input channels), backward-input with fewer than 32 output channels (16→128 32²:
 * 0.8–1.0×) and backward-weight into fewer than 32 filters stay direct. Hardware adapters keep
 * the direct kernels until measured there (`tuneConv2d`).
 */
export function winogradByDefault(
  engine: Engine,
  dir: Conv2dDirection,
  g: ConvGeometry,
): Conv2dVariant | null {
  if (!engine.gpu.software || !winogradApplies(g)) return null;
  const tiles = (m: number) => g.N * Math.ceil(g.P / m) * Math.ceil(g.Q / m);
  const pick = (t4: number, t2: number) =>
    tiles(4) >= t4 ? "winograd4" : tiles(2) >= t2 ? "winograd" : null;
  if (dir === "forward") return g.C >= 16 ? pick(128, 32) : null; // stems: noise-level either way
  if (dir === "backwardInput") return g.C >= 32 && g.K >= 16 ? pick(128, 32) : null;
  return g.C >= 16 && g.K >= 32 ? pick(32, 32) : null; // 16→128 32²: F(4×4) 1.3–1.5×
}

/**
 * The config to run: forced, asked, tuned, else the default (Winograd where it measured
 * faster, else blocked on software adapters and tiled on GPUs); the mode filters Winograd in
 * or out, and a Winograd ask on a shape it cannot compute falls back to the direct default.
 */
export function chooseConfig(
  engine: Engine,
  dir: Conv2dDirection,
  g: ConvGeometry,
  asked?: Conv2dConfig | Conv2dVariant,
): Conv2dConfig {
  const { mode, forced, choices } = engine.conv2d;
  const direct: Conv2dConfig = { variant: engine.gpu.software ? "blocked" : "tiled" };
  const wino = winogradApplies(g);
  let cfg: Conv2dConfig;
  if (forced) cfg = { variant: forced };
  else if (asked) cfg = typeof asked === "string" ? { variant: asked } : asked;
  else if (mode === "winograd" && wino) {
    const tuned = choices.get(conv2dKey(engine, dir, g));
    const fallback = winogradByDefault(engine, dir, g) ?? "winograd";
    cfg = tuned && isWinograd(tuned.variant) ? tuned : { variant: fallback };
  } else {
    const wv = winogradByDefault(engine, dir, g);
    cfg = choices.get(conv2dKey(engine, dir, g)) ?? (wv ? { variant: wv } : direct);
    if (mode === "direct" && isWinograd(cfg.variant)) cfg = direct;
  }
  return isWinograd(cfg.variant) && !wino ? direct : cfg;
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
