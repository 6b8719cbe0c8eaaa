// Float64 CPU reference for conv2d (NCHW): forward, backward-input, backward-weight, bias grad.

/** Geometry of one convolution: x [N,C,H,W] * w [K,C,R,S] → y [N,K,P,Q]. */
export interface ConvShape {
  N: number;
  C: number;
  H: number;
  W: number;
  K: number;
  R: number;
  S: number;
  stride: number;
  padding: number;
}

/** Output height and width of a convolution. */
export function convOut(s: ConvShape): { P: number; Q: number } {
  return {
    P: Math.floor((s.H + 2 * s.padding - s.R) / s.stride) + 1,
    Q: Math.floor((s.W + 2 * s.padding - s.S) / s.stride) + 1,
  };
}

/** Calls fn(n, k, p, q, c, r, s, xIndex, wIndex, yIndex) for every in-bounds tap. */
function eachTap(
  s: ConvShape,
  fn: (xi: number, wi: number, yi: number) => void,
): void {
  const { P, Q } = convOut(s);
  for (let n = 0; n < s.N; n++) {
    for (let k = 0; k < s.K; k++) {
      for (let p = 0; p < P; p++) {
        for (let q = 0; q < Q; q++) {
          const yi = ((n * s.K + k) * P + p) * Q + q;
          for (let c = 0; c < s.C; c++) {
            for (let r = 0; r < s.R; r++) {
              const h = p * s.stride + r - s.padding;
              if (h < 0 || h >= s.H) continue;
              for (let t = 0; t < s.S; t++) {
                const w = q * s.stride + t - s.padding;
                if (w < 0 || w >= s.W) continue;
                fn(((n * s.C + c) * s.H + h) * s.W + w, ((k * s.C + c) * s.R + r) * s.S + t, yi);
              }
            }
          }
        }
      }
    }
  }
}

/** y = conv(x, w) (+ bias per output channel). */
export function conv2dRef(
  s: ConvShape,
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  bias?: ArrayLike<number>,
): Float64Array {
  const { P, Q } = convOut(s);
  const y = new Float64Array(s.N * s.K * P * Q);
  eachTap(s, (xi, wi, yi) => y[yi] += x[xi] * w[wi]);
  if (bias) {
    for (let i = 0; i < y.length; i++) y[i] += bias[Math.floor(i / (P * Q)) % s.K];
  }
  return y;
}

/** dL/dx given gy = dL/dy. */
export function conv2dBackwardInputRef(
  s: ConvShape,
  gy: ArrayLike<number>,
  w: ArrayLike<number>,
): Float64Array {
  const gx = new Float64Array(s.N * s.C * s.H * s.W);
  eachTap(s, (xi, wi, yi) => gx[xi] += gy[yi] * w[wi]);
  return gx;
}

/** dL/dw given gy = dL/dy. */
export function conv2dBackwardWeightRef(
  s: ConvShape,
  x: ArrayLike<number>,
  gy: ArrayLike<number>,
): Float64Array {
  const gw = new Float64Array(s.K * s.C * s.R * s.S);
  eachTap(s, (xi, wi, yi) => gw[wi] += gy[yi] * x[xi]);
  return gw;
}

/** dL/dbias: gy summed over N, P, Q for each output channel. */
export function conv2dBiasGradRef(s: ConvShape, gy: ArrayLike<number>): Float64Array {
  const { P, Q } = convOut(s);
  const gb = new Float64Array(s.K);
  for (let i = 0; i < gy.length; i++) gb[Math.floor(i / (P * Q)) % s.K] += gy[i];
  return gb;
}
