// Winograd F(2×2,3×3) convolution of 3×3 stride-1 layers: filter transform, forward,
// backward-input (the same pipeline over the flipped, transposed filters) and backward-weight.
import type { Engine } from "../../engine.ts";
import type { Tensor } from "../../tensor.ts";
import { grid } from "../../grid.ts";
import { up } from "./choice.ts";
import type { ConvGeometry } from "./geometry.ts";
import { winogradGemmSource } from "./winograd_codegen.ts";
import tilesCode from "../../../kernels/conv2d/winograd_tiles.wgsl" with { type: "text" };
import filterCode from "../../../kernels/conv2d/winograd_filter.wgsl" with { type: "text" };
import utilCode from "../../../kernels/conv2d/util.wgsl" with { type: "text" };

const TILES = { name: "conv2d/winograd_tiles.wgsl", code: tilesCode };
const FILTER = { name: "conv2d/winograd_filter.wgsl", code: filterCode };
const UTIL = { name: "conv2d/util.wgsl", code: utilCode };
/**
 * GEMM block: TM rows × 4·RN4 columns per invocation, WG lanes per workgroup. 32×16 measured
 * 1.3× the 16×16 block on lavapipe (compile ≈ 4 s once); 32×32 was no faster.
 */
const TM = 32, RN4 = 4, WG = 8;

/** Transformed filters: forward GEMM operand uf [16][C][Kp], backward-input ub [16][K][Cp]. */
export interface WinogradFilters {
  uf: Tensor;
  ub: Tensor;
}

/**
 * Records the filter transform U = G w Gᵀ of w [K, C, 3, 3] in both GEMM layouts, one dispatch.
 * conv2d computes it once per forward and hands `ub` to the same step's backward-input.
 */
export function winogradFilters(w: Tensor): WinogradFilters {
  const e = w.engine;
  const [K, C] = w.shape;
  const Kp = up(K, TM), Cp = up(C, TM);
  const uf = e.tensor([16 * C * Kp]), ub = e.tensor([16 * K * Cp]);
  if (Kp !== K) e.fill(uf, 0);
  if (Cp !== C) e.fill(ub, 0);
  e.run(FILTER, "filterTiles", { w, uf, ub, fq: { K, C, Kp, Cp } }, grid(K * C, 64));
  return { uf, ub };
}

/** Out[s][ξ][m][·] = Σ_l a[ξ][l][m]·b[ξ][l][·] over l-chunk s: [S·16·M·4·N4]. */
function gemm(
  e: Engine,
  a: Tensor,
  b: Tensor,
  L: number,
  Mp: number,
  N4: number,
  M: number,
  S = 1,
) {
  const out = e.tensor([S * 16 * M * 4 * N4]);
  const gm = { L, Mp4: Mp / 4, N4, M, chunk: Math.ceil(L / S) };
  const wg = [Math.ceil(N4 / (WG * RN4)), Mp / TM, 16 * S];
  e.run(winogradGemmSource(TM, RN4), "winogradGemm", { a, b, out, gm }, wg);
  return out;
}

/** Images per chunk so that no transformed tensor exceeds the binding limit. */
function chunkImages(e: Engine, N: number, tilesPerImage: number, channels: number): number {
  const limit = Math.min(e.gpu.limits.maxStorageBufferBindingSize, 1 << 30) / 4;
  return Math.max(1, Math.min(N, Math.floor(limit / (16 * channels * tilesPerImage) - 1)));
}

/**
 * y [N, Ko, Po, Qo] = 3×3 conv of x [N, Ci, Hi, Wi] (padding pad) with transformed filters A
 * [16][Ci][Mp] (+ bias): per chunk of images, input tiles, 16 GEMMs, output tiles.
 */
function convTiles(
  x: Tensor,
  A: Tensor,
  bias: Tensor | null,
  dims: { N: number; Ci: number; Hi: number; Wi: number; Ko: number; pad: number; Mp: number },
): Tensor {
  const e = x.engine;
  const { N, Ci, Hi, Wi, Ko, pad, Mp } = dims;
  const Po = Hi + 2 * pad - 2, Qo = Wi + 2 * pad - 2;
  const TH = Math.ceil(Po / 2), TW = Math.ceil(Qo / 2);
  const y = e.tensor([N, Ko, Po, Qo]);
  const per = chunkImages(e, N, TH * TW, Math.max(Ci, Ko));
  for (let n0 = 0; n0 < N; n0 += per) {
    const T = Math.min(per, N - n0) * TH * TW, Tp = up(T, 4);
    const V = e.tensor([16 * Ci * Tp]);
    const tp = {
      C: Ci,
      H: Hi,
      W: Wi,
      pad,
      TH,
      TW,
      T,
      Cn: Ci,
      Tn: Tp,
      sXi: Ci * Tp,
      sC: Tp,
      sT: 1,
      n0,
    };
    e.run(TILES, "inputTiles", { src: x, dst: V, tp }, grid((Ci * Tp) / 4, 64));
    const m = gemm(e, A, V, Ci, Mp, Tp / 4, Ko);
    V.dispose();
    const fp = { K: Ko, P: Po, Q: Qo, TH, TW, T, sXi: Ko * Tp, sK: Tp, hasBias: bias ? 1 : 0, n0 };
    e.run(TILES, "outputTiles", { mres: m, bias: bias ?? m, y, fp }, grid((Ko * Tp) / 4, 64));
    m.dispose();
  }
  return y;
}

