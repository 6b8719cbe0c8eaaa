// The recipes' per-epoch cosine learning rate: lr_k = 0.5 · base · (1 + cos(π·k/E)).
import { SGD_DEFAULTS } from "./options.ts";

/** Learning rate for epoch k = 0 … E−1 (epoch 1 of 60 → 0.080000, epoch 60 → 0.000055). */
export function cosineLr(k: number, epochs: number, base: number = SGD_DEFAULTS.baseLr): number {
  if (!(epochs >= 1) || !(k >= 0 && k < epochs)) {
    throw new RangeError(`cosineLr: epoch ${k} outside 0..${epochs - 1}`);
  }
  return 0.5 * base * (1 + Math.cos((Math.PI * k) / epochs));
}
