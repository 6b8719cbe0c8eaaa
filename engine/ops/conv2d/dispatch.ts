// Conv2d dispatches: weight re-layout, the gather GEMMs (forward, backward-input by stride
// class), split-K backward-weight and the bias gradient, for both kernel variants.
import type { Engine } from "../../engine.ts";
import type { Tensor } from "../../tensor.ts";
import type { ConvGeometry } from "./geometry.ts";
import { grid } from "../../grid.ts";
import { blockedTiles, blockedWeightTiles, type Conv2dConfig, tiledTiles, up } from "./choice.ts";
import { gatherSource, weightSource } from "./codegen.ts";
import {
  winogradBackwardInput,
  winogradBackwardWeight,
  winogradFilters,
  winogradForward,
  type WinogradTile,
} from "./winograd.ts";

/** The Winograd tile size of a variant, or 0 for the direct kernels. */
function tileOf(cfg: Conv2dConfig): WinogradTile | 0 {
  return cfg.variant === "winograd" ? 2 : cfg.variant === "winograd4" ? 4 : 0;
}

/** The backward-input filter transform a Winograd forward leaves for the same step. */
export interface SavedFilters {
  ub?: Tensor;
  m?: WinogradTile;
}
import utilCode from "../../../kernels/conv2d/util.wgsl" with { type: "text" };
import tiledCode from "../../../kernels/conv2d/tiled_gather.wgsl" with { type: "text" };
import tiledWeightCode from "../../../kernels/conv2d/tiled_weight.wgsl" with { type: "text" };

const UTIL = { name: "conv2d/util.wgsl", code: utilCode };
const TILED = { name: "conv2d/tiled_gather.wgsl", code: tiledCode };
const TILED_WEIGHT = { name: "conv2d/tiled_weight.wgsl", code: tiledWeightCode };

/**
 * Geometry of one gather GEMM (forward, or one stride class of backward-input): output grid
 * position (i, j) is pixel (OR0 + OS·i, OC0 + OS·j) of the [N, M, OH, OW] output and reads input
 * pixels (RB + SI·i + u, CB + SI·j + v) of the [N, Cin, IH, IW] input for taps u < NU, v < NV.
 */
interface Gather {
  N: number;
  Cin: number;
  IH: number;
  IW: number;
  M: number;
  OH: number;
  OW: number;
  GR: number;
  GC: number;
  OR0: number;
  OC0: number;
  OS: number;
  RB: number;
  CB: number;
  NU: number;
  NV: number;
  SI: number;
  /** First kernel row/col of the class (backward-input): tap u is r0 + stride·(NU − 1 − u). */
  r0: number;
  s0: number;
  backward: boolean;
}

function forwardGather(g: ConvGeometry): Gather {
  return {
    N: g.N,
    Cin: g.C,
    IH: g.H,
    IW: g.W,
    M: g.K,
    OH: g.P,
    OW: g.Q,
    GR: g.P,
    GC: g.Q,
    OR0: 0,
    OC0: 0,
    OS: 1,
    RB: -g.pad,
    CB: -g.pad,
    NU: g.R,
    NV: g.S,
    SI: g.stride,
    r0: 0,
    s0: 0,
    backward: false,
  };
}

/** The stride classes of backward-input: outputs (ph + st·i, pw + st·j) and their taps. */
function backwardGathers(g: ConvGeometry): Gather[] {
  const st = g.stride;
  const out: Gather[] = [];
  for (let ph = 0; ph < Math.min(st, g.H); ph++) {
    for (let pw = 0; pw < Math.min(st, g.W); pw++) {
      const r0 = (ph + g.pad) % st, s0 = (pw + g.pad) % st;
      const NU = Math.max(0, Math.ceil((g.R - r0) / st));
      const NV = Math.max(0, Math.ceil((g.S - s0) / st));
      out.push({
        N: g.N,
        Cin: g.K,
        IH: g.P,
        IW: g.Q,
        M: g.C,
        OH: g.H,
        OW: g.W,
        GR: Math.ceil((g.H - ph) / st),
        GC: Math.ceil((g.W - pw) / st),
        OR0: ph,
        OC0: pw,
        OS: st,
        RB: (ph + g.pad - r0) / st - (NU - 1),
        CB: (pw + g.pad - s0) / st - (NV - 1),
        NU,
        NV,
        SI: 1,
        r0,
        s0,
        backward: true,
      });
    }
  }
  return out;
}

