// Winograd F(m×m,3×3) tile transforms (Lavin & Gray 2016), m = 2 or 4, α = m + 2: α×α input
// tiles V = Bᵀ d B, m×m output-gradient tiles expanded to α×α by A g Aᵀ (backward-weight),
// and α×α GEMM results folded into m×m outputs Y = Aᵀ M A (+ bias).
// Legend: tile t = ((n − n0)·TH + ty)·TW + tx covers output rows m·ty … m·ty + m − 1 (cols
// likewise) and reads input rows m·ty − pad + 0 … α − 1; T tiles in this chunk of the batch;
// planes of C channels, H×W in; tiles written at ξ·sXi + c·sC + t·sT for c < Cn, t < Tn (zero
// beyond C and T: the padding of the GEMM operands). Each invocation handles four tiles along
// the contiguous axis (vec4 loads and stores). All kernels WRITE their outputs.
//
// TEMPLATE: engine/ops/conv2d/winograd_codegen.ts writes the "@generated" lines out for one m
// from the matrices in winograd_matrices.ts, straight-line (Mesa keeps loop-indexed local
// arrays in memory).

override WG: u32 = 64u;
// @generated constants: MT (output tile m), ALPHA (input tile α), NX = α²

struct Tiles {
  C: u32, H: u32, W: u32, pad: i32,
  TH: u32, TW: u32, T: u32, Cn: u32,
  Tn: u32, sXi: u32, sC: u32, sT: u32,
  n0: u32, // first image of this chunk of the batch
}

struct Fold {
  K: u32, P: u32, Q: u32, TH: u32,
  TW: u32, T: u32, sXi: u32, sK: u32,
  hasBias: u32, n0: u32,
}

@group(0) @binding(0) var<storage, read> src: array<f32>;            // [N, C, H, W] planes
@group(0) @binding(1) var<storage, read_write> dst: array<vec4<f32>>; // [NX, …] transformed tiles
@group(0) @binding(2) var<uniform> tp: Tiles;
@group(0) @binding(3) var<storage, read> mres: array<vec4<f32>>;      // GEMM result [NX][K][sK]
@group(0) @binding(4) var<storage, read> bias: array<f32>;            // [K] when hasBias = 1
@group(0) @binding(5) var<storage, read_write> y: array<f32>;         // [N, K, P, Q]
@group(0) @binding(6) var<uniform> fp: Fold;
@group(0) @binding(7) var<storage, read_write> y4: array<vec4<f32>>;   // y, for outputTiles4

fn index(wid: vec3u, nwg: vec3u, lid: u32) -> u32 {
  return (wid.y * nwg.x + wid.x) * WG + lid;
}

fn at(plane: u32, r: i32, c: i32) -> f32 {
  // `&`, not `&&`: Tint makes && into branches, and SwiftShader (Chromium) never
  // finishes compiling them in unrolled code (the operands have no side effects).
  let ok = (r >= 0) & (r < i32(tp.H)) & (c >= 0) & (c < i32(tp.W));
  return select(0.0, src[select(0u, plane + u32(r) * tp.W + u32(c), ok)], ok);
}

// Channel, tile and stride of tile q of invocation i: four tiles along t when sT = 1, else c.
fn slot(i: u32) -> vec4<u32> {
  if (tp.sT == 1u) { return vec4((i / (tp.Tn / 4u)), (i % (tp.Tn / 4u)) * 4u, 0u, 1u); }
  return vec4((i % (tp.Cn / 4u)) * 4u, i / (tp.Cn / 4u), 1u, 0u);
}

// Plane offset and first row/col (before padding) of tile t of channel c; w = 0 when outside.
fn origin(c: u32, t: u32) -> vec4<i32> {
  let tx = t % tp.TW;
  let ty = (t / tp.TW) % tp.TH;
  let n = tp.n0 + t / (tp.TW * tp.TH);
  let plane = (n * tp.C + c) * tp.H * tp.W;
  let ok = (c < tp.C) & (t < tp.T);
  return vec4(i32(plane), i32(MT * ty) - tp.pad, i32(MT * tx) - tp.pad, select(0, 1, ok));
}

