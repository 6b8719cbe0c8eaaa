// Training and test metrics accumulated on the GPU, read back once per epoch.
// Legend: N rows (batch), K classes.

struct Params {
  batch: u32, // batch index within the epoch (recorded when the loss is not finite)
  N: u32,
  K: u32,
}

@group(0) @binding(0) var<storage, read> loss: array<f32>;          // [1] this batch's mean loss
@group(0) @binding(1) var<storage, read_write> total: array<f32>;   // [1] running sum of batch losses
@group(0) @binding(2) var<storage, read_write> bad: array<u32>;     // [1] first non-finite batch, or 0xffffffff
@group(0) @binding(3) var<uniform> p: Params;
@group(0) @binding(4) var<storage, read> labels: array<u32>;        // [N]
@group(0) @binding(5) var<storage, read> pred: array<u32>;          // [N]
@group(0) @binding(6) var<storage, read_write> confusion: array<atomic<u32>>; // [K, K] true × predicted

fn finite(x: f32) -> bool {
  return (bitcast<u32>(x) & 0x7f800000u) != 0x7f800000u;
}

// total += loss; remembers the first batch whose loss is NaN or infinite.
@compute @workgroup_size(1)
fn trackLoss() {
  let l = loss[0];
  if (!finite(l) && bad[0] == 0xffffffffu) { bad[0] = p.batch; }
  total[0] = total[0] + l;
}

// confusion[label, pred] += 1 for each row.
@compute @workgroup_size(64)
fn countConfusion(@builtin(global_invocation_id) gid: vec3u) {
  let n = gid.x;
  if (n >= p.N) { return; }
  atomicAdd(&confusion[labels[n] * p.K + pred[n]], 1u);
}
