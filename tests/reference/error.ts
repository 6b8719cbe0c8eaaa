// How far a result is from its float64 reference, relative to the reference's scale.

/**
 * max |got − want| / max |want|: the error relative to the values' scale (Infinity when the
 * lengths differ, NaN when `got` holds a NaN, so neither passes a bound).
 */
export function scaledError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let d = 0, m = 1e-30;
  for (let i = 0; i < want.length; i++) {
    d = Math.max(d, Math.abs(got[i] - want[i]));
    m = Math.max(m, Math.abs(want[i]));
  }
  return got.length === want.length ? d / m : Infinity;
}
