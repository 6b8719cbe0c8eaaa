// Subgroup variants of batch_norm.wgsl's two per-channel reductions (needs the `subgroups`
// feature). Not a module of its own: engine/ops/batch_norm.ts compiles
// `enable subgroups;` + batch_norm.wgsl + this file, and only on a device that has the feature
// (Naga, in Deno, refuses the extension). Each level merges one subgroup's partials with
// subgroupAdd and keeps one per subgroup in workgroup memory, so RWG values take
// log_size(RWG) levels and barrier pairs instead of log2(RWG) (64 values at SwiftShader's size
// 4: 3 instead of 6). Any subgroup size works (WebGPU's are 4 … 128); subgroup k is taken to be
// invocations k·size … (k+1)·size − 1, as in reduce_subgroups.wgsl. Outputs as the tree kernels.

// stats: per thread Welford, then per subgroup n = Σ nᵢ, mean = Σ nᵢ·meanᵢ / n and
// M2 = Σ (M2ᵢ + nᵢ·(meanᵢ − mean)²), the exact merge of groups (Chan's, for many at once).
@compute @workgroup_size(RWG)
fn statsSubgroups(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32,
                  @builtin(subgroup_invocation_id) sid: u32, @builtin(subgroup_size) size: u32) {
  let c = wid.y;
  let t = threadStats(c, wid.x, lid);
  var cnt = t.n;
  var mu = t.mu;
  var m2 = t.m2;
  var count = RWG; // partials left, held by invocations 0 … count − 1 (the others hold n = 0)
  loop {
    let n = subgroupAdd(cnt);
    let m = select(0.0, subgroupAdd(cnt * mu) / max(n, 1.0), n > 0.0);
    let d = mu - m;
    let q = subgroupAdd(m2 + cnt * d * d);
    count = (count + size - 1u) / size;
    workgroupBarrier(); // the previous level's reads are done
    if (sid == 0u) {
      wa[lid / size] = n;
      wb[lid / size] = m;
      wc[lid / size] = q;
    }
    workgroupBarrier();
    if (count == 1u) { break; }
    let k = min(lid, count - 1u);
    let live = lid < count;
    cnt = select(0.0, wa[k], live);
    mu = select(0.0, wb[k], live);
    m2 = select(0.0, wc[k], live);
  }
  if (lid < 3u) {
    part[(lid * p.C + c) * p.S + wid.x] = select(select(wc[0], wb[0], lid == 1u), wa[0], lid == 0u);
  }
}

// backwardReduce: part[0|1, c, s] = Σ g and Σ g·(x − mean), the two sums by subgroupAdd levels.
@compute @workgroup_size(RWG)
fn backwardReduceSubgroups(@builtin(workgroup_id) wid: vec3u,
                           @builtin(local_invocation_index) lid: u32,
                           @builtin(subgroup_invocation_id) sid: u32,
                           @builtin(subgroup_size) size: u32) {
  let c = wid.y;
  let t = threadGradSums(c, wid.x, lid);
  var sg = t.g;
  var sgx = t.gx;
  var count = RWG;
  loop {
    let a = subgroupAdd(sg);
    let b = subgroupAdd(sgx);
    count = (count + size - 1u) / size;
    workgroupBarrier();
    if (sid == 0u) {
      wa[lid / size] = a;
      wb[lid / size] = b;
    }
    workgroupBarrier();
    if (count == 1u) { break; }
    let k = min(lid, count - 1u);
    sg = select(0.0, wa[k], lid < count);
    sgx = select(0.0, wb[k], lid < count);
  }
  if (lid < 2u) { part[(lid * p.C + c) * p.S + wid.x] = select(wb[0], wa[0], lid == 0u); }
}
