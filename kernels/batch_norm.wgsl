// Batch norm over NCHW f32: batch statistics, apply (+ residual, + ReLU), and backward.
// Legend: N images, C channels, HW = H·W values of one plane, M = N·HW values per channel,
// S = chunks the batch is split into for the two-level reductions: chunk s holds images
// [s·NS, min((s+1)·NS, N)). Threads take runs of V consecutive values (V divides HW).
// Every output is WRITTEN (never accumulated), gradients included; only `finalizeStats`
// updates in place (the running statistics).

override WG: u32 = 64u;      // elementwise passes: threads per workgroup
override RWG: u32 = 64u;     // reductions: threads per workgroup (power of two, ≤ 256)
override V: u32 = 1u;        // values per run
override RELU: bool = false; // y = max(·, 0); backward masks gy where y ≤ 0
override RES: bool = false;  // y includes `res`; backward reads the ReLU mask from ySaved
                             // (without RES it recomputes the mask from x)

struct Params {
  N: u32, C: u32, HW: u32,
  S: u32, NS: u32, // chunks per channel, images per chunk
  eps: f32,
  momentum: f32,   // running = (1 − momentum)·running + momentum·batch
  k: f32,          // backward: 1 in training (batch statistics), 0 in eval (affine only)
}

@group(0) @binding(0) var<storage, read> x: array<f32>;              // [N, C, H, W]
@group(0) @binding(1) var<storage, read_write> y: array<f32>;        // [N, C, H, W]
@group(0) @binding(2) var<storage, read> res: array<f32>;            // [N, C, H, W] residual
@group(0) @binding(3) var<storage, read> weight: array<f32>;         // [C]
@group(0) @binding(4) var<storage, read> bias: array<f32>;           // [C]
@group(0) @binding(5) var<storage, read_write> part: array<f32>;     // [3 or 2, C, S] partials
@group(0) @binding(6) var<storage, read_write> mean: array<f32>;     // [C]
@group(0) @binding(7) var<storage, read_write> invstd: array<f32>;   // [C] 1/sqrt(var + eps)
@group(0) @binding(8) var<storage, read_write> runMean: array<f32>;  // [C]
@group(0) @binding(9) var<storage, read_write> runVar: array<f32>;   // [C]
@group(0) @binding(10) var<storage, read> gy: array<f32>;            // [N, C, H, W]
@group(0) @binding(11) var<storage, read> ySaved: array<f32>;        // [N, C, H, W] forward y
@group(0) @binding(12) var<storage, read_write> dx: array<f32>;      // [N, C, H, W]
@group(0) @binding(13) var<storage, read_write> dres: array<f32>;    // [N, C, H, W]
@group(0) @binding(14) var<storage, read_write> dweight: array<f32>; // [C]
@group(0) @binding(15) var<storage, read_write> dbias: array<f32>;   // [C]
@group(0) @binding(16) var<uniform> p: Params;
@group(0) @binding(17) var<storage, read_write> coef: array<f32>;    // [C, 5] DxCoef per channel

var<workgroup> wa: array<f32, 256>;
var<workgroup> wb: array<f32, 256>;
var<workgroup> wc: array<f32, 256>;

// First value of this invocation's run in an elementwise pass.
fn runStart(wid: vec3u, nwg: vec3u, lid: u32) -> u32 {
  return ((wid.y * nwg.x + wid.x) * WG + lid) * V;
}

// A reduction thread's walk over one (channel c, chunk s): run j starts at image n, offset hw.
struct Walk { n: u32, hw: u32, dn: u32, dhw: u32, runs: u32 }

fn walk(s: u32, lid: u32) -> Walk {
  let n0 = s * p.NS;
  let perPlane = p.HW / V;
  let step = RWG * V;
  return Walk(n0 + lid / perPlane, (lid % perPlane) * V, step / p.HW, step % p.HW,
              (min(n0 + p.NS, p.N) - n0) * perPlane);
}

fn advance(w: ptr<function, Walk>) {
  (*w).hw += (*w).dhw;
  (*w).n += (*w).dn;
  if ((*w).hw >= p.HW) { (*w).hw -= p.HW; (*w).n += 1u; }
}

// This thread's Welford count, mean and M2 over its runs of (channel c, chunk s).
struct Welford { n: f32, mu: f32, m2: f32 }