/** Weights re-laid out as [C', NU, NV, Mp] for one gather (flipped/transposed for dx). */
function prepWeights(e: Engine, w: Tensor, g: ConvGeometry, q: Gather, Mp: number): Tensor {
  const wt = e.tensor([q.Cin * q.NU * q.NV * Mp]);
  const p = {
    K: g.K,
    C: g.C,
    R: g.R,
    S: g.S,
    NU: q.NU,
    NV: q.NV,
    Mp,
    n: wt.size,
    r0: q.r0,
    s0: q.s0,
    st: g.stride,
    backward: q.backward ? 1 : 0,
  };
  e.run(UTIL, "prepWeights", { w, wt, pp: p }, grid(wt.size / (4 * q.NU * q.NV), 256));
  return wt;
}

function runGather(
  e: Engine,
  cfg: Conv2dConfig,
  g: ConvGeometry,
  q: Gather,
  io: { x: Tensor; w: Tensor; bias: Tensor | null; y: Tensor },
): void {
  const tiled = cfg.variant === "tiled";
  const t = tiled ? tiledTiles(cfg.tiles) : blockedTiles(q, cfg.tiles);
  const Mp = up(q.M, tiled ? 4 : t.TM);
  const wt = prepWeights(e, io.w, g, q, Mp);
  const TP = tiled ? 1 : t.TP, TQ = tiled ? 1 : t.TQ;
  const tilesR = Math.ceil(q.GR / TP), tilesC = Math.ceil(q.GC / TQ);
  const geo = {
    N: q.N,
    Cin: q.Cin,
    IH: q.IH,
    IW: q.IW,
    M: q.M,
    Mp,
    OH: q.OH,
    OW: q.OW,
    GR: q.GR,
    GC: q.GC,
    OR0: q.OR0,
    OC0: q.OC0,
    OS: q.OS,
    RB: q.RB,
    CB: q.CB,
    hasBias: io.bias ? 1 : 0,
    tilesR,
    tilesC,
  };
  const b = { x: io.x, wt, bias: io.bias ?? wt, y: io.y, g: geo };
  if (tiled) {
    const cols = q.N * q.GR * q.GC;
    const o = { ...t, NU: q.NU, NV: q.NV, SI: q.SI };
    e.run(TILED, "gatherTiled", b, [Math.ceil(cols / t.BN), Math.ceil(q.M / t.BM)], o);
  } else {
    const n = q.N * tilesR * tilesC * (Mp / t.TM);
    // One tile per image: the patch rows/cols that only ever see padding are known here.
    const PH = (TP - 1) * q.SI + q.NU, PW = (TQ - 1) * q.SI + q.NV;
    const window = tilesR === 1 && tilesC === 1
      ? [
        Math.max(0, -q.RB),
        Math.min(PH, q.IH - q.RB),
        Math.max(0, -q.CB),
        Math.min(PW, q.IW - q.CB),
      ]
      : undefined;
    const src = gatherSource({ TM: t.TM, TP, TQ, NU: q.NU, NV: q.NV, SI: q.SI, window });
    e.run(src, "gatherBlocked", b, grid(n, 64));
  }
  wt.dispose();
}

/**
 * Records y = conv(x, w) (+ bias) into a new tensor [N, K, P, Q]. With Winograd and `saved`,
 * the backward-input filter transform is left in `saved` for the same step's backward.
 */
export function runForward(
  x: Tensor,
  w: Tensor,
  bias: Tensor | null,
  g: ConvGeometry,
  cfg: Conv2dConfig,
  saved?: SavedFilters,
): Tensor {
  const e = x.engine;
  const m = tileOf(cfg);
  if (m) {
    const f = winogradFilters(w, m, saved ? "both" : "forward");
    const y = winogradForward(x, f, bias, g, cfg.tiles ?? null);
    f.uf!.dispose();
    if (saved) Object.assign(saved, { ub: f.ub!, m });
    return y;
  }
  const y = e.tensor([g.N, g.K, g.P, g.Q]);
  runGather(e, cfg, g, forwardGather(g), { x, w, bias, y });
  return y;
}

/**
 * Records gx = dL/dx [N, C, H, W] from gy [N, K, P, Q]: one gather per stride class, or
 * Winograd (over the forward's `saved` transform when it has this tile size, else a fresh one).
 */
