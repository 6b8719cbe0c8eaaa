// Winograd F(m×m,3×3) batched GEMM with workgroup-memory tiles (the form for real GPUs): the same
// product as winograd_gemm.wgsl, Out[s][ξ][m][n] = Σ_{l in chunk s} A[ξ][l][m] · B[ξ][l][n], for
// each transformed position ξ (and split-K chunk s), staged BK values of l at a time. Both
// operands are l-major, so each tile load reads whole rows (consecutive m of A, n of B).
// Legend: L reduced length, Mp = 4·Mp4 rows of A, N = 4·N4 columns of B and Out, M rows stored,
// chunk = l per split; sA, sB, sO the vec4 strides of one position's plane of A, B and Out.
// Workgroups: x over column blocks (BN), y over row blocks (BM), z over NX·S planes. Writes.

override BM: u32 = 64u;   // rows a workgroup; BK·BM ≤ 2048
override BN: u32 = 64u;   // columns a workgroup; BK·BN ≤ 2048
override BK: u32 = 16u;   // reduction step
override TM: u32 = 4u;    // rows an invocation, ≤ 8
override TN: u32 = 4u;    // columns an invocation, ≤ 8
override WGT: u32 = 256u; // (BM/TM)·(BN/TN)

struct Gemm {
  L: u32, Mp4: u32, N4: u32, M: u32,
  chunk: u32, NX: u32, sA: u32, sB: u32,
  sO: u32,
}

@group(0) @binding(0) var<storage, read> a: array<f32>;         // [NX][L][Mp], planes 4·sA apart
@group(0) @binding(1) var<storage, read> b: array<f32>;         // [NX][L][N], planes 4·sB apart
@group(0) @binding(2) var<storage, read_write> out: array<f32>; // [S][NX][M][N], planes 4·sO apart
@group(0) @binding(3) var<uniform> gm: Gemm;

var<workgroup> As: array<f32, 2048>; // [BK][BM]
var<workgroup> Bs: array<f32, 2048>; // [BK][BN]

@compute @workgroup_size(WGT)
fn winogradGemmTiled(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let xi = wid.z % gm.NX;
  let s = wid.z / gm.NX;
  let bn = wid.x * BN;
  let bm = wid.y * BM;
  let tx = lid % (BN / TN);
  let ty = lid / (BN / TN);
  let Mp = gm.Mp4 * 4u;
  let N = gm.N4 * 4u;
  let l0 = s * gm.chunk;
  let l1 = min(gm.L, l0 + gm.chunk);
  let abase = xi * gm.sA * 4u;
  let bbase = xi * gm.sB * 4u;
  var acc: array<array<f32, 8>, 8>;
  for (var r0 = l0; r0 < l1; r0 += BK) {
    for (var e = lid; e < BK * BM; e += WGT) {
      let l = r0 + e / BM;
      let m = bm + e % BM;
      // `&`, not `&&`: Tint makes && into branches, and SwiftShader (Chromium) never
      // finishes compiling them in unrolled code (the operands have no side effects).
      let ok = (l < l1) & (m < Mp);
      As[e] = select(0.0, a[select(0u, abase + l * Mp + m, ok)], ok);
    }
    for (var e = lid; e < BK * BN; e += WGT) {
      let l = r0 + e / BN;
      let n = bn + e % BN;
      let ok = (l < l1) & (n < N);
      Bs[e] = select(0.0, b[select(0u, bbase + l * N + n, ok)], ok);
    }
    workgroupBarrier();
    for (var kr = 0u; kr < BK; kr++) {
      var av: array<f32, 8>;
      var bv: array<f32, 8>;
      for (var i = 0u; i < TM; i++) { av[i] = As[kr * BM + ty * TM + i]; }
      for (var j = 0u; j < TN; j++) { bv[j] = Bs[kr * BN + tx * TN + j]; }
      for (var i = 0u; i < TM; i++) {
        for (var j = 0u; j < TN; j++) { acc[i][j] = fma(av[i], bv[j], acc[i][j]); }
      }
    }
    workgroupBarrier();
  }
  let obase = wid.z * gm.sO * 4u;
  for (var i = 0u; i < TM; i++) {
    let m = bm + ty * TM + i;
    for (var j = 0u; j < TN; j++) {
      let n = bn + tx * TN + j;
      if (m < gm.M && n < N) { out[obase + m * N + n] = acc[i][j]; }
    }
  }
}
