// Reverse-mode autograd: ops push backward closures; backward() walks them in reverse.
//
// Convention: each backward closure returns fresh gradient tensors for its inputs (or null).
// The tape sums contributions for tensors used more than once. Leaf gradients are WRITTEN,
// not accumulated: each backward() replaces `.grad` of every leaf that needs one.
import type { Engine } from "./engine.ts";
import type { Tensor } from "./tensor.ts";

/** One recorded op. */
export interface TapeEntry {
  /** The op's inputs, in the order `backward` returns their gradients. */
  inputs: readonly Tensor[];
  /** The op's output. */
  output: Tensor;
  /** Gradients of the inputs given the output's gradient (null: no gradient). */
  backward: (gy: Tensor) => readonly (Tensor | null)[];
}

/** The list of recorded ops of the current forward pass. */
export class Tape {
  #engine: Engine;
  #entries: TapeEntry[] = [];

  /** A tape recording for `engine`. */
  constructor(engine: Engine) {
    this.#engine = engine;
  }

  /** Ops recorded and not yet consumed by backward(). */
  get length(): number {
    return this.#entries.length;
  }

  /** Records one op (called by ops, not by users). */
  push(entry: TapeEntry): void {
    this.#entries.push(entry);
  }

  /** Forgets every recorded op (without computing gradients). */
  clear(): void {
    this.#entries = [];
  }

  /**
   * Computes gradients of a scalar `loss` (or of `Σ seed·output` with `seed`) with respect to
   * every leaf that requires one, writes them to `.grad`, and clears the tape.
   */
  backward(loss: Tensor, seed?: Tensor): void {
    const e = this.#engine;
    if (!seed && loss.size !== 1) {
      throw new RangeError(`backward: ${loss} is not a scalar; pass a seed gradient`);
    }
    const entries = this.#entries;
    this.#entries = [];
    const producers = new Set(entries.map((x) => x.output));
    const grads = new Map<Tensor, Tensor>();
    const owned = new Set<Tensor>();
    e.noGrad(() => {
      if (seed) grads.set(loss, seed);
      else {
        const one = e.full(loss.shape, 1);
        grads.set(loss, one);
        owned.add(one);
      }
      for (let i = entries.length - 1; i >= 0; i--) {
        const entry = entries[i];
        const gy = grads.get(entry.output);
        if (!gy) continue;
        const gxs = entry.backward(gy);
        grads.delete(entry.output);
        if (owned.delete(gy)) gy.dispose();
        entry.inputs.forEach((x, j) => {
          const g = gxs[j];
          if (!g) return;
          if (!x.requiresGrad) {
            g.dispose();
            return;
          }
          const prev = grads.get(x);
          if (prev) {
            e.accumulate(prev, g);
            g.dispose();
          } else {
            grads.set(x, g);
            owned.add(g);
          }
        });
      }
      for (const [x, g] of grads) {
        if (producers.has(x)) continue;
        if (!x.grad || x.grad.disposed || x.grad.size !== x.size) x.grad = e.persistent(x.shape);
        e.copy(g, x.grad);
        if (owned.has(g)) g.dispose();
      }
    });
  }
}
