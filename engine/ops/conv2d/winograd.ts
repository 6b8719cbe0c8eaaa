// Winograd F(m×m,3×3) convolution (m = 2 or 4) of 3×3 stride-1 layers: filter transform,
// forward, backward-input (the same pipeline over the flipped, transposed filters) and
// backward-weight (both tile transforms, a GEMM reduced over tiles, the inverse filter transform).
import type { Engine } from "../../engine.ts";
import type { Tensor } from "../../tensor.ts";
import { grid } from "../../grid.ts";
import { up } from "./choice.ts";
import type { ConvGeometry } from "./geometry.ts";
import {
  winogradFilterSource,
  winogradGemmSource,
  winogradTilesSource,
} from "./winograd_codegen.ts";
import utilCode from "../../../kernels/conv2d/util.wgsl" with { type: "text" };
import tiledCode from "../../../kernels/conv2d/winograd_gemm_tiled.wgsl" with { type: "text" };

const UTIL = { name: "conv2d/util.wgsl", code: utilCode };
const TILED = { name: "conv2d/winograd_gemm_tiled.wgsl", code: tiledCode };

/**
 * Workgroup tiles of the GEMM's GPU form (winograd_gemm_tiled.wgsl overrides BM, BN, BK, TM,
 * TN), or null for the register-blocked form. A Winograd config with tiles asks for the GPU form.
 */
export type GemmTiles = Record<string, number> | null;
/**
 * GEMM rows per lane: 32 (32×16 blocks measured 1.3× the 16×16 block on lavapipe, compile ≈ 4 s
 * once; 32×32 was no faster). The filters' GEMM layouts are padded to it.
 */
const TM = 32;

/**
 * The stride, in floats, of one transformed position's plane of n floats: n rounded up to a vec4
 * and 68 more. The tile and filter transforms touch all NX planes from each invocation, and with
 * planes a power-of-two multiple of 4 KiB apart (64 channels × 2,048 tiles) those NX streams
 * alias in the CPU's caches: on lavapipe the input transform of 64→64 32² at batch 32 took
 * 21 ms with planes exactly n apart and 15–17 ms with any skew of 4–260 floats, the output
 * transform 16.5 and 14 ms. The skew costs NX·68 floats and nothing on GPUs.
 */
export function planeStride(n: number): number {
  return up(n, 4) + 68;
}

/** A GEMM block: TM rows × 4·RN4 columns per lane, WX × WY lanes per workgroup. */
export interface GemmBlock {
  TM: number;
  RN4: number;
  WX: number;
  WY: number;
}

/**
 * The block for a B of N4 vec4 columns (tiles / 4 forward and backward-input, channels / 4
 * backward-weight). Wide B: 8 lanes along the columns, 4 vec4 columns each. Narrower B (small
 * planes at small batches: 512→512 4² at batch 8 has 8 tiles of 4×4) would leave lanes idle or
 * computing clamped duplicate columns, so fewer columns per lane and then lanes along the rows.
 * Measured on lavapipe (one run of each block on GEMMs of 2–128 vec4 columns): the wide block
 * wins from 32 columns (17–20 GFLOP/s), none of the narrow ones reaches it (B too short to reuse
 * A's loads), and below 8 columns all of them are within 10% of each other (4.5–4.7 GFLOP/s).
 */
export function gemmBlock(N4: number): GemmBlock {
  if (N4 >= 32) return { TM, RN4: 4, WX: 8, WY: 1 };
  if (N4 >= 16) return { TM, RN4: 2, WX: 8, WY: 1 };
  if (N4 >= 8) return { TM: 16, RN4: 2, WX: 4, WY: 2 }; // 10.5 GFLOP/s vs 8.1 for 32 rows × 1, 8×1
  const WX = N4 >= 4 ? 4 : N4 >= 2 ? 2 : 1;
  return { TM, RN4: 1, WX, WY: 8 / WX };
}

/** Workgroups of `gemm` for a B of N4 vec4 columns, Mp rows, NX·S positions and splits. */
function gemmGrid(b: GemmBlock, N4: number, Mp: number, NXS: number): [number, number, number] {
  return [Math.ceil(N4 / (b.WX * b.RN4)), Math.ceil(Mp / b.TM / b.WY), NXS];
}

