// Conv2d backward-weight as a split-K GEMM with workgroup-memory tiles (for real GPUs):
// part[t][k][col] = Σ_{red in chunk t} gy[n][k][p][q] · x[n][c][p·ST + r − pad][q·ST + s − pad]
// with col = (c, r, s) over C·R·S and red = (n, p, q) over N·P·Q (chunkLen per chunk t).
// Legend: N batch, C input channels, H×W input, K output channels, P×Q output, R×S taps,
// ST stride, T chunks. Workgroups: x over col blocks (BN), y over k blocks (BM), z over chunks.
// Chunks are summed by reducePartials (kernels/conv2d/util.wgsl). Writes (no accumulation).

override BM: u32 = 64u;   // output channels per workgroup; BK·BM ≤ 2048
override BN: u32 = 64u;   // (c, r, s) columns per workgroup; BK·BN ≤ 2048
override BK: u32 = 16u;   // reduction step
override TM: u32 = 4u;    // ≤ 8
override TN: u32 = 4u;    // ≤ 8
override WGT: u32 = 256u; // (BM/TM)·(BN/TN)
override R: u32 = 3u;
override S: u32 = 3u;
override ST: u32 = 1u;

struct Geo {
  N: u32, C: u32, H: u32, W: u32,
  K: u32, P: u32, Q: u32, pad: i32,
  tilesR: u32, tilesC: u32, items: u32, chunkLen: u32,
  T: u32, kBlocks: u32, cBlocks: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;          // [N, C, H, W]
@group(0) @binding(1) var<storage, read> gy: array<f32>;         // [N, K, P, Q]
@group(0) @binding(2) var<storage, read_write> part: array<f32>; // [T, K, C, R, S]
@group(0) @binding(3) var<uniform> g: Geo;

var<workgroup> As: array<f32, 2048>;  // [BK][BM] gradient values
var<workgroup> Bs: array<f32, 2048>;  // [BK][BN] input values

fn loadX(red: u32, col: u32, red1: u32) -> f32 {
  if (red >= red1 || col >= g.C * R * S) { return 0.0; }
  let pq = red % (g.P * g.Q);
  let n = red / (g.P * g.Q);
  let c = col / (R * S);
  let ih = i32((pq / g.Q) * ST + (col / S) % R) - g.pad;
  let iw = i32((pq % g.Q) * ST + col % S) - g.pad;
  if (ih < 0 || ih >= i32(g.H) || iw < 0 || iw >= i32(g.W)) { return 0.0; }
  return x[((n * g.C + c) * g.H + u32(ih)) * g.W + u32(iw)];
}

@compute @workgroup_size(WGT)
fn weightTiled(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let bn = wid.x * BN;
  let bm = wid.y * BM;
  let t = wid.z;
  let tx = lid % (BN / TN);
  let ty = lid / (BN / TN);
  let PQ = g.P * g.Q;
  let red1 = min(g.items, (t + 1u) * g.chunkLen);
  var acc: array<array<f32, 8>, 8>;
  for (var r0 = t * g.chunkLen; r0 < red1; r0 += BK) {
    for (var e = lid; e < BK * BM; e += WGT) {
      let red = r0 + e / BM;
      let k = bm + e % BM;
      // `&`, not `&&`: Tint makes && into branches, and SwiftShader (Chromium) never
      // finishes compiling them in unrolled code (the operands have no side effects).
      let ok = (red < red1) & (k < g.K);
      let idx = ((red / PQ) * g.K + k) * PQ + red % PQ;
      As[e] = select(0.0, gy[select(0u, idx, ok)], ok);
    }
    for (var e = lid; e < BK * BN; e += WGT) {
      Bs[e] = loadX(r0 + e / BN, bn + e % BN, red1);
    }
    workgroupBarrier();
    for (var kr = 0u; kr < BK; kr++) {
      var a: array<f32, 8>;
      var b: array<f32, 8>;
      for (var i = 0u; i < TM; i++) { a[i] = As[kr * BM + ty * TM + i]; }
      for (var j = 0u; j < TN; j++) { b[j] = Bs[kr * BN + tx * TN + j]; }
      for (var i = 0u; i < TM; i++) {
        for (var j = 0u; j < TN; j++) { acc[i][j] = fma(a[i], b[j], acc[i][j]); }
      }
    }
    workgroupBarrier();
  }
  let CRS = g.C * R * S;
  for (var i = 0u; i < TM; i++) {
    let k = bm + ty * TM + i;
    for (var j = 0u; j < TN; j++) {
      let col = bn + tx * TN + j;
      if (k < g.K && col < CRS) { part[(t * g.K + k) * CRS + col] = acc[i][j]; }
    }
  }
}
