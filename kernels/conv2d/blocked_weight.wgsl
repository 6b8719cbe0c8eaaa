// Conv2d backward-weight, register-blocked split-K (no workgroup memory):
// part[t][k][c][r][s] = Σ over the (image, output tile) items of chunk t of
//                       Σ_{p,q in tile} gy[n][k][p][q] · x[n][c][p·ST + r − pad][q·ST + s − pad].
// Legend: N batch, C input channels, H×W input plane, K output channels, P×Q output plane,
// R×S taps, ST stride, T chunks. Each invocation owns TK output channels × TC input channels
// × all R·S taps and walks its chunk of items; per item it loads the TK×TP×TQ gradient tile
// and each input pixel of the TC patches once. The chunks are summed by reducePartials
// (kernels/conv2d/util.wgsl), or T = 1 and part is the weight gradient.
//
// TEMPLATE: engine/ops/conv2d/codegen.ts replaces the "@generated" lines with straight-line
// code for one tile (accumulators a_c_r_s_k, vec4 over 4 output channels); see blocked_gather.wgsl.
// Writes (no accumulation).

override WG: u32 = 64u;
// @generated constants: TK (multiple of 4) × TC channels, TP×TQ item tile, R, S, RS = R·S, ST

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

// One input pixel of plane `plane`, zero outside the image (a branch, not a select: the
// load is skipped where no lane needs it, e.g. the padding of small images).
fn pixel(plane: u32, ih: i32, iw: i32) -> f32 {
  // `&`, not `&&`: Tint makes && into branches, and SwiftShader (Chromium) never
  // finishes compiling them in unrolled code (the operands have no side effects).
  let ok = (ih >= 0) & (ih < i32(g.H)) & (iw >= 0) & (iw < i32(g.W));
  return select(0.0, x[select(0u, plane + u32(ih) * g.W + u32(iw), ok)], ok);
}

// gy[n][k][p][q], zero outside.
fn grad(n: u32, k: u32, p: u32, q: u32) -> f32 {
  let ok = (k < g.K) & (p < g.P) & (q < g.Q);
  return select(0.0, gy[select(0u, ((n * g.K + k) * g.P + p) * g.Q + q, ok)], ok);
}

// Writes tap rs of (output channel k, input channel c) of chunk t, when inside.
fn store(t: u32, k: u32, c: u32, rs: u32, v: f32) {
  if (k < g.K && c < g.C) { part[((t * g.K + k) * g.C + c) * RS + rs] = v; }
}

@compute @workgroup_size(WG)
fn weightBlocked(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let id = (wid.y * nwg.x + wid.x) * WG + lid;
  if (id >= g.kBlocks * g.cBlocks * g.T) { return; }
  let k0 = (id % g.kBlocks) * TK;
  let c0 = ((id / g.kBlocks) % g.cBlocks) * TC;
  let t = id / (g.kBlocks * g.cBlocks);
  let tiles = g.tilesR * g.tilesC;
  let item1 = min(g.items, (t + 1u) * g.chunkLen);
  // @generated accumulators
  for (var item = t * g.chunkLen; item < item1; item++) {
    let n = item / tiles;
    let p0 = ((item % tiles) / g.tilesC) * TP;
    let q0 = (item % g.tilesC) * TQ;
    let ih0 = i32(p0 * ST) - g.pad;
    let iw0 = i32(q0 * ST) - g.pad;
    // @generated body
  }
  // @generated store: res[(c·RS + rs)·TK/4 + k4] = a_c_r_s_k4
  // The epilogue is a loop (runs once), keeping the unrolled code small (see blocked_gather.wgsl).
  for (var c = 0u; c < TC; c++) {
    for (var rs = 0u; rs < RS; rs++) {
      for (var k4 = 0u; k4 < TK / 4u; k4++) {
        let v = res[(c * RS + rs) * (TK / 4u) + k4];
        for (var q = 0u; q < 4u; q++) { store(t, k0 + 4u * k4 + q, c0 + c, rs, v[q]); }
      }
    }
  }
}
