// Conv2d geometry: the sizes of one convolution, checked, from input and weight shapes.

/** One convolution's sizes: x [N,C,H,W] * w [K,C,R,S] → y [N,K,P,Q]. */
export interface ConvGeometry {
  N: number;
  C: number;
  H: number;
  W: number;
  K: number;
  R: number;
  S: number;
  stride: number;
  pad: number;
  P: number;
  Q: number;
}

function checkGeometry(op: string, stride: number, padding: number): void {
  if (!Number.isInteger(stride) || stride < 1) {
    throw new RangeError(`${op}: stride must be a positive integer, got ${stride}`);
  }
  if (!Number.isInteger(padding) || padding < 0) {
    throw new RangeError(`${op}: padding must be a non-negative integer, got ${padding}`);
  }
}

/** Sizes of x [N,C,H,W] * w [K,C,R,S]; throws a RangeError naming the op and shapes. */
export function conv2dGeometry(
  op: string,
  xShape: readonly number[],
  wShape: readonly number[],
  stride = 1,
  padding = 0,
): ConvGeometry {
  checkGeometry(op, stride, padding);
  const [N, C, H, W] = xShape;
  const [K, C2, R, S] = wShape;
  if (C !== C2) {
    throw new RangeError(`${op}: x [${xShape}] has ${C} channels but w [${wShape}] expects ${C2}`);
  }
  const P = Math.floor((H + 2 * padding - R) / stride) + 1;
  const Q = Math.floor((W + 2 * padding - S) / stride) + 1;
  if (!(P >= 1 && Q >= 1) || N < 1 || K < 1 || C < 1) {
    throw new RangeError(
      `${op}: x [${xShape}] with w [${wShape}], stride ${stride}, padding ${padding} gives no output`,
    );
  }
  return { N, C, H, W, K, R, S, stride, pad: padding, P, Q };
}
