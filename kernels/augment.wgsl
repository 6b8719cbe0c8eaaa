// CIFAR-10 batch builder: gather images (bytes) by an epoch order, mirror indices ≥ N, optional
// random crop (zero-pad 4, 32×32 window) + random horizontal flip, standardize → f32 NCHW.
// Legend: B batch images, C = 3 channels, H = W = 32 rows/columns, N images stored,
//         T positions in the epoch order (N, or 2N for the flip-doubled set), K = 3·32·32 = 3072.
// One invocation per 4 outputs of a row (b, c, oy, ox…ox+3); the one at (b, 0, 0, 0) also writes y[b].
// Images are split over two bindings (img0 holds images 0 … split−1, img1 the rest) because one
// binding may be smaller than the set (128 MiB on lavapipe); with one part both name the same buffer.
// Random draws: h = hash(key ^ hash(position)) with key = order[0] (set once per epoch);
// crop origin cy = ((h & 0xffff)·9) >> 16, cx = (((h >> 16) & 0x7fff)·9) >> 15, flip = h >> 31
// (data/random.ts augmentDraw is the CPU twin). Writes x and y (no accumulation).

override WG: u32 = 256u;

struct Params {
  offset: u32,  // position of the batch's first image in the epoch order
  count: u32,   // B
  n: u32,       // N: order entries ≥ N mean "image entry − N, mirrored"
  split: u32,   // images in img0
  augment: u32, // 1: random crop + flip; 0: plain
  mean0: f32, mean1: f32, mean2: f32, // per-channel mean (pixel units)
  inv0: f32, inv1: f32, inv2: f32,    // per-channel 1 / std
}

@group(0) @binding(0) var<storage, read> img0: array<u32>;       // [split, C, H, W] bytes, 4 a word
@group(0) @binding(1) var<storage, read> img1: array<u32>;       // [N − split, C, H, W] bytes
@group(0) @binding(2) var<storage, read> labels: array<u32>;     // [N] bytes, 4 a word
@group(0) @binding(3) var<storage, read> order: array<u32>;      // [4 + T]: key, 3 spare, then image indices
@group(0) @binding(4) var<storage, read_write> x: array<f32>;    // [B, C, H, W] standardized
@group(0) @binding(5) var<storage, read_write> y: array<u32>;    // [B] labels
@group(0) @binding(6) var<uniform> p: Params;

const K: u32 = 3072u;
const PAD: i32 = 4;

fn hash(v: u32) -> u32 {
  var h = v;
  h = h ^ (h >> 16u);
  h = h * 0x7feb352du;
  h = h ^ (h >> 15u);
  h = h * 0x846ca68bu;
  return h ^ (h >> 16u);
}

// Byte k of image s (k < K).
fn pixel(s: u32, k: u32) -> u32 {
  var w: u32;
  if (s < p.split) {
    w = img0[s * (K / 4u) + (k >> 2u)];
  } else {
    w = img1[(s - p.split) * (K / 4u) + (k >> 2u)];
  }
  return (w >> ((k & 3u) * 8u)) & 255u;
}

@compute @workgroup_size(WG)
fn batch(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let q = (wid.y * nwg.x + wid.x) * WG + lid; // one invocation per 4 outputs of a row
  if (q >= p.count * (K / 4u)) { return; }
  let i = q * 4u;
  let b = i / K;
  let e = i % K;
  let c = e / 1024u;
  let oy = i32((e / 32u) % 32u);
  let ox0 = i32(e % 32u);
  let pos = p.offset + b;
  var s = order[4u + pos];
  var mirrored = false;
  if (s >= p.n) {
    s = s - p.n;
    mirrored = true;
  }
  var cy = PAD;
  var cx = PAD;
  var flip = false;
  if (p.augment != 0u) {
    let h = hash(order[0] ^ hash(pos));
    cy = i32(((h & 0xffffu) * 9u) >> 16u);
    cx = i32((((h >> 16u) & 0x7fffu) * 9u) >> 15u);
    flip = (h >> 31u) == 1u;
  }
  var m = p.mean0;
  var inv = p.inv0;
  if (c == 1u) { m = p.mean1; inv = p.inv1; }
  if (c == 2u) { m = p.mean2; inv = p.inv2; }
  // Crop window of the padded (mirrored) image, then the flip of the crop.
  let sy = oy + cy - PAD;
  for (var j = 0; j < 4; j++) {
    let ox = ox0 + j;
    var sx = select(ox, 31 - ox, flip) + cx - PAD;
    var v = 0.0;
    if (sy >= 0 && sy < 32 && sx >= 0 && sx < 32) {
      if (mirrored) { sx = 31 - sx; }
      v = f32(pixel(s, c * 1024u + u32(sy * 32 + sx)));
    }
    x[i + u32(j)] = (v - m) * inv;
  }
  if (e == 0u) {
    y[b] = (labels[s >> 2u] >> ((s & 3u) * 8u)) & 255u;
  }
}
