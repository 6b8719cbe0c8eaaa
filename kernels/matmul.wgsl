// Matrix multiply C[M,N] = A[M,K] · B[K,N] (+ bias[N]) with arbitrary strides (for transposes).
// Register blocking: each invocation computes a 4×4 block of C with accumulators in registers,
// looping over K once; no workgroup memory. Gradients are written (C = …), never accumulated.
// Legend: M rows of C, N columns of C, K the reduced dimension.

override WG_X: u32 = 8u;
override WG_Y: u32 = 8u;

struct Params {
  M: u32, N: u32, K: u32,
  sAm: u32, sAk: u32, // A[m, k] at m·sAm + k·sAk
  sBk: u32, sBn: u32, // B[k, n] at k·sBk + n·sBn
  hasBias: u32,       // 1: add bias[n]
}

@group(0) @binding(0) var<storage, read> a: array<f32>;        // A, strided
@group(0) @binding(1) var<storage, read> b: array<f32>;        // B, strided
@group(0) @binding(2) var<storage, read> bias: array<f32>;     // [N] (bound to anything when unused)
@group(0) @binding(3) var<storage, read_write> c: array<f32>;  // [M, N] row-major
@group(0) @binding(4) var<uniform> p: Params;

@compute @workgroup_size(WG_X, WG_Y)
fn matmul(@builtin(global_invocation_id) gid: vec3u) {
  let n0 = gid.x * 4u;
  let m0 = gid.y * 4u;
  if (m0 >= p.M || n0 >= p.N) { return; }
  var acc: array<vec4<f32>, 4>;
  let mLast = p.M - 1u;
  let nLast = p.N - 1u;
  // Clamp out-of-range rows/columns onto the last one (their results are not stored).
  let ra = vec4<u32>(min(m0, mLast), min(m0 + 1u, mLast), min(m0 + 2u, mLast), min(m0 + 3u, mLast)) * p.sAm;
  let cols = vec4<u32>(min(n0, nLast), min(n0 + 1u, nLast), min(n0 + 2u, nLast), min(n0 + 3u, nLast));
  let cb = cols * p.sBn;
  for (var k = 0u; k < p.K; k++) {
    let ka = k * p.sAk;
    let kb = k * p.sBk;
    let bv = vec4<f32>(b[kb + cb.x], b[kb + cb.y], b[kb + cb.z], b[kb + cb.w]);
    acc[0] += a[ra.x + ka] * bv;
    acc[1] += a[ra.y + ka] * bv;
    acc[2] += a[ra.z + ka] * bv;
    acc[3] += a[ra.w + ka] * bv;
  }
  var bv = vec4<f32>(0.0);
  if (p.hasBias == 1u) { bv = vec4<f32>(bias[cols.x], bias[cols.y], bias[cols.z], bias[cols.w]); }
  for (var i = 0u; i < 4u; i++) {
    let m = m0 + i;
    if (m >= p.M) { break; }
    let r = acc[i] + bv;
    for (var j = 0u; j < 4u; j++) {
      if (n0 + j < p.N) { c[m * p.N + n0 + j] = r[j]; }
    }
  }
}

// Column sums: out[n] = Σ_m x[m, n] (the bias gradient of a linear layer).
@group(0) @binding(5) var<storage, read> x: array<f32>;         // [M, N]
@group(0) @binding(6) var<storage, read_write> out: array<f32>; // [N]

@compute @workgroup_size(64)
fn sumRows(@builtin(global_invocation_id) gid: vec3u) {
  let n = gid.x;
  if (n >= p.N) { return; }
  var s = 0.0;
  for (var m = 0u; m < p.M; m++) { s += x[m * p.N + n]; }
  out[n] = s;
}
