// Conv2d backward-weight, register-blocked split-K (no workgroup memory):
// part[t][k][c][r][s] = Σ over the (image, output tile) items of chunk t of
//                       Σ_{p,q in tile} gy[n][k][p][q] · x[n][c][p·ST + r − pad][q·ST + s − pad].
// Legend: N batch, C input channels, H×W input plane, K output channels, P×Q output plane,
// R×S taps, ST stride, T chunks. Each invocation owns TK output channels × TC input channels
// × all R·S taps and walks its chunk of items; per item it loads the TK×TP×TQ gradient tile
// and each input pixel of the TC patches once. The chunks are summed by reducePartials
// (kernels/conv2d_util.wgsl), or T = 1 and part is the weight gradient. Writes (no accumulation).

override WG: u32 = 64u;
override TK: u32 = 4u;  // output channels per invocation, multiple of 4
override TC: u32 = 4u;  // input channels per invocation; TC·R·S·TK ≤ 512
override TP: u32 = 4u;  // output rows per item; TP·TQ·TK ≤ 256
override TQ: u32 = 4u;  // output cols per item; (TQ−1)·ST + S ≤ 32
override R: u32 = 3u;
override S: u32 = 3u;
override ST: u32 = 1u;

struct Geo {
  N: u32, C: u32, H: u32, W: u32,
  K: u32, P: u32, Q: u32, pad: i32,
  tilesR: u32, tilesC: u32, items: u32, chunkLen: u32,
  T: u32, kBlocks: u32, cBlocks: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;          // [N, C, H, W]
@group(0) @binding(1) var<storage, read> gy: array<f32>;         // [N, K, P, Q]
@group(0) @binding(2) var<storage, read_write> part: array<f32>; // [T, K, C, R, S]
@group(0) @binding(3) var<uniform> g: Geo;

@compute @workgroup_size(WG)
fn weightBlocked(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let id = (wid.y * nwg.x + wid.x) * WG + lid;
  if (id >= g.kBlocks * g.cBlocks * g.T) { return; }
  let kb = id % g.kBlocks;
  let cb = (id / g.kBlocks) % g.cBlocks;
  let t = id / (g.kBlocks * g.cBlocks);
  let KV = TK / 4u;
  let tiles = g.tilesR * g.tilesC;
  let item1 = min(g.items, (t + 1u) * g.chunkLen);

  var acc: array<vec4<f32>, 128>;  // [TC·R·S][TK/4]
  for (var item = t * g.chunkLen; item < item1; item++) {
    let n = item / tiles;
    let p0 = ((item % tiles) / g.tilesC) * TP;
    let q0 = (item % g.tilesC) * TQ;
    var gv: array<vec4<f32>, 64>;  // [TP·TQ][TK/4]
    for (var i = 0u; i < TP; i++) {
      for (var j = 0u; j < TQ; j++) {
        let inside = p0 + i < g.P && q0 + j < g.Q;
        for (var k = 0u; k < TK; k++) {
          let kk = kb * TK + k;
          let ok = inside && kk < g.K;
          let v = gy[select(0u, ((n * g.K + kk) * g.P + p0 + i) * g.Q + q0 + j, ok)];
          gv[(i * TQ + j) * KV + k / 4u][k % 4u] = select(0.0, v, ok);
        }
      }
    }
    let rowStart = i32(p0 * ST) - g.pad;
    let colStart = i32(q0 * ST) - g.pad;
    for (var cc = 0u; cc < TC; cc++) {
      let c = cb * TC + cc;
      if (c >= g.C) { continue; }
      let plane = (n * g.C + c) * g.H * g.W;
      for (var a = 0u; a < (TP - 1u) * ST + R; a++) {
        let ih = rowStart + i32(a);
        let rowOk = ih >= 0 && ih < i32(g.H);
        var row: array<f32, 32>;
        for (var b = 0u; b < (TQ - 1u) * ST + S; b++) {
          let iw = colStart + i32(b);
          let ok = rowOk && iw >= 0 && iw < i32(g.W);
          row[b] = select(0.0, x[select(0u, plane + u32(ih) * g.W + u32(iw), ok)], ok);
        }
        for (var r = 0u; r < R; r++) {
          if (a < r || (a - r) % ST != 0u || (a - r) / ST >= TP) { continue; }
          let i = (a - r) / ST;
          for (var s = 0u; s < S; s++) {
            for (var j = 0u; j < TQ; j++) {
              let xv = vec4(row[j * ST + s]);
              for (var k4 = 0u; k4 < KV; k4++) {
                let o = ((cc * R + r) * S + s) * KV + k4;
                acc[o] = fma(gv[(i * TQ + j) * KV + k4], xv, acc[o]);
              }
            }
          }
        }
      }
    }
  }

  for (var k = 0u; k < TK; k++) {
    let kk = kb * TK + k;
    for (var cc = 0u; cc < TC; cc++) {
      let c = cb * TC + cc;
      if (kk >= g.K || c >= g.C) { continue; }
      for (var rs = 0u; rs < R * S; rs++) {
        part[((t * g.K + kk) * g.C + c) * R * S + rs] = acc[(cc * R * S + rs) * KV + k / 4u][k % 4u];
      }
    }
  }
}