/** Output tile size: 2 for F(2×2,3×3) (16 GEMMs), 4 for F(4×4,3×3) (36 GEMMs). */
export type WinogradTile = 2 | 4;

/**
 * Transformed filters: forward GEMM operand uf [NX][C][Kp], backward-input ub [NX][K][Cp]; each
 * null where it was not asked for.
 */
export interface WinogradFilters {
  m: WinogradTile;
  uf: Tensor | null;
  ub: Tensor | null;
}

/** Which transformed layouts {@linkcode winogradFilters} writes. */
export type WinogradLayouts = "forward" | "backward" | "both";

/**
 * Records the filter transform U = G w Gᵀ of w [K, C, 3, 3] in the GEMM layouts asked for (the
 * backward-input one of the flipped filters), one dispatch per layout. conv2d computes both once
 * per forward when the backward-input is Winograd too, and hands `ub` to the same step's
 * backward. Each layout is 4·NX/9 times the weights' size (F(4×4): 16 B a weight), and on
 * lavapipe writing it is most of the transform's time, so a direction alone writes only its own.
 */
export function winogradFilters(
  w: Tensor,
  m: WinogradTile = 2,
  layouts: WinogradLayouts = "both",
): WinogradFilters {
  const e = w.engine;
  const [K, C] = w.shape;
  const NX = (m + 2) ** 2, Kp = up(K, TM), Cp = up(C, TM);
  const sf = planeStride(C * Kp), sb = planeStride(K * Cp);
  const wantF = layouts !== "backward", wantB = layouts !== "forward";
  const uf = wantF ? e.tensor([NX * sf]) : null;
  const ub = wantB ? e.tensor([NX * sb]) : null;
  const fq = { K, C, Kp, Cp, sf, sb };
  const src = winogradFilterSource(m);
  // Four filters an invocation, along the layout's contiguous axis (k in uf, c in ub).
  if (uf) e.run(src, "filterForward", { w, uf, fq }, grid((C * Kp) / 4, 64));
  if (ub) e.run(src, "filterBackward", { w, ub, fq }, grid((K * Cp) / 4, 64));
  return { m, uf, ub };
}

/**
 * Out[s][ξ][m][·] = Σ_l a[ξ][l][m]·b[ξ][l][·] over l-chunk s: S·NX planes of M·4·N4 floats,
 * `planeStride` apart, as a and b are.
 */
function gemm(
  e: Engine,
  io: { a: Tensor; b: Tensor; NX: number },
  L: number,
  Mp: number,
  N4: number,
  M: number,
  S = 1,
  tiles: GemmTiles = null,
) {
  const sO = planeStride(M * 4 * N4);
  const out = e.tensor([S * io.NX * sO]);
  const strides = { sA: planeStride(L * Mp) / 4, sB: planeStride(L * 4 * N4) / 4, sO: sO / 4 };
  const gm = { L, Mp4: Mp / 4, N4, M, chunk: Math.ceil(L / S), NX: io.NX, ...strides };
  if (tiles) {
    const t = tiledShape(tiles);
    const wg = [Math.ceil((4 * N4) / t.BN), Math.ceil(Mp / t.BM), io.NX * S];
    e.run(TILED, "winogradGemmTiled", { a: io.a, b: io.b, out, gm }, wg, t);
    return out;
  }
  const b = gemmBlock(N4);
  const src = winogradGemmSource(b.TM, b.RN4);
  const wg = gemmGrid(b, N4, Mp, io.NX * S);
  e.run(src, "winogradGemm", { a: io.a, b: io.b, out, gm }, wg, { WX: b.WX, WY: b.WY });
  return out;
}

