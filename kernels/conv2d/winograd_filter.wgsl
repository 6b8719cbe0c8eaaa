// Winograd F(m×m,3×3) filter transforms, m = 2 or 4, α = m + 2: U = G g Gᵀ (3×3 → α×α) for
// the forward and backward-input GEMMs, and the backward-weight fold gw = Gᵀ dU G (α×α → 3×3).
// Backward-input convolves with the flipped, transposed filters w[k][c][2−r][2−s], so ub holds
// the transform of the flipped g, laid out [ξ][k][c].
// Legend: K output channels, C input channels, Kp/Cp rows padded to the GEMM block (the
// padding is zeroed at allocation and never written). All kernels WRITE their outputs.
//
// TEMPLATE: engine/ops/conv2d/winograd_codegen.ts writes the "@generated" lines out for one m.

override WG: u32 = 64u;
// Which transforms filterTiles writes: 1 uf (forward), 2 ub (backward-input), 3 both.
override LAYOUTS: u32 = 3u;
// @generated constants: MT (output tile m), ALPHA (input tile α), NX = α²

struct Filt {
  K: u32, C: u32, Kp: u32, Cp: u32,
  sf: u32, sb: u32, // plane strides of uf (and du) and ub, a little over C·Kp and K·Cp
}

@group(0) @binding(0) var<storage, read> w: array<f32>;          // [K, C, 3, 3]
@group(0) @binding(1) var<storage, read_write> uf: array<f32>;   // [NX][C][Kp] forward A, planes sf apart
@group(0) @binding(2) var<storage, read_write> ub: array<f32>;   // [NX][K][Cp] backward-input A, planes sb apart
@group(0) @binding(3) var<uniform> fq: Filt;
@group(0) @binding(4) var<storage, read> du: array<f32>;         // [NX][K][Cp] dL/dU, planes sf apart
@group(0) @binding(5) var<storage, read_write> gw: array<f32>;   // [K, C, 3, 3]

fn index(wid: vec3u, nwg: vec3u, lid: u32) -> u32 {
  return (wid.y * nwg.x + wid.x) * WG + lid;
}

// One (k, c) per lane, a 16×16 block of them per workgroup: U = G g Gᵀ into uf[ξ][c][k], and the
// flipped g's into ub[ξ][k][c]. The block makes both transposed writes whole cache lines (16
// floats of k in uf, of c in ub); one (k, c) per lane in a row measured 2–3× slower on lavapipe,
// whose uf writes, Kp floats apart, each touched a line of their own.
@compute @workgroup_size(16, 16)
fn filterTiles(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let k = wid.y * 16u + lid.y;
  let c = wid.x * 16u + lid.x;
  if (k >= fq.K || c >= fq.C) { return; }
  let o = (k * fq.C + c) * 9u;
  let sf = fq.sf;
  let sb = fq.sb;
  let oF = c * fq.Kp + k;
  let oB = k * fq.Cp + c;
  // @generated filter: g_r_s = w[o + 3r + s]; u = G g Gᵀ into uf[ξ·sf + oF] (LAYOUTS bit 1),
  // f = G flip(g) Gᵀ into ub[ξ·sb + oB] (bit 2)
}

// One (k, c): gw = Gᵀ dU G, dU[ξ] read at ξ·sf + k·Cp + c.
@compute @workgroup_size(WG)
fn filterGrad(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = index(wid, nwg, lid);
  if (i >= fq.K * fq.C) { return; }
  let k = i / fq.C;
  let c = i % fq.C;
  let s = fq.sf;
  let o = k * fq.Cp + c;
  let q = i * 9u;
  // @generated fold: e_i_j = du[o + ξ·s]; gw[q + 3r + s] = (Gᵀ e G)[r][s]
}
