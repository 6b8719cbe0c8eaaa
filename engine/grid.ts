// Dispatch sizes: workgroup counts for n invocations, split over x and y past the x limit.

const MAX_GRID_X = 32768;

/** Workgroups for `n` invocations of `wg` threads each, as [x, y] with x ≤ 32768. */
export function grid(n: number, wg: number): [number, number] {
  const w = Math.max(1, Math.ceil(n / wg));
  if (w <= MAX_GRID_X) return [w, 1];
  return [MAX_GRID_X, Math.ceil(w / MAX_GRID_X)];
}
