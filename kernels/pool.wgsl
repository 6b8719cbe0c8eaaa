// Pooling over NCHW f32 planes: max pool (with argmax) and average pool, forward and backward.
// Legend: N images, C channels, input plane H×W, output plane P×Q, window KH×KW, stride SH×SW,
// padding PH×PW (max pool only; padded positions never win). A "plane" is one (n, c) pair.
// Every output is WRITTEN (never accumulated), gradients included. Backward kernels gather:
// one invocation per input element sums the outputs whose window covers it (no atomics).

override WG: u32 = 256u;

struct Params {
  planes: u32, // N·C
  H: u32, W: u32, P: u32, Q: u32,
  KH: u32, KW: u32, SH: u32, SW: u32, PH: u32, PW: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;           // [N, C, H, W]
@group(0) @binding(1) var<storage, read_write> y: array<f32>;     // [N, C, P, Q]
@group(0) @binding(2) var<storage, read_write> arg: array<u32>;   // [N, C, P, Q] h·W + w of the max
@group(0) @binding(3) var<storage, read> gy: array<f32>;          // [N, C, P, Q]
@group(0) @binding(4) var<storage, read> argIn: array<u32>;       // [N, C, P, Q] saved argmax
@group(0) @binding(5) var<storage, read_write> gx: array<f32>;    // [N, C, H, W]
@group(0) @binding(6) var<uniform> p: Params;

fn linear(wid: vec3u, nwg: vec3u, lid: u32) -> u32 {
  return (wid.y * nwg.x + wid.x) * WG + lid;
}

// y = max over the window (first maximum in row-major order wins); arg = its position.
@compute @workgroup_size(WG)
fn maxPoolForward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let o = linear(wid, nwg, lid);
  if (o >= p.planes * p.P * p.Q) { return; }
  let plane = o / (p.P * p.Q);
  let pq = o % (p.P * p.Q);
  let h0 = i32((pq / p.Q) * p.SH) - i32(p.PH);
  let w0 = i32((pq % p.Q) * p.SW) - i32(p.PW);
  let base = plane * p.H * p.W;
  var best = 0.0;
  var at = 0xffffffffu;
  for (var kh = 0u; kh < p.KH; kh++) {
    let h = h0 + i32(kh);
    if (h < 0 || h >= i32(p.H)) { continue; }
    for (var kw = 0u; kw < p.KW; kw++) {
      let w = w0 + i32(kw);
      if (w < 0 || w >= i32(p.W)) { continue; }
      let hw = u32(h) * p.W + u32(w);
      let v = x[base + hw];
      if (at == 0xffffffffu || v > best) {
        best = v;
        at = hw;
      }
    }
  }
  y[o] = best;
  arg[o] = at;
}

// gx[h, w] = Σ gy over the outputs whose argmax is (h, w).
@compute @workgroup_size(WG)
fn maxPoolBackward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = linear(wid, nwg, lid);
  if (i >= p.planes * p.H * p.W) { return; }
  let plane = i / (p.H * p.W);
  let hw = i % (p.H * p.W);
  let h = i32(hw / p.W) + i32(p.PH);
  let w = i32(hw % p.W) + i32(p.PW);
  // Outputs r with r·S ≤ h + pad < r·S + K.
  let r0 = max(0, (h - i32(p.KH) + i32(p.SH)) / i32(p.SH));
  let r1 = min(i32(p.P) - 1, h / i32(p.SH));
  let c0 = max(0, (w - i32(p.KW) + i32(p.SW)) / i32(p.SW));
  let c1 = min(i32(p.Q) - 1, w / i32(p.SW));
  var s = 0.0;
  for (var r = r0; r <= r1; r++) {
    for (var c = c0; c <= c1; c++) {
      let o = (plane * p.P + u32(r)) * p.Q + u32(c);
      if (argIn[o] == hw) { s += gy[o]; }
    }
  }
  gx[i] = s;
}

// y = mean over the window (no padding; stride = window in the ops that call this).
@compute @workgroup_size(WG)
fn avgPoolForward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let o = linear(wid, nwg, lid);
  if (o >= p.planes * p.P * p.Q) { return; }
  let plane = o / (p.P * p.Q);
  let pq = o % (p.P * p.Q);
  var at = plane * p.H * p.W + (pq / p.Q) * p.SH * p.W + (pq % p.Q) * p.SW;
  var s = 0.0;
  for (var kh = 0u; kh < p.KH; kh++) {
    for (var kw = 0u; kw < p.KW; kw++) { s += x[at + kw]; }
    at += p.W;
  }
  y[o] = s / f32(p.KH * p.KW);
}

// gx[h, w] = gy[h / SH, w / SW] / (KH·KW) inside the covered area, else 0 (stride = window).
@compute @workgroup_size(WG)
fn avgPoolBackward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = linear(wid, nwg, lid);
  if (i >= p.planes * p.H * p.W) { return; }
  let plane = i / (p.H * p.W);
  let hw = i % (p.H * p.W);
  let r = (hw / p.W) / p.SH;
  let c = (hw % p.W) / p.SW;
  var g = 0.0;
  if (r < p.P && c < p.Q) { g = gy[(plane * p.P + r) * p.Q + c] / f32(p.KH * p.KW); }
  gx[i] = g;
}
