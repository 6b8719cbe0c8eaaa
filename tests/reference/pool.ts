// Float64 CPU reference of max and average pooling over NCHW, forward and backward.

/** Window of a reference pool: square kernel k, stride s, padding pad (max pool only). */
export interface PoolRefWindow {
  shape: readonly number[];
  kernel: number;
  stride: number;
  padding: number;
}

function dims(o: PoolRefWindow) {
  const [n, c, h, w] = o.shape;
  const p = Math.floor((h + 2 * o.padding - o.kernel) / o.stride) + 1;
  const q = Math.floor((w + 2 * o.padding - o.kernel) / o.stride) + 1;
  return { planes: n * c, h, w, p, q };
}

/** Calls fn(outputIndex, inputIndex) for every in-bounds window position. */
function eachWindow(o: PoolRefWindow, fn: (out: number, inp: number) => void): void {
  const { planes, h, w, p, q } = dims(o);
  for (let pl = 0; pl < planes; pl++) {
    for (let r = 0; r < p; r++) {
      for (let c = 0; c < q; c++) {
        const out = (pl * p + r) * q + c;
        for (let kh = 0; kh < o.kernel; kh++) {
          const ih = r * o.stride - o.padding + kh;
          if (ih < 0 || ih >= h) continue;
          for (let kw = 0; kw < o.kernel; kw++) {
            const iw = c * o.stride - o.padding + kw;
            if (iw < 0 || iw >= w) continue;
            fn(out, (pl * h + ih) * w + iw);
          }
        }
      }
    }
  }
}

/** Output shape [N, C, P, Q] of a window. */
export function poolOutputShape(o: PoolRefWindow): number[] {
  const { p, q } = dims(o);
  return [o.shape[0], o.shape[1], p, q];
}

/** Max pool: output and, per output, the flat input index of its first maximum. */
export function maxPoolForwardRef(
  x: ArrayLike<number>,
  o: PoolRefWindow,
): { y: Float64Array; argmax: Int32Array } {
  const { planes, p, q } = dims(o);
  const y = new Float64Array(planes * p * q).fill(-Infinity);
  const argmax = new Int32Array(y.length).fill(-1);
  eachWindow(o, (out, inp) => {
    if (argmax[out] < 0 || x[inp] > y[out]) {
      y[out] = x[inp];
      argmax[out] = inp;
    }
  });
  return { y, argmax };
}

/** Gradient of max pool: each output's gradient goes to its argmax. */
export function maxPoolBackwardRef(
  gy: ArrayLike<number>,
  argmax: Int32Array,
  inputSize: number,
): Float64Array {
  const gx = new Float64Array(inputSize);
  for (let i = 0; i < argmax.length; i++) gx[argmax[i]] += gy[i];
  return gx;
}

/** Average pool without padding (every window full): output mean per window. */
export function avgPoolForwardRef(x: ArrayLike<number>, o: PoolRefWindow): Float64Array {
  const { planes, p, q } = dims(o);
  const y = new Float64Array(planes * p * q);
  eachWindow(o, (out, inp) => (y[out] += x[inp] / (o.kernel * o.kernel)));
  return y;
}

/** Gradient of average pool without padding. */
export function avgPoolBackwardRef(gy: ArrayLike<number>, o: PoolRefWindow): Float64Array {
  const { planes, h, w } = dims(o);
  const gx = new Float64Array(planes * h * w);
  eachWindow(o, (out, inp) => (gx[inp] += gy[out] / (o.kernel * o.kernel)));
  return gx;
}
