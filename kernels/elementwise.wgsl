// Elementwise kernels over n elements: fill, copy, accumulate, add, mul, scale, relu (+ backward).
// One element per invocation; the grid may span x and y (see engine/grid.ts).
// Gradients are written (y = …), except `accumulate`, which adds into y.

override WG: u32 = 256u;

struct Params {
  n: u32, // number of elements (words for the u32 kernels)
  s: f32, // scalar operand (fill value, scale)
}

@group(0) @binding(0) var<storage, read> x: array<f32>;        // [n]
@group(0) @binding(1) var<storage, read> b: array<f32>;        // [n] second operand
@group(0) @binding(2) var<storage, read_write> y: array<f32>;  // [n] output
@group(0) @binding(3) var<storage, read> xu: array<u32>;       // [n] words
@group(0) @binding(4) var<storage, read_write> yu: array<u32>; // [n] words
@group(0) @binding(5) var<uniform> p: Params;
@group(0) @binding(6) var<storage, read> gy: array<f32>;       // [n] upstream gradient

struct FillU32 {
  n: u32, // words
  v: u32, // value
}
@group(0) @binding(7) var<uniform> q: FillU32;

fn index(wid: vec3u, nwg: vec3u, lid: u32) -> u32 {
  return (wid.y * nwg.x + wid.x) * WG + lid;
}

@compute @workgroup_size(WG)
fn fill(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = index(wid, nwg, lid);
  if (i < p.n) { y[i] = p.s; }
}

@compute @workgroup_size(WG)
fn fillU32(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = index(wid, nwg, lid);
  if (i < q.n) { yu[i] = q.v; }
}

@compute @workgroup_size(WG)
fn copyWords(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = index(wid, nwg, lid);
  if (i < p.n) { yu[i] = xu[i]; }
}

@compute @workgroup_size(WG)
fn accumulate(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = index(wid, nwg, lid);
  if (i < p.n) { y[i] = y[i] + x[i]; }
}

@compute @workgroup_size(WG)
fn add(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = index(wid, nwg, lid);
  if (i < p.n) { y[i] = x[i] + b[i]; }
}

@compute @workgroup_size(WG)
fn mul(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = index(wid, nwg, lid);
  if (i < p.n) { y[i] = x[i] * b[i]; }
}

@compute @workgroup_size(WG)
fn scale(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = index(wid, nwg, lid);
  if (i < p.n) { y[i] = x[i] * p.s; }
}

@compute @workgroup_size(WG)
fn relu(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = index(wid, nwg, lid);
  if (i < p.n) { y[i] = max(x[i], 0.0); }
}

// gx = gy where x > 0 (x may be the relu's input or its output: same sign test).
@compute @workgroup_size(WG)
fn reluBackward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = index(wid, nwg, lid);
  if (i < p.n) { y[i] = select(0.0, gy[i], x[i] > 0.0); }
}
