// Winograd F(m×m,3×3) batched GEMM: for each of the NX = (m + 2)² transformed positions ξ (and
// split-K chunk s), Out[s][ξ][m][n] = Σ_{l in chunk s} A[ξ][l][m] · B[ξ][l][n].
// Forward: A = transformed filters U [NX][C][Kp], B = transformed input tiles V [NX][C][Tp].
// Backward-input: A = flipped, transposed U [NX][K][Cp], B = transformed gy tiles.
// Backward-weight: A = A-transformed gy tiles [NX][T][Kp], B = V [NX][T][Cp] (split over T).
// Legend: L reduced length, Mp rows of A padded to the block TM, N4 = vec4 columns of B and Out,
// M rows stored, chunk = l per split; sA, sB, sO the vec4 strides of one position's plane of A,
// B and Out (a little over its size: see `planeStride` in engine/ops/conv2d/winograd.ts).
//
// TEMPLATE: engine/ops/conv2d/winograd_codegen.ts replaces the "@generated" lines with
// straight-line code for a TM × 4·RN4 block (as bench/matmul_vec4.wgsl). A workgroup is
// WX × WY lanes: lane (x, y) takes rows m0 = (wid.y·WY + y)·TM and vec4 columns col0 + j·WX, so
// the lanes' B loads are adjacent. WY = 1 (wide B: every A load is one uniform vec4 load) or,
// when B has fewer vec4 columns than WX·RN4, more lanes along the rows instead of idle ones.
// Per l: TM/4 + RN4 loads, TM·RN4 vec4 FMAs.

override WX: u32 = 8u;
override WY: u32 = 1u;
// @generated constants: TM (rows per invocation, multiple of 4), RN4 (vec4 columns)

struct Gemm {
  L: u32, Mp4: u32, N4: u32, M: u32,
  chunk: u32, NX: u32, sA: u32, sB: u32,
  sO: u32,
}

@group(0) @binding(0) var<storage, read> a: array<vec4<f32>>;         // [NX][L][Mp/4], planes sA apart
@group(0) @binding(1) var<storage, read> b: array<vec4<f32>>;         // [NX][L][N4], planes sB apart
@group(0) @binding(2) var<storage, read_write> out: array<vec4<f32>>; // [S][NX][M][N4], planes sO apart
@group(0) @binding(3) var<uniform> gm: Gemm;

fn put(base: u32, m: u32, col: u32, v: vec4<f32>) {
  if (m < gm.M && col < gm.N4) { out[base + m * gm.N4 + col] = v; }
}

@compute @workgroup_size(WX, WY)
fn winogradGemm(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let xi = wid.z % gm.NX;
  let s = wid.z / gm.NX;
  let m0 = (wid.y * WY + lid.y) * TM;
  let col0 = wid.x * WX * RN4 + lid.x;
  if (col0 >= gm.N4 || m0 >= gm.Mp4 * 4u) { return; }
  let l0 = s * gm.chunk;
  let l1 = min(gm.L, l0 + gm.chunk);
  let abase = xi * gm.sA + m0 / 4u;
  let bbase = xi * gm.sB;
  // @generated setup: cb_j = column col0 + j·WX (clamped), acc_i_j = 0
  for (var l = l0; l < l1; l++) {
    let ar = abase + l * gm.Mp4;
    let br = bbase + l * gm.N4;
    // @generated body: a_q = A[l][m0 + 4q..]; b_j = B[l][cb_j]; acc_i_j += a_{i/4}[i%4]·b_j
  }
  let obase = wid.z * gm.sO;
  // @generated store: put(obase, m0 + i, col0 + j·WX, acc_i_j)
}
