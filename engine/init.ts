// Parameter initialisation as torch.nn does it by default, from a seeded generator.

/** Fan-in of a weight shape: in_features for [out, in], C·R·S for [K, C, R, S]. */
export function fanIn(shape: readonly number[]): number {
  if (shape.length < 2) throw new RangeError(`fanIn: weight shape [${shape}] needs ≥ 2 dims`);
  return shape.slice(1).reduce((a, b) => a * b, 1);
}

function uniform(n: number, bound: number, random: () => number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (2 * random() - 1) * bound;
  return out;
}

/**
 * torch.nn.Conv2d / Linear default weight init: kaiming_uniform_(a=√5), i.e. U(−b, b) with
 * b = gain·√(3/fanIn) = √(2/(1+5))·√(3/fanIn) = 1/√fanIn.
 *
 * @example
 * ```ts
 * const w = kaimingUniform([64, 3, 3, 3], mulberry32(0)); // values in ±1/√27
 * ```
 */
export function kaimingUniform(shape: readonly number[], random: () => number): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  return uniform(n, 1 / Math.sqrt(fanIn(shape)), random);
}

/** torch.nn.Conv2d / Linear default bias init: U(−1/√fanIn, 1/√fanIn) for n outputs. */
export function biasUniform(n: number, fanInValue: number, random: () => number): Float32Array {
  if (!(fanInValue > 0)) throw new RangeError(`biasUniform: fan-in must be > 0, got ${fanInValue}`);
  return uniform(n, 1 / Math.sqrt(fanInValue), random);
}