/** The GPU form's overrides: the tiles given over the 64×64, K-step 16, 4×4 default, and WGT. */
function tiledShape(tiles: Record<string, number>): Record<string, number> {
  const { BM, BN, BK, TM: RM, TN } = { BM: 64, BN: 64, BK: 16, TM: 4, TN: 4, ...tiles };
  const WGT = (BM / RM) * (BN / TN);
  const fits = BK * BM <= 2048 && BK * BN <= 2048 && RM <= 8 && TN <= 8 && WGT <= 256;
  if (!fits || BM % RM || BN % TN) {
    throw new RangeError(
      `winograd GEMM tiles ${JSON.stringify(tiles)}: outside the kernel's bounds ` +
        "(BK·BM and BK·BN ≤ 2048, TM and TN ≤ 8 dividing BM and BN, (BM/TM)·(BN/TN) ≤ 256)",
    );
  }
  return { BM, BN, BK, TM: RM, TN, WGT };
}

/** Images per chunk so that no transformed tensor exceeds the binding limit. */
function chunkImages(e: Engine, N: number, perImage: number): number {
  // Less 4,096 floats for the planes' skew (NX·68 ≤ 2,448; see planeStride).
  const limit = Math.min(e.gpu.limits.maxStorageBufferBindingSize, 1 << 30) / 4 - 4096;
  return Math.max(1, Math.min(N, Math.floor(limit / perImage) - 1));
}

/**
 * y [N, Ko, Po, Qo] = 3×3 conv of x [N, Ci, Hi, Wi] (padding pad) with transformed filters A
 * [NX][Ci][Mp] (+ bias): per chunk of images, input tiles, NX GEMMs, output tiles.
 */
function convTiles(
  x: Tensor,
  A: Tensor,
  bias: Tensor | null,
  d: { m: WinogradTile; N: number; Ci: number; Hi: number; Wi: number; Ko: number; pad: number },
  gemmTiles: GemmTiles,
): Tensor {
  const e = x.engine;
  const { m, N, Ci, Hi, Wi, Ko, pad } = d;
  const NX = (m + 2) ** 2, Mp = up(Ko, TM);
  const Po = Hi + 2 * pad - 2, Qo = Wi + 2 * pad - 2;
  const TH = Math.ceil(Po / m), TW = Math.ceil(Qo / m);
  const y = e.tensor([N, Ko, Po, Qo]);
  const tiles = winogradTilesSource(m);
  const per = chunkImages(e, N, NX * Math.max(Ci, Ko) * (TH * TW + 4));
  for (let n0 = 0; n0 < N; n0 += per) {
    const T = Math.min(per, N - n0) * TH * TW, Tp = up(T, 4);
    const V = e.tensor([NX * planeStride(Ci * Tp)]);
    const tp = {
      ...{ C: Ci, H: Hi, W: Wi, pad, TH, TW, T, Cn: Ci, Tn: Tp },
      ...{ sXi: planeStride(Ci * Tp), sC: Tp, sT: 1, n0 },
    };
    e.run(tiles, "inputTiles", { src: x, dst: V, tp }, grid((Ci * Tp) / 4, 64));
    const mres = gemm(e, { a: A, b: V, NX }, Ci, Mp, Tp / 4, Ko, 1, gemmTiles);
    V.dispose();
    const sXi = planeStride(Ko * Tp);
    const fp = { K: Ko, P: Po, Q: Qo, TH, TW, T, sXi, sK: Tp, hasBias: bias ? 1 : 0, n0 };
    // Whole vec4 rows when the planes are tiled exactly in rows of 4 (every recipe shape).
    const rows = Po % 4 === 0 && Qo % 4 === 0;
    const out: Record<string, Tensor> = rows ? { y4: y } : { y };
    const entry = rows ? "outputTiles4" : "outputTiles";
    e.run(tiles, entry, { mres, bias: bias ?? mres, ...out, fp }, grid((Ko * Tp) / 4, 64));
    mres.dispose();
  }
  return y;
}

/**
 * Records y = conv(x, w) (+ bias) by Winograd; `filters` from {@linkcode winogradFilters};
 * `tiles` picks the GEMM's GPU form.
 */
export function winogradForward(
  x: Tensor,
  filters: WinogradFilters,
  bias: Tensor | null,
  g: ConvGeometry,
  tiles: GemmTiles = null,
): Tensor {
  if (!filters.uf) throw new Error("winogradForward: the filters have no forward layout (uf)");
  const d = { m: filters.m, N: g.N, Ci: g.C, Hi: g.H, Wi: g.W, Ko: g.K, pad: g.pad };
  return convTiles(x, filters.uf, bias, d, tiles);
}