fn threadStats(c: u32, s: u32, lid: u32) -> Welford {
  var w = walk(s, lid);
  var cnt = 0.0;
  var mu = 0.0;
  var m2 = 0.0;
  for (var j = lid; j < w.runs; j += RWG) {
    let i0 = (w.n * p.C + c) * p.HW + w.hw;
    for (var k = 0u; k < V; k++) {
      let v = x[i0 + k];
      cnt += 1.0;
      let d = v - mu;
      mu += d / cnt;
      m2 += d * (v - mu);
    }
    advance(&w);
  }
  return Welford(cnt, mu, m2);
}

// Training pass 1, workgroup (s, c): Welford per thread, Chan merge across the workgroup.
// part[0|1|2, c, s] = count, mean, M2 (sum of squares about the mean).
@compute @workgroup_size(RWG)
fn stats(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let c = wid.y;
  let t = threadStats(c, wid.x, lid);
  wa[lid] = t.n;
  wb[lid] = t.mu;
  wc[lid] = t.m2;
  workgroupBarrier();
  for (var h = RWG / 2u; h > 0u; h >>= 1u) {
    if (lid < h && wa[lid + h] > 0.0) {
      let na = wa[lid];
      let nb = wa[lid + h];
      let n = na + nb;
      let d = wb[lid + h] - wb[lid];
      wa[lid] = n;
      wb[lid] += d * (nb / n);
      wc[lid] += wc[lid + h] + d * d * (na * nb / n);
    }
    workgroupBarrier();
  }
  if (lid < 3u) {
    part[(lid * p.C + c) * p.S + wid.x] = select(select(wc[0], wb[0], lid == 1u), wa[0], lid == 0u);
  }
}

// Training pass 2, thread per channel: merge the S partials; write mean, invstd (biased
// variance); update the running statistics in place (unbiased variance).
@compute @workgroup_size(64)
fn finalizeStats(@builtin(global_invocation_id) gid: vec3u) {
  let c = gid.x;
  if (c >= p.C) { return; }
  var n = 0.0;
  var mu = 0.0;
  var m2 = 0.0;
  for (var s = 0u; s < p.S; s++) {
    let nb = part[c * p.S + s];
    let t = n + nb;
    let d = part[(p.C + c) * p.S + s] - mu;
    mu += d * (nb / t);
    m2 += part[(2u * p.C + c) * p.S + s] + d * d * (n * nb / t);
    n = t;
  }
  mean[c] = mu;
  invstd[c] = inverseSqrt(m2 / n + p.eps);
  runMean[c] = (1.0 - p.momentum) * runMean[c] + p.momentum * mu;
  runVar[c] = (1.0 - p.momentum) * runVar[c] + p.momentum * (m2 / (n - 1.0));
}

// Eval, thread per channel: mean and invstd from the running statistics.
@compute @workgroup_size(64)
fn evalStats(@builtin(global_invocation_id) gid: vec3u) {
  let c = gid.x;
  if (c >= p.C) { return; }
  mean[c] = runMean[c];
  invstd[c] = inverseSqrt(runVar[c] + p.eps);
}

// Per-channel constants, loaded once per invocation (storage loads are not hoisted for us).
struct Chan { mu: f32, a: f32, b: f32 }

fn chan(c: u32) -> Chan {
  return Chan(mean[c], invstd[c] * weight[c], bias[c]);
}

// The normalized, scaled and shifted value (before residual and ReLU).
fn affine(v: f32, q: Chan) -> f32 {
  return (v - q.mu) * q.a + q.b;
}

// y = affine(x) [+ res] [then ReLU].
@compute @workgroup_size(WG)
fn apply(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i0 = runStart(wid, nwg, lid);
  if (i0 >= p.N * p.C * p.HW) { return; }
  let q = chan((i0 / p.HW) % p.C);
  for (var i = i0; i < i0 + V; i++) {
    var v = affine(x[i], q);
    if (RES) { v += res[i]; }
    if (RELU) { v = max(v, 0.0); }
    y[i] = v;
  }
}

// gy masked by the ReLU: from the saved output with a residual, else recomputed from x
// (the expression of `apply`, so the same mask, without reading y). Unused bindings
// (ySaved without RES) may be bound to any tensor.
fn maskedGrad(i: u32, v: f32, q: Chan) -> f32 {
  if (!RELU) { return gy[i]; }
  var z: f32;
  if (RES) { z = ySaved[i]; } else { z = affine(v, q); }
  return select(gy[i], 0.0, z <= 0.0);
}

