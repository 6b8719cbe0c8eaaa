// Matrix multiply C[M,N] = A[M,K] · B[K,N] (+ bias[N]) for aligned sizes: K and N multiples of 4,
// all three row-major and read/written as vec4 (M is free). Two variants of one product:
//   matmulRegister: RM×(4·RN4) outputs per invocation in registers, vec4 loads, no workgroup
//                   memory (the fast form on Mesa's software adapters, docs/performance.md);
//   matmulTiled:    64×64 tile per 16×16 workgroup, 4×4 per invocation, K staged 16 at a time
//                   in workgroup memory (the fast form on real GPUs).
// C is written (C = …), never accumulated.
// Legend: M rows of C, N columns of C, K the reduced dimension; "4" suffix = counted in vec4s.
//
// TEMPLATE: bench/matmul_vec4.ts replaces the "@generated" lines with straight-line code
// for one block (Mesa's compiler neither unrolls the loops nor keeps a loop-indexed local array
// in registers). Lavapipe runs the invocations of a workgroup as SIMD lanes: the block's rows
// come from the workgroup id alone, so every A load is one uniform load, and lane l takes the
// vec4 columns col0 + j·WG, so the lanes' B loads are adjacent. Measured on lavapipe in one
// run: 32×32 per invocation ~4× and 16×16 ~2× the 8×16 loop form, but 32×32 can take many
// minutes to compile on a cold Mesa cache, so the default block is 16×16 (matmul_vec4.ts).

override WG: u32 = 8u;
// @generated constants: RM (rows per invocation), RN4 (vec4 columns per invocation)

struct Params {
  M: u32, N: u32, K: u32,
  hasBias: u32, // 1: add bias[n]
}

@group(0) @binding(0) var<storage, read> a: array<vec4<f32>>;       // [M, K/4]
@group(0) @binding(1) var<storage, read> b: array<vec4<f32>>;       // [K, N/4]
@group(0) @binding(2) var<storage, read> bias: array<vec4<f32>>;    // [N/4] (anything when unused)
@group(0) @binding(3) var<storage, read_write> c: array<vec4<f32>>; // [M, N/4]
@group(0) @binding(4) var<uniform> p: Params;

fn store(m: u32, col4: u32, v: vec4<f32>) {
  let n4 = p.N / 4u;
  if (m < p.M && col4 < n4) {
    var r = v;
    if (p.hasBias == 1u) { r += bias[col4]; }
    c[m * n4 + col4] = r;
  }
}

@compute @workgroup_size(WG)
fn matmulRegister(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let n4 = p.N / 4u;
  let k4 = p.K / 4u;
  let m0 = wid.y * RM;
  let col0 = wid.x * WG * RN4 + lid;
  if (col0 >= n4) { return; }
  // Out-of-range rows/columns are clamped onto the last one; their results are not stored.
  // @generated setup: ra_i = row i of A (clamped)·K/4, cb_j = column col0 + j·WG (clamped), acc_i_j = 0
  for (var k = 0u; k < k4; k++) {
    // @generated body: b_q_j = B[4k + q, cb_j]; a_i = A[ra_i + k]; acc_i_j += Σ_q a_i[q]·b_q_j
  }
  // @generated store: store(m0 + i, col0 + j·WG, acc_i_j)
}

const TM = 64u; // tiled variant: rows of a workgroup tile
const TK = 16u; // tiled variant: K per stage
var<workgroup> tileA: array<f32, 1024>;       // [TK, TM]: A tile transposed
var<workgroup> tileB: array<vec4<f32>, 256>;  // [TK, 16]: B tile, 64 columns as vec4

@compute @workgroup_size(16, 16)
fn matmulTiled(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(local_invocation_id) lid: vec3u,
  @builtin(local_invocation_index) li: u32,
) {
  let n4 = p.N / 4u;
  let k4 = p.K / 4u;
  let m0 = wid.y * TM;
  let col0 = wid.x * 16u;
  // Loader roles: A tile = 64 rows × 4 vec4 (K), B tile = 16 rows (K) × 16 vec4.
  let aRow = li / 4u;
  let aK4 = li % 4u;
  let bK = li / 16u;
  let bCol = li % 16u;
  let aBase = min(m0 + aRow, p.M - 1u) * k4;
  let bColC = min(col0 + bCol, n4 - 1u);
  var acc: array<vec4<f32>, 4>;
  for (var k0 = 0u; k0 < p.K; k0 += TK) {
    let ka = k0 / 4u + aK4;
    var av = vec4<f32>(0.0);
    if (ka < k4) { av = a[aBase + ka]; }
    for (var q = 0u; q < 4u; q++) { tileA[(aK4 * 4u + q) * TM + aRow] = av[q]; }
    var bv = vec4<f32>(0.0);
    if (k0 + bK < p.K) { bv = b[(k0 + bK) * n4 + bColC]; }
    tileB[bK * 16u + bCol] = bv;
    workgroupBarrier();
    for (var kk = 0u; kk < TK; kk++) {
      let r = kk * TM + lid.y * 4u;
      let bk = tileB[kk * 16u + lid.x];
      acc[0] += tileA[r] * bk;
      acc[1] += tileA[r + 1u] * bk;
      acc[2] += tileA[r + 2u] * bk;
      acc[3] += tileA[r + 3u] * bk;
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i++) { store(m0 + lid.y * 4u + i, col0 + lid.x, acc[i]); }
}