/** Records gx [N, C, H, W]: gy convolved with the flipped, transposed filters (padding 2 − pad). */
export function winogradBackwardInput(
  gy: Tensor,
  filters: WinogradFilters,
  g: ConvGeometry,
  tiles: GemmTiles = null,
): Tensor {
  if (!filters.ub) {
    throw new Error("winogradBackwardInput: the filters have no backward-input layout (ub)");
  }
  const d = { m: filters.m, N: g.N, Ci: g.K, Hi: g.P, Wi: g.Q, Ko: g.C, pad: 2 - g.pad };
  return convTiles(gy, filters.ub, null, d, tiles);
}

/**
 * Records gw [K, C, 3, 3] = Gᵀ (Σ_tiles (A gy Aᵀ) ⊙ (Bᵀ x B)) G: per chunk of images, both
 * tile transforms, NX GEMMs reduced over tiles (split-K partials), summed over chunks, then
 * the inverse filter transform.
 */
export function winogradBackwardWeight(
  x: Tensor,
  gy: Tensor,
  g: ConvGeometry,
  m: WinogradTile = 2,
  gemmTiles: GemmTiles = null,
): Tensor {
  const e = x.engine;
  const { N, C, K, P, Q } = g;
  const NX = (m + 2) ** 2;
  const TH = Math.ceil(P / m), TW = Math.ceil(Q / m);
  const Cp = up(C, 4), Kp = up(K, TM);
  const tiles = winogradTilesSource(m);
  const per = chunkImages(e, N, NX * Math.max(Cp, Kp) * TH * TW);
  let du: Tensor | null = null;
  for (let n0 = 0; n0 < N; n0 += per) {
    const T = Math.min(per, N - n0) * TH * TW;
    const V = e.tensor([NX * planeStride(T * Cp)]);
    const tv = {
      ...{ C, H: g.H, W: g.W, pad: g.pad, TH, TW, T, Cn: Cp, Tn: T },
      ...{ sXi: planeStride(T * Cp), sC: 1, sT: Cp, n0 },
    };
    e.run(tiles, "inputTiles", { src: x, dst: V, tp: tv }, grid((Cp * T) / 4, 64));
    const G = e.tensor([NX * planeStride(T * Kp)]);
    const tg = {
      ...{ C: K, H: P, W: Q, pad: 0, TH, TW, T, Cn: Kp, Tn: T },
      ...{ sXi: planeStride(T * Kp), sC: 1, sT: Kp, n0 },
    };
    e.run(tiles, "gradTiles", { src: gy, dst: G, tp: tg }, grid((Kp * T) / 4, 64));
    // Split the reduction over tiles until there are enough invocations to fill the adapter.
    let base: number; // invocations of the unsplit GEMM
    if (gemmTiles) {
      const t = tiledShape(gemmTiles);
      base = (NX * Cp * Kp) / (t.TM * t.TN); // one TM × TN block an invocation
    } else {
      const wgs = gemmGrid(gemmBlock(Cp / 4), Cp / 4, Kp, NX);
      base = wgs[0] * wgs[1] * wgs[2] * 8;
    }
    const target = e.gpu.software ? 1024 : 65536;
    const S = Math.max(1, Math.min(Math.ceil(T / 64), Math.ceil(target / base), 64));
    const part = gemm(e, { a: G, b: V, NX }, T, Kp, Cp / 4, K, S, gemmTiles);
    V.dispose();
    G.dispose();
    let sum = part;
    if (S > 1) {
      sum = e.tensor([NX * planeStride(K * Cp)]);
      const rp = { n: sum.size, T: S };
      e.run(UTIL, "reducePartials", { part, total: sum, rp }, grid(sum.size, 256));
      part.dispose();
    }
    if (du) {
      e.accumulate(du, sum);
      sum.dispose();
    } else du = sum;
  }
  const gw = e.tensor([K, C, 3, 3]);
  const fq = { K, C, Kp, Cp, sf: planeStride(K * Cp), sb: 0 };
  e.run(winogradFilterSource(m), "filterGrad", { du: du!, gw, fq }, grid((K * Cp) / 4, 64));
  du!.dispose();
  return gw;
}