// V[ξ] = (Bᵀ d B)[ξ] of input tiles (forward, backward-input, backward-weight).
@compute @workgroup_size(WG)
fn inputTiles(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = index(wid, nwg, lid);
  if (i * 4u >= tp.Cn * tp.Tn) { return; }
  let sl = slot(i);
  let o = (sl.x * tp.sC + sl.y * tp.sT) / 4u;
  let s = tp.sXi / 4u;
  // @generated input: per tile q, loads d_q_a_b, V = Bᵀ d B as v_q_i_j, then dst[o + ξ·s] = vec4 over q
}

// G[ξ] = (A g Aᵀ)[ξ] of m×m output-gradient tiles (backward-weight); here src is gy
// [N, K, P, Q] with C = K, H = P, W = Q and pad = 0.
@compute @workgroup_size(WG)
fn gradTiles(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = index(wid, nwg, lid);
  if (i * 4u >= tp.Cn * tp.Tn) { return; }
  let sl = slot(i);
  let o = (sl.x * tp.sC + sl.y * tp.sT) / 4u;
  let s = tp.sXi / 4u;
  // @generated grad: per tile q, loads g_q_a_b, A g Aᵀ as v_q_i_j, then dst[o + ξ·s] = vec4 over q
}

// Writes output value v at row p0 + a, col q0 + b of plane o, when inside.
fn put(o: u32, p0: u32, q0: u32, a: u32, b: u32, v: f32) {
  if (p0 + a < fp.P && q0 + b < fp.Q) { y[o + (p0 + a) * fp.Q + q0 + b] = v; }
}

// What output invocation i folds: output channel k, tiles t..t+3, their M at vec4 o + ξ·sXi/4
// (M read as vec4 over t at ξ·sXi + k·sK + t, sK a multiple of 4), and the channel's bias.
struct FoldSlot { k: u32, t: u32, o: u32, bk: f32 }

fn foldSlot(i: u32) -> FoldSlot {
  let t4 = fp.sK / 4u;
  let t = (i % t4) * 4u;
  let k = i / t4;
  var bk = 0.0;
  if (fp.hasBias == 1u) { bk = bias[k]; }
  return FoldSlot(k, t, (k * fp.sK + t) / 4u, bk);
}

// y = Aᵀ M A (+ bias) for output channel k of tiles t..t+3.
@compute @workgroup_size(WG)
fn outputTiles(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = index(wid, nwg, lid);
  if (i >= fp.K * (fp.sK / 4u)) { return; }
  let f = foldSlot(i);
  let k = f.k;
  let t = f.t;
  let o = f.o;
  let bk = f.bk;
  let s = fp.sXi / 4u;
  // @generated output: mv_ξ = mres[o + ξ·s]; per tile q < T: Y = Aᵀ M A, put(…)
}

// outputTiles with vec4 stores, when P and Q are multiples of 4: each output row of a tile (m = 4)
// or of two neighbouring tiles (m = 2, tiles t, t+1 share a row as TW is even) is one aligned
// vec4 (lavapipe stores a vec4 ~3× faster than four scalars from four invocations).
@compute @workgroup_size(WG)
fn outputTiles4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = index(wid, nwg, lid);
  if (i >= fp.K * (fp.sK / 4u)) { return; }
  let f = foldSlot(i);
  let k = f.k;
  let t = f.t;
  let o = f.o;
  let bk = f.bk;
  let s = fp.sXi / 4u;
  let q4 = fp.Q / 4u;
  // @generated output4: mv_ξ = mres[o + ξ·s]; per tile (m = 4) or pair of tiles (m = 2): Y = Aᵀ M A, rows to y4
}
