// Conv2d forward and backward-input as one register-blocked gather GEMM (no workgroup memory).
// Legend: N batch, C' reduction channels (C forward, K backward-input), M output channels
// (K forward, C backward-input), IH×IW input plane, OH×OW output plane, NU×NV taps, SI input
// step per output step. The output grid of one dispatch is GR×GC positions
// (oh, ow) = (OR0 + OS·i, OC0 + OS·j) reading input rows RB + SI·i + u, cols CB + SI·j + v.
// Forward: OS = 1, SI = stride, RB = CB = −padding. Backward-input runs one dispatch per stride
// class (OR0, OC0) with the class's taps, flipped, and SI = 1 (see engine/ops/conv2d.ts).
// Each invocation computes TM channels × TP×TQ positions: per reduction channel it loads the
// weights once and every input pixel of its patch once, then does all TM·TP·TQ·NU·NV FMAs in
// registers. Out-of-range outputs and channels are masked. Writes (no accumulation).

override WG: u32 = 64u;
override TM: u32 = 8u;  // output channels per invocation, multiple of 4, ≤ 16
override TP: u32 = 4u;  // output rows per invocation
override TQ: u32 = 4u;  // output cols per invocation; TM·TP·TQ ≤ 256
override NU: u32 = 3u;  // tap rows; NU·NV·TM ≤ 256
override NV: u32 = 3u;  // tap cols; (TQ−1)·SI + NV ≤ 32
override SI: u32 = 1u;  // input step per output step

struct Geo {
  N: u32, Cin: u32, IH: u32, IW: u32,
  M: u32, Mp: u32, OH: u32, OW: u32,
  GR: u32, GC: u32, OR0: u32, OC0: u32,
  OS: u32, RB: i32, CB: i32, hasBias: u32,
  tilesR: u32, tilesC: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;         // [N, C', IH, IW]
@group(0) @binding(1) var<storage, read> wt: array<vec4<f32>>;  // [C', NU, NV, Mp/4]
@group(0) @binding(2) var<storage, read> bias: array<f32>;      // [M] (read when hasBias = 1)
@group(0) @binding(3) var<storage, read_write> y: array<f32>;   // [N, M, OH, OW]
@group(0) @binding(4) var<uniform> g: Geo;

@compute @workgroup_size(WG)
fn gatherBlocked(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let id = (wid.y * nwg.x + wid.x) * WG + lid;
  let tiles = g.tilesR * g.tilesC;
  let mBlocks = g.Mp / TM;
  if (id >= g.N * tiles * mBlocks) { return; }
  let t = id % tiles;
  let n = (id / tiles) % g.N;
  let mb = id / (tiles * g.N);
  let i0 = (t / g.tilesC) * TP;
  let j0 = (t % g.tilesC) * TQ;
  let rowStart = g.RB + i32(i0 * SI);
  let colStart = g.CB + i32(j0 * SI);
  let M4 = TM / 4u;
  let mp4 = g.Mp / 4u;

  var acc: array<vec4<f32>, 64>;  // [TP·TQ][TM/4]
  for (var c = 0u; c < g.Cin; c++) {
    var wv: array<vec4<f32>, 64>;  // [NU·NV][TM/4]
    let wBase = c * NU * NV * mp4 + mb * M4;
    for (var uv = 0u; uv < NU * NV; uv++) {
      for (var m4 = 0u; m4 < M4; m4++) { wv[uv * M4 + m4] = wt[wBase + uv * mp4 + m4]; }
    }
    let plane = (n * g.Cin + c) * g.IH * g.IW;
    for (var a = 0u; a < (TP - 1u) * SI + NU; a++) {
      let ih = rowStart + i32(a);
      let rowOk = ih >= 0 && ih < i32(g.IH);
      var row: array<f32, 32>;
      for (var b = 0u; b < (TQ - 1u) * SI + NV; b++) {
        let iw = colStart + i32(b);
        let ok = rowOk && iw >= 0 && iw < i32(g.IW);
        let v = x[select(0u, plane + u32(ih) * g.IW + u32(iw), ok)];
        row[b] = select(0.0, v, ok);
      }
      for (var u = 0u; u < NU; u++) {
        if (a < u || (a - u) % SI != 0u || (a - u) / SI >= TP) { continue; }
        let i = (a - u) / SI;
        for (var v = 0u; v < NV; v++) {
          for (var j = 0u; j < TQ; j++) {
            let xv = vec4(row[j * SI + v]);
            for (var m4 = 0u; m4 < M4; m4++) {
              let k = (i * TQ + j) * M4 + m4;
              acc[k] = fma(wv[(u * NV + v) * M4 + m4], xv, acc[k]);
            }
          }
        }
      }
    }
  }

  for (var i = 0u; i < TP; i++) {
    for (var j = 0u; j < TQ; j++) {
      if (i0 + i >= g.GR || j0 + j >= g.GC) { continue; }
      let pos = (g.OR0 + g.OS * (i0 + i)) * g.OW + g.OC0 + g.OS * (j0 + j);
      for (var m = 0u; m < TM; m++) {
        let mm = mb * TM + m;
        if (mm >= g.M) { continue; }
        var out = acc[(i * TQ + j) * M4 + m / 4u][m % 4u];
        if (g.hasBias == 1u) { out += bias[mm]; }
        y[(n * g.M + mm) * g.OH * g.OW + pos] = out;
      }
    }
  }
}
