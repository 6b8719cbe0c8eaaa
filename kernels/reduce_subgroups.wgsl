// reduce.wgsl's `sum` with subgroup operations (needs the `subgroups` feature): each level adds
// the values of one subgroup with subgroupAdd and keeps one per subgroup in workgroup memory, so
// 256 values take log_size(256) levels and barrier pairs instead of log2(256) (4 on SwiftShader,
// size 4), and the sums stay pairwise-like (a last sequential loop over the 64 subgroup sums lost
// ~20× more precision). engine/ops/reduce.ts picks it where tuneReduce measured it faster.
// Bindings as in reduce.wgsl.
enable subgroups;

override WG: u32 = 256u;

struct Params {
  n: u32,   // number of elements
  s: f32,   // scale (1 for sum, 1/n for mean)
}

@group(0) @binding(0) var<storage, read> x: array<f32>;        // [n]
@group(0) @binding(1) var<storage, read_write> out: array<f32>; // [1]
@group(0) @binding(2) var<uniform> p: Params;

var<workgroup> partial: array<f32, WG>; // one per subgroup (WG of them at subgroup size 1)

@compute @workgroup_size(WG)
fn sum(@builtin(local_invocation_index) lid: u32, @builtin(subgroup_invocation_id) sid: u32, @builtin(subgroup_size) size: u32) {
  var v = 0.0;
  for (var i = lid; i < p.n; i += WG) { v += x[i]; }
  var count = WG; // values left, held by invocations 0 … count − 1 (the others hold 0)
  loop {
    let t = subgroupAdd(v);
    count = (count + size - 1u) / size;
    workgroupBarrier(); // the previous level's reads are done
    if (sid == 0u) { partial[lid / size] = t; }
    workgroupBarrier();
    if (count == 1u) { break; }
    v = select(0.0, partial[min(lid, count - 1u)], lid < count);
  }
  if (lid == 0u) { out[0] = partial[0] * p.s; }
}
