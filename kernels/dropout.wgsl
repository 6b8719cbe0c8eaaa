// Dropout over n f32 elements with a counter-based RNG: element i is kept when
// hash(seed, i) ≥ threshold (threshold = p·2³²), and kept values are scaled by 1/(1 − p).
// The same entry computes the forward (x → y) and the backward (gy → gx): the mask is
// recomputed from (seed, i), never stored. Outputs are WRITTEN (never accumulated).
// Legend: n elements of any shape, i the flat element index.

override WG: u32 = 256u;

struct Params {
  n: u32,         // number of elements
  seedLo: u32,    // low 32 bits of the seed
  seedHi: u32,    // high bits of the seed
  threshold: u32, // drop when hash < threshold
  scale: f32,     // 1 / (1 − p)
}

@group(0) @binding(0) var<storage, read> x: array<f32>;       // [n] input (or upstream gradient)
@group(0) @binding(1) var<storage, read_write> y: array<f32>; // [n] output (or input gradient)
@group(0) @binding(2) var<uniform> p: Params;

// PCG's output permutation (RXS-M-XS): a bijection on u32 with good avalanche.
fn pcg(v: u32) -> u32 {
  let s = v * 747796405u + 2891336453u;
  let w = ((s >> ((s >> 28u) + 4u)) ^ s) * 277803737u;
  return (w >> 22u) ^ w;
}

// 32 random bits for element i of the stream `seed`; a bijection of i for a fixed seed.
fn hash(i: u32) -> u32 {
  let key = pcg(p.seedLo ^ pcg(p.seedHi + 0x9e3779b9u));
  return pcg(pcg(i) ^ key);
}

@compute @workgroup_size(WG)
fn dropout(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  if (i >= p.n) { return; }
  y[i] = select(0.0, x[i] * p.scale, hash(i) >= p.threshold);
}
