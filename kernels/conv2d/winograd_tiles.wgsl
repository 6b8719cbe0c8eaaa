// Winograd F(2×2,3×3) tile transforms (Lavin & Gray 2016): 4×4 input tiles V = Bᵀ d B, 2×2
// gradient tiles expanded to 4×4 by A g Aᵀ (backward-weight), and 4×4 GEMM results folded
// into 2×2 outputs Y = Aᵀ m A (+ bias).
//   Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1]   Aᵀ = [1 1 1 0; 0 1 −1 −1]
// Legend: tile t = ((n − n0)·TH + ty)·TW + tx covers output rows 2ty, 2ty+1 and cols 2tx, 2tx+1 and
// reads input rows 2ty − pad + 0..3, cols 2tx − pad + 0..3; T = N·TH·TW tiles; planes of C
// channels, H×W in; tiles written at ξ·sXi + c·sC + t·sT for c < Cn, t < Tn (zero beyond
// C and T: padding of the GEMM operands). Each invocation handles four tiles
// along the contiguous axis (vec4 loads and stores). All kernels WRITE their outputs.

override WG: u32 = 64u;

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
@group(0) @binding(1) var<storage, read_write> dst: array<vec4<f32>>; // [16, …] transformed tiles
@group(0) @binding(2) var<uniform> tp: Tiles;
@group(0) @binding(3) var<storage, read> mres: array<vec4<f32>>;      // GEMM result [16][K][sK]
@group(0) @binding(4) var<storage, read> bias: array<f32>;            // [K] when hasBias = 1
@group(0) @binding(5) var<storage, read_write> y: array<f32>;         // [N, K, P, Q]
@group(0) @binding(6) var<uniform> fp: Fold;

fn index(wid: vec3u, nwg: vec3u, lid: u32) -> u32 {
  return (wid.y * nwg.x + wid.x) * WG + lid;
}

fn at(plane: u32, r: i32, c: i32) -> f32 {
  let ok = r >= 0 && r < i32(tp.H) && c >= 0 && c < i32(tp.W);
  return select(0.0, src[select(0u, plane + u32(r) * tp.W + u32(c), ok)], ok);
}

fn row(plane: u32, r: i32, c0: i32) -> vec4<f32> {
  return vec4(at(plane, r, c0), at(plane, r, c0 + 1), at(plane, r, c0 + 2), at(plane, r, c0 + 3));
}

fn bt(v: vec4<f32>) -> vec4<f32> {
  return vec4(v.x - v.z, v.y + v.z, v.z - v.y, v.y - v.w);
}

fn ag(v: vec2<f32>) -> vec4<f32> {
  return vec4(v.x, v.x + v.y, v.x - v.y, -v.y);
}

// Rows of one transformed tile (column i of the matrix = row i of the tile): Bᵀ d B of input
// tile t of channel c, or with grad = true A g Aᵀ of the 2×2 gradient tile; zero outside.
fn tile(c: u32, t: u32, grad: bool) -> mat4x4<f32> {
  if (c >= tp.C || t >= tp.T) { return mat4x4<f32>(); }
  let tx = t % tp.TW;
  let ty = (t / tp.TW) % tp.TH;
  let n = tp.n0 + t / (tp.TW * tp.TH);
  let plane = (n * tp.C + c) * tp.H * tp.W;
  let r0 = i32(2u * ty) - tp.pad;
  let c0 = i32(2u * tx) - tp.pad;
  if (grad) {
    let g0 = vec2(at(plane, r0, c0), at(plane, r0, c0 + 1));
    let g1 = vec2(at(plane, r0 + 1, c0), at(plane, r0 + 1, c0 + 1));
    return mat4x4<f32>(ag(g0), ag(g0 + g1), ag(g0 - g1), ag(-g1));
  }
  let d0 = row(plane, r0, c0);
  let d1 = row(plane, r0 + 1, c0);
  let d2 = row(plane, r0 + 2, c0);
  let d3 = row(plane, r0 + 3, c0);
  return mat4x4<f32>(bt(d0 - d2), bt(d1 + d2), bt(d2 - d1), bt(d1 - d3));
}

// Four tiles along the contiguous axis (t when sT = 1, else c), one vec4 store per ξ
// (straight-line: Mesa keeps a loop-indexed local array in memory).
fn tiles4(i: u32, grad: bool) {
  if (i * 4u >= tp.Cn * tp.Tn) { return; }
  var c: u32;
  var t: u32;
  var dc = 0u;
  var dt = 0u;
  if (tp.sT == 1u) {
    t = (i % (tp.Tn / 4u)) * 4u;
    c = i / (tp.Tn / 4u);
    dt = 1u;
  } else {
    c = (i % (tp.Cn / 4u)) * 4u;
    t = i / (tp.Cn / 4u);
    dc = 1u;
  }
  let a = tile(c, t, grad);
  let b = tile(c + dc, t + dt, grad);
  let d = tile(c + 2u * dc, t + 2u * dt, grad);
  let f = tile(c + 3u * dc, t + 3u * dt, grad);
  let o = (c * tp.sC + t * tp.sT) / 4u;
  let s = tp.sXi / 4u;
  dst[o + 0u * s] = vec4(a[0].x, b[0].x, d[0].x, f[0].x);
  dst[o + 1u * s] = vec4(a[0].y, b[0].y, d[0].y, f[0].y);
  dst[o + 2u * s] = vec4(a[0].z, b[0].z, d[0].z, f[0].z);
  dst[o + 3u * s] = vec4(a[0].w, b[0].w, d[0].w, f[0].w);
  dst[o + 4u * s] = vec4(a[1].x, b[1].x, d[1].x, f[1].x);
  dst[o + 5u * s] = vec4(a[1].y, b[1].y, d[1].y, f[1].y);
  dst[o + 6u * s] = vec4(a[1].z, b[1].z, d[1].z, f[1].z);
  dst[o + 7u * s] = vec4(a[1].w, b[1].w, d[1].w, f[1].w);
  dst[o + 8u * s] = vec4(a[2].x, b[2].x, d[2].x, f[2].x);
  dst[o + 9u * s] = vec4(a[2].y, b[2].y, d[2].y, f[2].y);
  dst[o + 10u * s] = vec4(a[2].z, b[2].z, d[2].z, f[2].z);
  dst[o + 11u * s] = vec4(a[2].w, b[2].w, d[2].w, f[2].w);
  dst[o + 12u * s] = vec4(a[3].x, b[3].x, d[3].x, f[3].x);
  dst[o + 13u * s] = vec4(a[3].y, b[3].y, d[3].y, f[3].y);
  dst[o + 14u * s] = vec4(a[3].z, b[3].z, d[3].z, f[3].z);
  dst[o + 15u * s] = vec4(a[3].w, b[3].w, d[3].w, f[3].w);
}

