// Conv2d forward and backward-input as one register-blocked gather GEMM (no workgroup memory).
// Legend: N batch, C' reduction channels (C forward, K backward-input), M output channels
// (K forward, C backward-input), IH×IW input plane, OH×OW output plane, NU×NV taps, SI input
// step per output step. The output grid of one dispatch is GR×GC positions
// (oh, ow) = (OR0 + OS·i, OC0 + OS·j) reading input rows RB + SI·i + u, cols CB + SI·j + v.
// Forward: OS = 1, SI = stride, RB = CB = −padding. Backward-input runs one dispatch per stride
// class (OR0, OC0) with the class's taps, flipped, and SI = 1 (see engine/ops/conv2d/choice.ts).
//
// TEMPLATE: engine/ops/conv2d/codegen.ts replaces the "@generated" lines with straight-line
// code for one tile (TM channels × TP×TQ positions) and tap shape (NU, NV, SI): accumulators
// a_i_j_m (vec4 over 4 channels) in registers; per reduction channel the NU·NV·TM weights and
// each of the ((TP−1)·SI+NU)×((TQ−1)·SI+NV) patch pixels are loaded once, then all
// TM·TP·TQ·NU·NV FMAs run. (Mesa 22's compiler does not unroll loops with override bounds and
// then keeps indexed local arrays in memory, 20× slower.) Writes (no accumulation).

override WG: u32 = 64u;
// @generated constants: TM (channels, multiple of 4), TP×TQ (positions), NU, NV, SI (taps)

struct Geo {
  N: u32, Cin: u32, IH: u32, IW: u32,
  M: u32, Mp: u32, OH: u32, OW: u32,
  GR: u32, GC: u32, OR0: u32, OC0: u32,
  OS: u32, RB: i32, CB: i32, hasBias: u32,
  tilesR: u32, tilesC: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;         // [N, C', IH, IW]
@group(0) @binding(1) var<storage, read> wt: array<vec4<f32>>;  // [C', NU, NV, Mp/4]
@group(0) @binding(2) var<storage, read> bias: array<f32>;      // [M] (read when hasBias = 1)
@group(0) @binding(3) var<storage, read_write> y: array<f32>;   // [N, M, OH, OW]
@group(0) @binding(4) var<uniform> g: Geo;

// One input pixel of plane `plane`, zero outside the image (a branch, not a select: the
// load is skipped where no lane needs it, e.g. the padding of small images).
fn pixel(plane: u32, ih: i32, iw: i32) -> f32 {
  // `&`, not `&&`: Tint makes && into branches, and SwiftShader (Chromium) never
  // finishes compiling them in unrolled code (the operands have no side effects).
  let ok = (ih >= 0) & (ih < i32(g.IH)) & (iw >= 0) & (iw < i32(g.IW));
  return select(0.0, x[select(0u, plane + u32(ih) * g.IW + u32(iw), ok)], ok);
}

// Writes output channel m at grid position (i, j) of image n, when inside.
fn store(n: u32, m: u32, i: u32, j: u32, v: f32) {
  if (m >= g.M || i >= g.GR || j >= g.GC) { return; }
  var out = v;
  if (g.hasBias == 1u) { out += bias[m]; }
  y[((n * g.M + m) * g.OH + g.OR0 + g.OS * i) * g.OW + g.OC0 + g.OS * j] = out;
}

@compute @workgroup_size(WG)
fn gatherBlocked(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let id = (wid.y * nwg.x + wid.x) * WG + lid;
  let tiles = g.tilesR * g.tilesC;
  if (id >= g.N * tiles * (g.Mp / TM)) { return; }
  let t = id % tiles;
  let n = (id / tiles) % g.N;
  let m0 = (id / (tiles * g.N)) * TM;
  let i0 = (t / g.tilesC) * TP;
  let j0 = (t % g.tilesC) * TQ;
  let mp4 = g.Mp / 4u;
  // @generated accumulators
  for (var c = 0u; c < g.Cin; c++) {
    let wb = c * NU * NV * mp4 + m0 / 4u;
    let plane = (n * g.Cin + c) * g.IH * g.IW;
    let ih0 = g.RB + i32(i0 * SI);
    let iw0 = g.CB + i32(j0 * SI);
    // @generated body
  }
  // @generated store: res[(i·TQ + j)·TM/4 + m4] = a_i_j_m4
  // The epilogue is a loop (runs once), keeping the unrolled code small: compile time on
  // lavapipe grows steeply with branches in straight-line code.
  for (var i = 0u; i < TP; i++) {
    for (var j = 0u; j < TQ; j++) {
      for (var m4 = 0u; m4 < TM / 4u; m4++) {
        let v = res[(i * TQ + j) * (TM / 4u) + m4];
        for (var q = 0u; q < 4u; q++) { store(n, m0 + 4u * m4 + q, i0 + i, j0 + j, v[q]); }
      }
    }
  }
}
