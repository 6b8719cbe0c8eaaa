// Matrix multiply C[M,N] = A[M,K] · B[K,N] (+ bias[N]) for aligned sizes: K and N multiples of 4,
// all three row-major and read/written as vec4 (M is free). Two variants of one product:
//   matmulRegister: 8×16 outputs per invocation in registers, vec4 loads, no workgroup memory
//                   (the fast form on Mesa's software adapters, PEERS.md);
//   matmulTiled:    64×64 tile per 16×16 workgroup, 4×4 per invocation, K staged 16 at a time
//                   in workgroup memory (the fast form on real GPUs).
// C is written (C = …), never accumulated.
// Legend: M rows of C, N columns of C, K the reduced dimension; "4" suffix = counted in vec4s.

override WG_X: u32 = 8u;
override WG_Y: u32 = 8u;

const RM = 8u;  // register variant: rows per invocation
const RN4 = 4u; // register variant: vec4 columns per invocation (16 columns)

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

@compute @workgroup_size(WG_X, WG_Y)
fn matmulRegister(@builtin(global_invocation_id) gid: vec3u) {
  let n4 = p.N / 4u;
  let k4 = p.K / 4u;
  let col0 = gid.x * RN4;
  let m0 = gid.y * RM;
  if (m0 >= p.M || col0 >= n4) { return; }
  // Out-of-range rows/columns are clamped onto the last one; their results are not stored.
  var rowA: array<u32, RM>;
  for (var i = 0u; i < RM; i++) { rowA[i] = min(m0 + i, p.M - 1u) * k4; }
  var colB: array<u32, RN4>;
  for (var j = 0u; j < RN4; j++) { colB[j] = min(col0 + j, n4 - 1u); }
  var acc: array<vec4<f32>, 32>; // RM × RN4
  for (var k = 0u; k < k4; k++) {
    var bv: array<vec4<f32>, 16>; // 4 rows of B × RN4
    for (var kk = 0u; kk < 4u; kk++) {
      let row = (k * 4u + kk) * n4;
      for (var j = 0u; j < RN4; j++) { bv[kk * RN4 + j] = b[row + colB[j]]; }
    }
    for (var i = 0u; i < RM; i++) {
      let av = a[rowA[i] + k];
      for (var j = 0u; j < RN4; j++) {
        acc[i * RN4 + j] += av.x * bv[j] + av.y * bv[RN4 + j] + av.z * bv[2u * RN4 + j] +
          av.w * bv[3u * RN4 + j];
      }
    }
  }
  for (var i = 0u; i < RM; i++) {
    for (var j = 0u; j < RN4; j++) { store(m0 + i, col0 + j, acc[i * RN4 + j]); }
  }
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