// V[ξ] = (Bᵀ d B)[ξ] of input tiles (forward, backward-input, backward-weight).
@compute @workgroup_size(WG)
fn inputTiles(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  tiles4(index(wid, nwg, lid), false);
}

// G[ξ] = (A g Aᵀ)[ξ] of 2×2 output-gradient tiles (backward-weight); here src is gy
// [N, K, P, Q] with C = K, H = P, W = Q and pad = 0.
@compute @workgroup_size(WG)
fn gradTiles(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  tiles4(index(wid, nwg, lid), true);
}

fn at2(m0: f32, m1: f32, m2: f32, m3: f32) -> vec2<f32> {
  return vec2(m0 + m1 + m2, m1 - m2 - m3);
}

// Aᵀ m A (+ bias) of one tile from its 16 values (m[ξ] = row ξ/4, component ξ%4).
fn fold(k: u32, t: u32, m0: vec4<f32>, m1: vec4<f32>, m2: vec4<f32>, m3: vec4<f32>) {
  if (t >= fp.T) { return; }
  let r0 = at2(m0.x, m0.y, m0.z, m0.w);
  let r1 = at2(m1.x, m1.y, m1.z, m1.w);
  let r2 = at2(m2.x, m2.y, m2.z, m2.w);
  let r3 = at2(m3.x, m3.y, m3.z, m3.w);
  let s0 = at2(r0.x, r1.x, r2.x, r3.x); // output rows 0..1 of col 0
  let s1 = at2(r0.y, r1.y, r2.y, r3.y); // output rows 0..1 of col 1
  let tx = t % fp.TW;
  let ty = (t / fp.TW) % fp.TH;
  let n = fp.n0 + t / (fp.TW * fp.TH);
  var b = 0.0;
  if (fp.hasBias == 1u) { b = bias[k]; }
  let p0 = 2u * ty;
  let q0 = 2u * tx;
  let p1 = p0 + 1u < fp.P;
  let q1 = q0 + 1u < fp.Q;
  let o = ((n * fp.K + k) * fp.P + p0) * fp.Q + q0;
  y[o] = s0.x + b;
  if (q1) { y[o + 1u] = s1.x + b; }
  if (p1) { y[o + fp.Q] = s0.y + b; }
  if (p1 && q1) { y[o + fp.Q + 1u] = s1.y + b; }
}

// y = Aᵀ m A (+ bias) for output channel k of tiles t..t+3, m read as vec4 over t at
// ξ·sXi + k·sK + t (sK a multiple of 4).
@compute @workgroup_size(WG)
fn outputTiles(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = index(wid, nwg, lid);
  let t4 = fp.sK / 4u;
  if (i >= fp.K * t4) { return; }
  let t = (i % t4) * 4u;
  let k = i / t4;
  let o = (k * fp.sK + t) / 4u;
  let s = fp.sXi / 4u;
  let v0 = mres[o + 0u * s];
  let v1 = mres[o + 1u * s];
  let v2 = mres[o + 2u * s];
  let v3 = mres[o + 3u * s];
  let v4 = mres[o + 4u * s];
  let v5 = mres[o + 5u * s];
  let v6 = mres[o + 6u * s];
  let v7 = mres[o + 7u * s];
  let v8 = mres[o + 8u * s];
  let v9 = mres[o + 9u * s];
  let v10 = mres[o + 10u * s];
  let v11 = mres[o + 11u * s];
  let v12 = mres[o + 12u * s];
  let v13 = mres[o + 13u * s];
  let v14 = mres[o + 14u * s];
  let v15 = mres[o + 15u * s];
  fold(k, t + 0u, vec4(v0.x, v1.x, v2.x, v3.x), vec4(v4.x, v5.x, v6.x, v7.x), vec4(v8.x, v9.x, v10.x, v11.x), vec4(v12.x, v13.x, v14.x, v15.x));
  fold(k, t + 1u, vec4(v0.y, v1.y, v2.y, v3.y), vec4(v4.y, v5.y, v6.y, v7.y), vec4(v8.y, v9.y, v10.y, v11.y), vec4(v12.y, v13.y, v14.y, v15.y));
  fold(k, t + 2u, vec4(v0.z, v1.z, v2.z, v3.z), vec4(v4.z, v5.z, v6.z, v7.z), vec4(v8.z, v9.z, v10.z, v11.z), vec4(v12.z, v13.z, v14.z, v15.z));
  fold(k, t + 3u, vec4(v0.w, v1.w, v2.w, v3.w), vec4(v4.w, v5.w, v6.w, v7.w), vec4(v8.w, v9.w, v10.w, v11.w), vec4(v12.w, v13.w, v14.w, v15.w));
}
