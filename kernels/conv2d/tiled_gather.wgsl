// Conv2d forward / backward-input gather GEMM with workgroup-memory tiles (for real GPUs).
// Same geometry and bindings as blocked_gather.wgsl (read its header): out[m][col] =
// Σ_kk A[m][kk]·B[kk][col] with m < M, col = (n, i, j) over N·GR·GC, kk = (c', u, v) over
// C'·NU·NV, A = wt (prepared weights), B = the input pixel (RB + SI·i + u, CB + SI·j + v).
// A workgroup stages BK×BM of A and BK×BN of B in workgroup memory per step; each invocation
// computes TM×TN outputs. With PF = 1 each invocation fetches its share of the next K-tile
// (≤ 16 values of A and of B) into registers before computing the current one, so global loads
// overlap the FMAs (the double-buffering of tfjs's and ONNX Runtime's tiled GEMMs, in registers:
// two staging copies would pass WebGPU's default 16 KiB of workgroup memory).
// Legend as in blocked_gather.wgsl. Writes (no accumulation).

override BM: u32 = 64u;  // rows (channels) per workgroup; BK·BM ≤ 2048
override BN: u32 = 64u;  // output positions per workgroup; BK·BN ≤ 2048
override BK: u32 = 16u;  // reduction step
override TM: u32 = 4u;   // rows per invocation (≤ 8)
override TN: u32 = 4u;   // positions per invocation (≤ 8)
override WGT: u32 = 256u; // (BM/TM)·(BN/TN)
override PF: u32 = 0u;    // 1: load the next K-tile into registers while this one is computed
override NU: u32 = 3u;
override NV: u32 = 3u;
override SI: u32 = 1u;

struct Geo {
  N: u32, Cin: u32, IH: u32, IW: u32,
  M: u32, Mp: u32, OH: u32, OW: u32,
  GR: u32, GC: u32, OR0: u32, OC0: u32,
  OS: u32, RB: i32, CB: i32, hasBias: u32,
  tilesR: u32, tilesC: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;        // [N, C', IH, IW]
@group(0) @binding(1) var<storage, read> wt: array<f32>;       // [C', NU, NV, Mp]
@group(0) @binding(2) var<storage, read> bias: array<f32>;     // [M] (read when hasBias = 1)
@group(0) @binding(3) var<storage, read_write> y: array<f32>;  // [N, M, OH, OW]
@group(0) @binding(4) var<uniform> g: Geo;

var<workgroup> As: array<f32, 2048>;  // [BK][BM]
var<workgroup> Bs: array<f32, 2048>;  // [BK][BN]

fn loadB(kk: u32, col: u32) -> f32 {
  let taps = NU * NV;
  if (kk >= g.Cin * taps || col >= g.N * g.GR * g.GC) { return 0.0; }
  let c = kk / taps;
  let u = (kk % taps) / NV;
  let v = kk % NV;
  let n = col / (g.GR * g.GC);
  let i = (col / g.GC) % g.GR;
  let j = col % g.GC;
  let ih = g.RB + i32(SI * i + u);
  let iw = g.CB + i32(SI * j + v);
  if (ih < 0 || ih >= i32(g.IH) || iw < 0 || iw >= i32(g.IW)) { return 0.0; }
  return x[((n * g.Cin + c) * g.IH + u32(ih)) * g.IW + u32(iw)];
}

fn loadA(kk: u32, m: u32, KK: u32) -> f32 {
  return select(0.0, wt[min(kk * g.Mp + m, arrayLength(&wt) - 1u)], kk < KK && m < g.Mp);
}

fn stageA(k0: u32, bm: u32, lid: u32, KK: u32) {
  for (var e = lid; e < BK * BM; e += WGT) { As[e] = loadA(k0 + e / BM, bm + e % BM, KK); }
}

fn stageB(k0: u32, bn: u32, lid: u32) {
  for (var e = lid; e < BK * BN; e += WGT) { Bs[e] = loadB(k0 + e / BN, bn + e % BN); }
}

@compute @workgroup_size(WGT)
fn gatherTiled(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let bn = wid.x * BN;
  let bm = wid.y * BM;
  let tx = lid % (BN / TN);
  let ty = lid / (BN / TN);
  let KK = g.Cin * NU * NV;
  var acc: array<array<f32, 8>, 8>;
  var ra: array<f32, 16>;
  var rb: array<f32, 16>;
  stageA(0u, bm, lid, KK);
  stageB(0u, bn, lid);
  workgroupBarrier();
  for (var k0 = 0u; k0 < KK; k0 += BK) {
    let k1 = k0 + BK;
    if (PF == 1u && k1 < KK) {
      var t = 0u;
      for (var e = lid; e < BK * BM; e += WGT) { ra[t] = loadA(k1 + e / BM, bm + e % BM, KK); t++; }
      t = 0u;
      for (var e = lid; e < BK * BN; e += WGT) { rb[t] = loadB(k1 + e / BN, bn + e % BN); t++; }
    }
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
    if (k1 < KK) {
      if (PF == 1u) {
        var t = 0u;
        for (var e = lid; e < BK * BM; e += WGT) { As[e] = ra[t]; t++; }
        t = 0u;
        for (var e = lid; e < BK * BN; e += WGT) { Bs[e] = rb[t]; t++; }
      } else {
        stageA(k1, bm, lid, KK);
        stageB(k1, bn, lid);
      }
    }
    workgroupBarrier();
  }
  for (var j = 0u; j < TN; j++) {
    let col = bn + tx * TN + j;
    if (col >= g.N * g.GR * g.GC) { continue; }
    let n = col / (g.GR * g.GC);
    let oh = g.OR0 + g.OS * ((col / g.GC) % g.GR);
    let ow = g.OC0 + g.OS * (col % g.GC);
    for (var i = 0u; i < TM; i++) {
      let m = bm + ty * TM + i;
      if (m >= g.M) { continue; }
      var out = acc[i][j];
      if (g.hasBias == 1u) { out += bias[m]; }
      y[((n * g.M + m) * g.OH + oh) * g.OW + ow] = out;
    }
  }
}
