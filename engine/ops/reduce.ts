// Sum and mean over all elements, with gradients; a subgroup variant of the sum where the
// adapter has `subgroups` and tuneReduce measured it faster.
import type { Engine } from "../engine.ts";
import type { Tensor } from "../tensor.ts";
import { grid } from "../grid.ts";
import code from "../../kernels/reduce.wgsl" with { type: "text" };
import subgroupCode from "../../kernels/reduce_subgroups.wgsl" with { type: "text" };

const SRC = { name: "reduce.wgsl", code };
const SUBGROUP_SRC = { name: "reduce_subgroups.wgsl", code: subgroupCode };

/** The full sum's kernels: a tree in workgroup memory, or subgroupAdd then one barrier. */
export type ReduceVariant = "tree" | "subgroups";

/**
 * The sum's variant state an Engine carries (`engine.reduce`): `forced` (tests; null: the
 * choice) and what tuneReduce `measured` on its adapter (null: not measured, the tree).
 */
export interface ReduceState {
  /** The variant every sum uses (tests), or null for the choice. */
  forced: ReduceVariant | null;
  /** What tuneReduce measured fastest on this adapter, or null (the tree). */
  measured: ReduceVariant | null;
}

/** The variant sum and mean use on this engine. */
export function reduceVariant(e: Engine): ReduceVariant {
  const v = e.reduce.forced ?? e.reduce.measured ?? "tree";
  if (v === "subgroups" && !e.gpu.subgroups) {
    throw new RangeError(
      `reduce: the subgroups variant needs the "subgroups" feature, which ${e.gpu.name} lacks`,
    );
  }
  return v;
}

function reduce(x: Tensor, s: number): Tensor {
  const out = x.engine.tensor([1]);
  const src = reduceVariant(x.engine) === "subgroups" ? SUBGROUP_SRC : SRC;
  x.engine.run(src, "sum", { x, out, p: { n: x.size, s } }, 1);
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

/** What tuneReduce measured: the variant chosen and each variant's median ms per sum. */
export interface ReduceTuning {
  /** The variant sum and mean now use on this adapter. */
  variant: ReduceVariant;
  /** Median ms per sum of each variant measured (none without subgroups). */
  ms: Partial<Record<ReduceVariant, number>>;
}

/**
 * Measures both sums on `n` values (median of 5 runs of 10 dispatches, after a warm-up) where
 * the adapter has subgroups, and makes sum and mean use the faster; elsewhere the tree.
 */
export async function tuneReduce(e: Engine, n = 1 << 18): Promise<ReduceTuning> {
  if (!e.gpu.subgroups) return { variant: "tree", ms: {} };
  const x = e.upload(Float32Array.from({ length: n }, (_, i) => (i % 17) - 8), [n]);
  const ms: Partial<Record<ReduceVariant, number>> = {};
  const before = e.reduce.forced;
  try {
    for (const v of ["tree", "subgroups"] as const) {
      e.reduce.forced = v;
      const run = async (reps: number) => {
        const outs = Array.from({ length: reps }, () => e.noGrad(() => sum(x)));
        await outs[reps - 1].read();
        outs.forEach((t) => t.dispose());
      };
      await run(1);
      const times: number[] = [];
      for (let k = 0; k < 5; k++) {
        const t = performance.now();
        await run(10);
        times.push((performance.now() - t) / 10);
      }
      ms[v] = times.sort((a, b) => a - b)[2];
    }
  } finally {
    e.reduce.forced = before;
    x.dispose();
  }
  const variant = ms.subgroups! < ms.tree! ? "subgroups" : "tree";
  e.reduce.measured = variant;
  return { variant, ms };
}
