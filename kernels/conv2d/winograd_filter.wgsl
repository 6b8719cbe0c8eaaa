// Winograd F(2×2,3×3) filter transforms: U = G g Gᵀ (3×3 → 4×4) for the forward and
// backward-input GEMMs, and the backward-weight fold gw = Gᵀ dU G (4×4 → 3×3).
//   G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1]
// Flipping g (backward-input convolves with w[k][c][2−r][2−s]) is G J = P G with P swapping
// rows 0 and 3, so the flipped filter's tile is U with rows and cols permuted by π = (3 1 2 0).
// Legend: K output channels, C input channels, Kp/Cp rows padded to the GEMM block (the
// padding is zero from allocation and never written). All kernels WRITE their outputs.

override WG: u32 = 64u;

struct Filt {
  K: u32, C: u32, Kp: u32, Cp: u32,
}

@group(0) @binding(0) var<storage, read> w: array<f32>;          // [K, C, 3, 3]
@group(0) @binding(1) var<storage, read_write> uf: array<f32>;   // [16][C][Kp] forward A
@group(0) @binding(2) var<storage, read_write> ub: array<f32>;   // [16][K][Cp] backward-input A
@group(0) @binding(3) var<uniform> fq: Filt;
@group(0) @binding(4) var<storage, read> du: array<f32>;         // [S=1][16][K][Cp] dL/dU
@group(0) @binding(5) var<storage, read_write> gw: array<f32>;   // [K, C, 3, 3]

fn index(wid: vec3u, nwg: vec3u, lid: u32) -> u32 {
  return (wid.y * nwg.x + wid.x) * WG + lid;
}

fn gt(v: vec3<f32>) -> vec4<f32> {
  return vec4(v.x, 0.5 * (v.x + v.y + v.z), 0.5 * (v.x - v.y + v.z), v.z);
}

// One (k, c): U = G g Gᵀ into uf[ξ][c][k] and, permuted by π, into ub[ξ][k][c].
@compute @workgroup_size(WG)
fn filterTiles(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = index(wid, nwg, lid);
  if (i >= fq.K * fq.C) { return; }
  let k = i / fq.C;
  let c = i % fq.C;
  let o = i * 9u;
  let g0 = vec3(w[o], w[o + 1u], w[o + 2u]);
  let g1 = vec3(w[o + 3u], w[o + 4u], w[o + 5u]);
  let g2 = vec3(w[o + 6u], w[o + 7u], w[o + 8u]);
  // Rows of G g (vec3 over s), then each row times Gᵀ.
  let u0 = gt(g0);
  let u1 = gt(0.5 * (g0 + g1 + g2));
  let u2 = gt(0.5 * (g0 - g1 + g2));
  let u3 = gt(g2);
  let sf = fq.C * fq.Kp;
  let sb = fq.K * fq.Cp;
  let oF = c * fq.Kp + k;
  let oB = k * fq.Cp + c;
  let rows = mat4x4<f32>(u0, u1, u2, u3);
  for (var a = 0u; a < 4u; a++) {
    for (var b = 0u; b < 4u; b++) {
      let v = rows[a][b];
      uf[(a * 4u + b) * sf + oF] = v;
      let pa = select(select(a, 0u, a == 3u), 3u, a == 0u);
      let pb = select(select(b, 0u, b == 3u), 3u, b == 0u);
      ub[(pa * 4u + pb) * sb + oB] = v;
    }
  }
}

fn g4(v: vec4<f32>) -> vec3<f32> {
  return vec3(v.x + 0.5 * (v.y + v.z), 0.5 * (v.y - v.z), 0.5 * (v.y + v.z) + v.w);
}

// One (k, c): gw = Gᵀ dU G, dU[ξ] read at ξ·K·Cp + k·Cp + c.
@compute @workgroup_size(WG)
fn filterGrad(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = index(wid, nwg, lid);
  if (i >= fq.K * fq.C) { return; }
  let k = i / fq.C;
  let c = i % fq.C;
  let s = fq.K * fq.Cp;
  let o = k * fq.Cp + c;
  let d0 = vec4(du[o], du[o + s], du[o + 2u * s], du[o + 3u * s]);
  let d1 = vec4(du[o + 4u * s], du[o + 5u * s], du[o + 6u * s], du[o + 7u * s]);
  let d2 = vec4(du[o + 8u * s], du[o + 9u * s], du[o + 10u * s], du[o + 11u * s]);
  let d3 = vec4(du[o + 12u * s], du[o + 13u * s], du[o + 14u * s], du[o + 15u * s]);
  let e0 = g4(d0 + 0.5 * (d1 + d2));
  let e1 = g4(0.5 * (d1 - d2));
  let e2 = g4(0.5 * (d1 + d2) + d3);
  let q = i * 9u;
  gw[q] = e0.x; gw[q + 1u] = e0.y; gw[q + 2u] = e0.z;
  gw[q + 3u] = e1.x; gw[q + 4u] = e1.y; gw[q + 5u] = e1.z;
  gw[q + 6u] = e2.x; gw[q + 7u] = e2.y; gw[q + 8u] = e2.z;
}
