// Sum and mean over all elements, with gradients.
import type { Tensor } from "../tensor.ts";
import { grid } from "../grid.ts";
import code from "../../kernels/reduce.wgsl" with { type: "text" };

const SRC = { name: "reduce.wgsl", code };

function reduce(x: Tensor, s: number): Tensor {
  const out = x.engine.tensor([1]);
  x.engine.run(SRC, "sum", { x, out, p: { n: x.size, s } }, 1);
  x.engine.record([x], out, (g) => {
    const gx = x.engine.tensor(x.shape);
    x.engine.run(SRC, "broadcast", { g, y: gx, p: { n: x.size, s } }, grid(x.size, 256));
    return [gx];
  });
  return out;
}

/** Σ x over every element, as a [1] tensor. */
export function sum(x: Tensor): Tensor {
  return reduce(x, 1);
}

/** Mean of every element, as a [1] tensor. */
export function mean(x: Tensor): Tensor {
  return reduce(x, 1 / x.size);
}