/** Records y = conv(x, w) (+ bias) by Winograd; `filters` from {@linkcode winogradFilters}. */
export function winogradForward(
  x: Tensor,
  filters: WinogradFilters,
  bias: Tensor | null,
  g: ConvGeometry,
): Tensor {
  const dims = { N: g.N, Ci: g.C, Hi: g.H, Wi: g.W, Ko: g.K, pad: g.pad, Mp: up(g.K, TM) };
  return convTiles(x, filters.uf, bias, dims);
}

/** Records gx [N, C, H, W]: gy convolved with the flipped, transposed filters (padding 2 − pad). */
export function winogradBackwardInput(
  gy: Tensor,
  filters: WinogradFilters,
  g: ConvGeometry,
): Tensor {
  const dims = { N: g.N, Ci: g.K, Hi: g.P, Wi: g.Q, Ko: g.C, pad: 2 - g.pad, Mp: up(g.C, TM) };
  return convTiles(gy, filters.ub, null, dims);
}

/**
 * Records gw [K, C, 3, 3] = Gᵀ (Σ_tiles (A gy Aᵀ) ⊙ (Bᵀ x B)) G: per chunk of images, both
 * tile transforms, 16 GEMMs reduced over tiles (split-K partials), summed over chunks, then
 * the inverse filter transform.
 */
export function winogradBackwardWeight(x: Tensor, gy: Tensor, g: ConvGeometry): Tensor {
  const e = x.engine;
  const { N, C, K, P, Q } = g;
  const TH = Math.ceil(P / 2), TW = Math.ceil(Q / 2);
  const Cp = up(C, 4), Kp = up(K, TM);
  const per = chunkImages(e, N, TH * TW, Math.max(Cp, Kp));
  let du: Tensor | null = null;
  for (let n0 = 0; n0 < N; n0 += per) {
    const T = Math.min(per, N - n0) * TH * TW;
    const V = e.tensor([16 * T * Cp]);
    const tv = {
      C,
      H: g.H,
      W: g.W,
      pad: g.pad,
      TH,
      TW,
      T,
      Cn: Cp,
      Tn: T,
      sXi: T * Cp,
      sC: 1,
      sT: Cp,
      n0,
    };
    e.run(TILES, "inputTiles", { src: x, dst: V, tp: tv }, grid((Cp * T) / 4, 64));
    const G = e.tensor([16 * T * Kp]);
    const tg = {
      C: K,
      H: P,
      W: Q,
      pad: 0,
      TH,
      TW,
      T,
      Cn: Kp,
      Tn: T,
      sXi: T * Kp,
      sC: 1,
      sT: Kp,
      n0,
    };
    e.run(TILES, "gradTiles", { src: gy, dst: G, tp: tg }, grid((Kp * T) / 4, 64));
    // Split the reduction over tiles until there are enough invocations to fill the adapter.
    const base = Math.ceil(Cp / 4 / (WG * RN4)) * WG * (Kp / TM) * 16;
    const target = e.gpu.software ? 1024 : 65536;
    const S = Math.max(1, Math.min(Math.ceil(T / 64), Math.ceil(target / base), 64));
    const part = gemm(e, G, V, T, Kp, Cp / 4, K, S);
    V.dispose();
    G.dispose();
    let sum = part;
    if (S > 1) {
      sum = e.tensor([16 * K * Cp]);
      e.run(
        UTIL,
        "reducePartials",
        { part, total: sum, rp: { n: sum.size, T: S } },
        grid(sum.size, 256),
      );
      part.dispose();
    }
    if (du) {
      e.accumulate(du, sum);
      sum.dispose();
    } else du = sum;
  }
  const gw = e.tensor([K, C, 3, 3]);
  e.run(FILTER, "filterGrad", { du: du!, gw, fq: { K, C, Kp, Cp } }, grid(K * C, 64));
  du!.dispose();
  return gw;
}
