// The recipes' per-epoch cosine learning rate: lr_k = 0.5 · base · (1 + cos(π·k/E)).

/** Learning rate for epoch k = 0 … E−1 (epoch 1 of 60 → 0.080000, epoch 60 → 0.000055). */
export function cosineLr(k: number, epochs: number, base = 0.08): number {
  if (!(epochs >= 1) || !(k >= 0 && k < epochs)) {
    throw new RangeError(`cosineLr: epoch ${k} outside 0..${epochs - 1}`);
  }
  return 0.5 * base * (1 + Math.cos((Math.PI * k) / epochs));
}
