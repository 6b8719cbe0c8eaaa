// Winograd F(m×m,3×3) filter transforms, m = 2 or 4, α = m + 2: U = G g Gᵀ (3×3 → α×α) for
// the forward and backward-input GEMMs, and the backward-weight fold gw = Gᵀ dU G (α×α → 3×3).
// Backward-input convolves with the flipped, transposed filters w[k][c][2−r][2−s], so ub holds
// the transform of the flipped g, laid out [ξ][k][c].
// Legend: K output channels, C input channels, Kp/Cp rows padded (to the GEMM block for uf and
// ub, to 4 for du); padding rows are written as zeros. Each invocation handles four filters
// along its output's contiguous axis and stores vec4s: lavapipe writes a vec4 from one
// invocation ~3× faster than scalars from several (the transformed filters, 16/9 to 4× the
// weights, are mostly write time there). All kernels WRITE their outputs.
//
// TEMPLATE: engine/ops/conv2d/winograd_codegen.ts writes the "@generated" lines out for one m.

override WG: u32 = 64u;
// @generated constants: MT (output tile m), ALPHA (input tile α), NX = α²

struct Filt {
  K: u32, C: u32, Kp: u32, Cp: u32,
  sf: u32, sb: u32, // plane strides of uf (and du) and ub, a little over C·Kp and K·Cp
}

@group(0) @binding(0) var<storage, read> w: array<f32>;                // [K, C, 3, 3]
@group(0) @binding(1) var<storage, read_write> uf: array<vec4<f32>>;   // [NX][C][Kp] forward A, planes sf apart
@group(0) @binding(2) var<storage, read_write> ub: array<vec4<f32>>;   // [NX][K][Cp] backward-input A, planes sb apart
@group(0) @binding(3) var<uniform> fq: Filt;
@group(0) @binding(4) var<storage, read> du: array<vec4<f32>>;         // [NX][K][Cp] dL/dU, planes sf apart
@group(0) @binding(5) var<storage, read_write> gw: array<f32>;         // [K, C, 3, 3]

fn index(wid: vec3u, nwg: vec3u, lid: u32) -> u32 {
  return (wid.y * nwg.x + wid.x) * WG + lid;
}

// Weight (r, s) of filter (k, c), zero outside K × C (the padding rows).
fn tap(k: u32, c: u32, rs: u32) -> f32 {
  // `&`, not `&&`: Tint makes && into branches, and SwiftShader (Chromium) never
  // finishes compiling them in unrolled code (the operands have no side effects).
  let ok = (k < fq.K) & (c < fq.C);
  return select(0.0, w[select(0u, (k * fq.C + c) * 9u + rs, ok)], ok);
}

// Filters (k0 … k0+3, c): U = G g Gᵀ into uf[ξ][c][k0 … k0+3], one vec4 per ξ.
@compute @workgroup_size(WG)
fn filterForward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = index(wid, nwg, lid);
  let k4 = fq.Kp / 4u;
  if (i >= fq.C * k4) { return; }
  let k0 = (i % k4) * 4u;
  let c = i / k4;
  let o = c * k4 + i % k4;
  let s = fq.sf / 4u;
  // @generated forward: g_q_r_s = tap(k0 + q, c, 3r + s); u_q = G g_q Gᵀ; uf[o + ξ·s] = vec4 over q
}

// Filters (k, c0 … c0+3), flipped: G flip(g) Gᵀ into ub[ξ][k][c0 … c0+3], one vec4 per ξ.
@compute @workgroup_size(WG)
fn filterBackward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = index(wid, nwg, lid);
  let c4 = fq.Cp / 4u;
  if (i >= fq.K * c4) { return; }
  let c0 = (i % c4) * 4u;
  let k = i / c4;
  let o = k * c4 + i % c4;
  let s = fq.sb / 4u;
  // @generated backward: g_q_r_s = tap(k, c0 + q, 8 − 3r − s); ub[o + ξ·s] = vec4 over q
}

// Filters (k, c0 … c0+3): gw = Gᵀ dU G, dU[ξ] read as a vec4 over c at ξ·sf + k·Cp + c0.
@compute @workgroup_size(WG)
fn filterGrad(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = index(wid, nwg, lid);
  let c4 = fq.Cp / 4u;
  if (i >= fq.K * c4) { return; }
  let c0 = (i % c4) * 4u;
  let k = i / c4;
  let o = k * c4 + i % c4;
  let s = fq.sf / 4u;
  // @generated fold: e_ξ = du[o + ξ·s]; per q with c0 + q < C: gw[(k·C + c0 + q)·9 + 3r + s] = (Gᵀ e.q G)[r][s]
}