// This thread's Σ g and Σ g·(x − mean) over its runs of (channel c, chunk s).
struct GradSums { g: f32, gx: f32 }

fn threadGradSums(c: u32, s: u32, lid: u32) -> GradSums {
  let q = chan(c);
  var w = walk(s, lid);
  var sg = 0.0;
  var sgx = 0.0;
  for (var j = lid; j < w.runs; j += RWG) {
    let i0 = (w.n * p.C + c) * p.HW + w.hw;
    for (var i = i0; i < i0 + V; i++) {
      let v = x[i];
      let g = maskedGrad(i, v, q);
      sg += g;
      sgx += g * (v - q.mu);
    }
    advance(&w);
  }
  return GradSums(sg, sgx);
}

// Backward pass 1, workgroup (s, c): part[0|1, c, s] = Σ g and Σ g·(x − mean).
@compute @workgroup_size(RWG)
fn backwardReduce(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let c = wid.y;
  let t = threadGradSums(c, wid.x, lid);
  wa[lid] = t.g;
  wb[lid] = t.gx;
  workgroupBarrier();
  for (var h = RWG / 2u; h > 0u; h >>= 1u) {
    if (lid < h) {
      wa[lid] += wa[lid + h];
      wb[lid] += wb[lid + h];
    }
    workgroupBarrier();
  }
  if (lid < 2u) { part[(lid * p.C + c) * p.S + wid.x] = select(wb[0], wa[0], lid == 0u); }
}

// dx = weight·invstd·(g − k·(dbias + x̂·dweight)/M) = a·g − kb·(x − mean) − kd, per channel
// with the forward's constants (mu, a, b) for the ReLU mask: pass 3 reads this one array, not
// seven, so it binds 5 or 6 storage buffers (WebGPU's default limit is 8).
struct DxCoef { mu: f32, a: f32, b: f32, kb: f32, kd: f32 }

fn dxCoef(c: u32) -> DxCoef {
  let o = 5u * c;
  return DxCoef(coef[o], coef[o + 1u], coef[o + 2u], coef[o + 3u], coef[o + 4u]);
}

// Backward pass 2, thread per channel: dbias = Σ g, dweight = Σ g·x̂, and pass 3's constants.
@compute @workgroup_size(64)
fn backwardFinalize(@builtin(global_invocation_id) gid: vec3u) {
  let c = gid.x;
  if (c >= p.C) { return; }
  var sg = 0.0;
  var sgx = 0.0;
  for (var s = 0u; s < p.S; s++) {
    sg += part[c * p.S + s];
    sgx += part[(p.C + c) * p.S + s];
  }
  let dw = sgx * invstd[c];
  dbias[c] = sg;
  dweight[c] = dw;
  let q = chan(c);
  let m = f32(p.N * p.HW);
  coef[5u * c] = q.mu;
  coef[5u * c + 1u] = q.a;
  coef[5u * c + 2u] = q.b;
  coef[5u * c + 3u] = p.k * q.a * invstd[c] * dw / m;
  coef[5u * c + 4u] = p.k * q.a * sg / m;
}

// Backward pass 3: dx.
@compute @workgroup_size(WG)
fn backwardDx(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i0 = runStart(wid, nwg, lid);
  if (i0 >= p.N * p.C * p.HW) { return; }
  let d = dxCoef((i0 / p.HW) % p.C);
  let q = Chan(d.mu, d.a, d.b);
  for (var i = i0; i < i0 + V; i++) {
    let v = x[i];
    dx[i] = d.a * maskedGrad(i, v, q) - d.kb * (v - d.mu) - d.kd;
  }
}

// Backward pass 3 with a residual: dx, and dres = g.
@compute @workgroup_size(WG)
fn backwardDxRes(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i0 = runStart(wid, nwg, lid);
  if (i0 >= p.N * p.C * p.HW) { return; }
  let d = dxCoef((i0 / p.HW) % p.C);
  let q = Chan(d.mu, d.a, d.b);
  for (var i = i0; i < i0 + V; i++) {
    let v = x[i];
    let g = maskedGrad(i, v, q);
    dx[i] = d.a * g - d.kb * (v - d.mu) - d.kd;
    dres[i] = g;
  }
}
