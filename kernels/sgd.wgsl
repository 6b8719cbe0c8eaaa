// SGD with momentum, dampening, weight decay and Nesterov, as torch.optim.SGD, over flat buffers.
// Per element i (PyTorch's formula):
//   d = g + weightDecay·w
//   m = first ? d : momentum·m + (1 − dampening)·d        (only when momentum ≠ 0)
//   d = nesterov ? d + momentum·m : m
//   w = w − lr·d
// Four elements per invocation (flat buffers are padded to 64 floats); w and m updated in place.

override WG: u32 = 256u;

struct Params {
  n4: u32,          // number of vec4 groups
  lr: f32,
  momentum: f32,
  dampening: f32,
  weightDecay: f32,
  nesterov: u32,    // 1 = Nesterov
  first: u32,       // 1 on the first step (momentum buffer starts as d)
}

@group(0) @binding(0) var<storage, read_write> w: array<vec4<f32>>; // [n4] weights
@group(0) @binding(1) var<storage, read> g: array<vec4<f32>>;       // [n4] gradients
@group(0) @binding(2) var<storage, read_write> m: array<vec4<f32>>; // [n4] momentum buffer
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn step(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  if (i >= p.n4) { return; }
  var d = g[i] + p.weightDecay * w[i];
  if (p.momentum != 0.0) {
    var buf = d;
    if (p.first == 0u) { buf = p.momentum * m[i] + (1.0 - p.dampening) * d; }
    m[i] = buf;
    if (p.nesterov == 1u) { d = d + p.momentum * buf; } else { d = buf; }
  }
  w[i] = w[i] - p.lr * d;
}
