// Full reductions: out[0] = scale · Σ x[i] (sum, mean), one workgroup of WG threads, tree in
// workgroup memory; and broadcast of a scalar gradient: y[i] = g[0] · s.
// Gradients are written, never accumulated.

override WG: u32 = 256u;

struct Params {
  n: u32,   // number of elements
  s: f32,   // scale (1 for sum, 1/n for mean)
}

@group(0) @binding(0) var<storage, read> x: array<f32>;        // [n]
@group(0) @binding(1) var<storage, read_write> out: array<f32>; // [1]
@group(0) @binding(2) var<uniform> p: Params;
@group(0) @binding(3) var<storage, read> g: array<f32>;        // [1] upstream gradient
@group(0) @binding(4) var<storage, read_write> y: array<f32>;  // [n]

var<workgroup> partial: array<f32, WG>;

@compute @workgroup_size(WG)
fn sum(@builtin(local_invocation_index) lid: u32) {
  var s = 0.0;
  for (var i = lid; i < p.n; i += WG) { s += x[i]; }
  partial[lid] = s;
  workgroupBarrier();
  for (var half = WG / 2u; half > 0u; half /= 2u) {
    if (lid < half) { partial[lid] += partial[lid + half]; }
    workgroupBarrier();
  }
  if (lid == 0u) { out[0] = partial[0] * p.s; }
}

@compute @workgroup_size(WG)
fn broadcast(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  if (i < p.n) { y[i] = g[0] * p.s; }
}
