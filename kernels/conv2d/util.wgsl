// Conv2d helpers: weight re-layout for the gather GEMMs, split-K reduction, bias-gradient partials.
// Legend: K output channels, C input channels, R×S kernel taps, M GEMM rows (K forward, C
// backward-input), C' reduction channels (C forward, K backward-input), NU×NV taps of one
// stride class, Mp = M padded to the channel block, T split-K chunks, P×Q output plane.
// All kernels WRITE their outputs (no accumulation).

override WG: u32 = 256u;

struct Prep {
  K: u32, C: u32, R: u32, S: u32,
  NU: u32, NV: u32, Mp: u32, n: u32, // taps of the class, padded rows, Cp·NU·NV·Mp
  r0: u32, s0: u32, st: u32,         // first tap and tap step of the class (backward-input)
  backward: u32,                     // 0: forward layout, 1: flipped + transposed for dx
}

struct Red {
  n: u32, // elements of one partial
  T: u32, // partials to sum
}

struct BiasP {
  N: u32, K: u32, PQ: u32, // gy is [N, K, P·Q]
  chunk: u32,              // images per partial
  T: u32,                  // partials
}

@group(0) @binding(0) var<storage, read> w: array<f32>;           // [K, C, R, S]
@group(0) @binding(1) var<storage, read_write> wt: array<vec4<f32>>; // [C', NU, NV, Mp/4]
@group(0) @binding(2) var<uniform> pp: Prep;
@group(0) @binding(3) var<storage, read> part: array<f32>;        // [T, n]
@group(0) @binding(4) var<storage, read_write> total: array<f32>; // [n]
@group(0) @binding(5) var<uniform> rp: Red;
@group(0) @binding(6) var<storage, read> gy: array<f32>;          // [N, K, P, Q]
@group(0) @binding(7) var<storage, read_write> bpart: array<f32>; // [T, K]
@group(0) @binding(8) var<uniform> bp: BiasP;

fn index(wid: vec3u, nwg: vec3u, lid: u32) -> u32 {
  return (wid.y * nwg.x + wid.x) * WG + lid;
}

// wt[c'][u][v][m]: forward w[m][c'][u][v]; backward-input w[c'][m][r0+st·(NU-1-u)][s0+st·(NV-1-v)].
// Rows m ≥ M are zero so the GEMMs can read whole channel blocks (Mp is a multiple of 4). Rows
// m … m+3 of one c' per invocation, all NU·NV taps of the class, one vec4 store per tap: lavapipe
// stores a vec4 from one invocation ~3× faster than scalars from several.
fn tapOf(m: u32, c: u32, u: u32, v: u32) -> f32 {
  if (pp.backward == 0u) {
    if (m >= pp.K) { return 0.0; }
    return w[((m * pp.C + c) * pp.R + u) * pp.S + v];
  }
  if (m >= pp.C) { return 0.0; }
  let r = pp.r0 + pp.st * (pp.NU - 1u - u);
  let s = pp.s0 + pp.st * (pp.NV - 1u - v);
  return w[((c * pp.C + m) * pp.R + r) * pp.S + s];
}

@compute @workgroup_size(WG)
fn prepWeights(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = index(wid, nwg, lid);
  let m4 = pp.Mp / 4u;
  if (i * 4u * pp.NU * pp.NV >= pp.n) { return; }
  let m = (i % m4) * 4u;
  let c = i / m4;
  for (var u = 0u; u < pp.NU; u++) {
    for (var v = 0u; v < pp.NV; v++) {
      let t = vec4(tapOf(m, c, u, v), tapOf(m + 1u, c, u, v), tapOf(m + 2u, c, u, v), tapOf(m + 3u, c, u, v));
      wt[((c * pp.NU + u) * pp.NV + v) * m4 + i % m4] = t;
    }
  }
}

// total[i] = Σ_t part[t][i]
@compute @workgroup_size(WG)
fn reducePartials(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = index(wid, nwg, lid);
  if (i >= rp.n) { return; }
  var s = 0.0;
  for (var t = 0u; t < rp.T; t++) { s += part[t * rp.n + i]; }
  total[i] = s;
}

// bpart[t][k] = Σ over images n in chunk t and all p, q of gy[n][k][p][q]
@compute @workgroup_size(WG)
fn biasPartials(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = index(wid, nwg, lid);
  if (i >= bp.T * bp.K) { return; }
  let k = i % bp.K;
  let t = i / bp.K;
  let n1 = min(bp.N, (t + 1u) * bp.chunk);
  var s = 0.0;
  for (var n = t * bp.chunk; n < n1; n++) {
    let base = (n * bp.K + k) * bp.PQ;
    for (var j = 0u; j < bp.PQ; j++) { s += gy[base + j]; }
  }
  bpart[i] = s;
}
