// Softmax cross-entropy with label smoothing, fused with its gradient. One invocation per row.
// Legend: N rows (batch), K classes. Target t = (1 − ε)·onehot(label) + ε/K.
//   loss[n]    = −Σ_k t_k · log softmax(z)_k
//   grad[n, k] = (softmax(z)_k − t_k) · gscale      (gscale = 1/N for a batch mean)
//   pred[n]    = argmax_k z_k (first maximum)
// Gradients are written, never accumulated.

override WG: u32 = 64u;

struct Params {
  N: u32,
  K: u32,
  smoothing: f32,
  gscale: f32,
}

@group(0) @binding(0) var<storage, read> logits: array<f32>;      // [N, K]
@group(0) @binding(1) var<storage, read> labels: array<u32>;      // [N]
@group(0) @binding(2) var<storage, read_write> loss: array<f32>;  // [N]
@group(0) @binding(3) var<storage, read_write> grad: array<f32>;  // [N, K]
@group(0) @binding(4) var<storage, read_write> pred: array<u32>;  // [N]
@group(0) @binding(5) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn forward(@builtin(global_invocation_id) gid: vec3u) {
  let n = gid.x;
  if (n >= p.N) { return; }
  let row = n * p.K;
  var mx = logits[row];
  var arg = 0u;
  for (var k = 1u; k < p.K; k++) {
    let z = logits[row + k];
    if (z > mx) { mx = z; arg = k; }
  }
  var total = 0.0;
  for (var k = 0u; k < p.K; k++) { total += exp(logits[row + k] - mx); }
  let logZ = mx + log(total);
  let label = labels[n];
  let off = p.smoothing / f32(p.K);
  var l = 0.0;
  for (var k = 0u; k < p.K; k++) {
    let z = logits[row + k];
    var t = off;
    if (k == label) { t += 1.0 - p.smoothing; }
    l -= t * (z - logZ);
    grad[row + k] = (exp(z - logZ) - t) * p.gscale;
  }
  loss[n] = l;
  pred[n] = arg;
}

struct Scale {
  n: u32,
}

@group(0) @binding(6) var<storage, read> g: array<f32>;           // [1] upstream gradient
@group(0) @binding(7) var<storage, read> saved: array<f32>;       // [n] saved gradient
@group(0) @binding(8) var<storage, read_write> out: array<f32>;   // [n]
@group(0) @binding(9) var<uniform> q: Scale;

// out = g[0] · saved (the chain rule through the fused gradient).
@compute @workgroup_size(WG)
fn backward(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.x;
  if (i < q.n) { out[i] = g[0] * saved[i]; }
}