export function runBackwardInput(
  gy: Tensor,
  w: Tensor,
  g: ConvGeometry,
  cfg: Conv2dConfig,
  saved?: SavedFilters,
): Tensor {
  const e = gy.engine;
  const m = tileOf(cfg);
  if (m) {
    const ub = saved?.m === m ? saved.ub : undefined;
    const tiles = cfg.tiles ?? null;
    if (ub && !ub.disposed) return winogradBackwardInput(gy, { m, uf: null, ub }, g, tiles);
    const f = winogradFilters(w, m, "backward");
    const gx = winogradBackwardInput(gy, f, g, tiles);
    f.ub!.dispose();
    return gx;
  }
  const gx = e.tensor([g.N, g.C, g.H, g.W]);
  const classes = backwardGathers(g);
  if (classes.some((q) => q.NU * q.NV === 0)) e.fill(gx, 0);
  for (const q of classes) {
    if (q.NU * q.NV > 0) runGather(e, cfg, g, q, { x: gy, w, bias: null, y: gx });
  }
  return gx;
}

/** Records gw = dL/dw [K, C, R, S] with split-K partials and a reduction. */
export function runBackwardWeight(
  x: Tensor,
  gy: Tensor,
  g: ConvGeometry,
  cfg: Conv2dConfig,
): Tensor {
  const m = tileOf(cfg);
  if (m) return winogradBackwardWeight(x, gy, g, m, cfg.tiles ?? null);
  const e = x.engine;
  const gw = e.tensor([g.K, g.C, g.R, g.S]);
  const tiled = cfg.variant === "tiled";
  const t = tiled ? tiledTiles(cfg.tiles) : blockedWeightTiles(g, cfg.tiles);
  const TP = tiled ? 1 : t.TP, TQ = tiled ? 1 : t.TQ;
  const tilesR = Math.ceil(g.P / TP), tilesC = Math.ceil(g.Q / TQ);
  const items = g.N * tilesR * tilesC;
  const kBlocks = Math.ceil(g.K / (tiled ? t.BM : t.TK));
  const cBlocks = tiled ? Math.ceil((g.C * g.R * g.S) / t.BN) : Math.ceil(g.C / t.TC);
  const base = kBlocks * cBlocks * (tiled ? t.WGT : 1);
  const target = e.gpu.software ? 512 : 65536;
  const maxChunks = Math.max(1, Math.floor((64 << 20) / (4 * gw.size)));
  let T = Math.min(items, maxChunks, Math.max(1, Math.ceil(target / base)));
  const chunkLen = Math.ceil(items / T);
  T = Math.ceil(items / chunkLen);
  const part = T === 1 ? gw : e.tensor([T, g.K, g.C, g.R, g.S]);
  const geo = {
    N: g.N,
    C: g.C,
    H: g.H,
    W: g.W,
    K: g.K,
    P: g.P,
    Q: g.Q,
    pad: g.pad,
    tilesR,
    tilesC,
    items,
    chunkLen,
    T,
    kBlocks,
    cBlocks,
  };
  if (tiled) {
    const { PF: _prefetch, ...own } = t; // register prefetch exists in the gather kernel only
    const o = { ...own, R: g.R, S: g.S, ST: g.stride };
    e.run(TILED_WEIGHT, "weightTiled", { x, gy, part, g: geo }, [cBlocks, kBlocks, T], o);
  } else {
    const PH = (TP - 1) * g.stride + g.R, PW = (TQ - 1) * g.stride + g.S;
    const window = tilesR === 1 && tilesC === 1
      ? [g.pad, Math.min(PH, g.H + g.pad), g.pad, Math.min(PW, g.W + g.pad)]
      : undefined;
    const src = weightSource({ TK: t.TK, TC: t.TC, TP, TQ, R: g.R, S: g.S, ST: g.stride, window });
    e.run(src, "weightBlocked", { x, gy, part, g: geo }, grid(kBlocks * cBlocks * T, 64));
  }
  if (T > 1) {
    const rp = { n: gw.size, T };
    e.run(UTIL, "reducePartials", { part, total: gw, rp }, grid(gw.size, 256));
    part.dispose();
  }
  return gw;
}

/** Records gb = Σ_{n,p,q} gy [K]. */
export function runBiasGrad(gy: Tensor): Tensor {
  const e = gy.engine;
  const [N, K, P, Q] = gy.shape;
  const T = Math.min(N, Math.max(1, Math.ceil(4096 / K)));
  const chunk = Math.ceil(N / T);
  const bpart = e.tensor([T, K]);
  const bp = { N, K, PQ: P * Q, chunk, T };
  e.run(UTIL, "biasPartials", { gy, bpart, bp }, grid(T * K, 256));
  const gb = e.tensor([K]);
  e.run(UTIL, "reducePartials", { part: bpart, total: gb, rp: { n: K, T } }, grid(K, 256));
  bpart.dispose();
  return gb;
}
