// Sum and mean over all elements, with gradients; a subgroup variant of the sum where the
// adapter has `subgroups` and tuneReduce measured it faster.
import type { Tensor } from "../tensor.ts";
import { grid } from "../grid.ts";
import { reduceVariant } from "./reduce_choice.ts";
import code from "../../kernels/reduce.wgsl" with { type: "text" };
import subgroupCode from "../../kernels/reduce_subgroups.wgsl" with { type: "text" };

const SRC = { name: "reduce.wgsl", code };
const SUBGROUP_SRC = { name: "reduce_subgroups.wgsl", code: subgroupCode };

export { type ReduceState, type ReduceVariant, reduceVariant } from "./reduce_choice.ts";

/**
 * Writes s · Σ x into the [1] tensor `out` with the sum's variant on this adapter (the loss's
 * batch mean uses it too).
 */
export function sumInto(x: Tensor, out: Tensor, s: number): void {
  const src = reduceVariant(x.engine, "sum") === "subgroups" ? SUBGROUP_SRC : SRC;
  x.engine.run(src, "sum", { x, out, p: { n: x.size, s } }, 1);
}

function reduce(x: Tensor, s: number): Tensor {
  const out = x.engine.tensor([1]);
  sumInto(x, out, s);
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
