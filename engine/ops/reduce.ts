// Sum and mean over all elements, with gradients; which reduction kernels run on an engine:
// the tree through workgroup memory everywhere, or a subgroup variant where the adapter has
// `subgroups` and tuneReduce (reduce_tune.ts) measured it faster. A subgroup kernel is only
// ever compiled on a device that has the feature (Naga refuses `enable subgroups;`, and
// lavapipe in Deno has none).
import type { Tensor } from "../tensor.ts";
import { grid } from "../grid.ts";
import type { Engine } from "../engine.ts";
import code from "../../kernels/reduce.wgsl" with { type: "text" };
import subgroupCode from "../../kernels/reduce_subgroups.wgsl" with { type: "text" };

const SRC = { name: "reduce.wgsl", code };
const SUBGROUP_SRC = { name: "reduce_subgroups.wgsl", code: subgroupCode };

/** A reduction's kernels: a tree in workgroup memory, or subgroup adds then fewer barriers. */
export type ReduceVariant = "tree" | "subgroups";

/** The reductions that have a subgroup variant. */
export type ReduceFamily = "sum" | "batchNorm";

/** One family's choice and each variant's median ms per run (none without subgroups). */
export interface FamilyTuning {
  /** The variant the family now uses on this engine. */
  variant: ReduceVariant;
  /** Median ms per run of each variant measured (none without subgroups). */
  ms: Partial<Record<ReduceVariant, number>>;
}

/**
 * What tuneReduce measured, per family: `sum` (sum, mean and the loss's batch mean; a sum of
 * 2^18 values) and `batchNorm` (the batch statistics and the backward's Σ dy, Σ dy·x̂; one
 * training forward and backward of [8, 16, 16, 16]).
 */
export type ReduceTuning = Record<ReduceFamily, FamilyTuning>;

/**
 * The reductions' variant state an Engine carries (`engine.reduce`): `forced` (tests; null:
 * the choice) and what tuneReduce measured on its adapter (null: not measured, the tree).
 */
export interface ReduceState {
  /** The variant every reduction family uses (tests), or null for the choice. */
  forced: ReduceVariant | null;
  /** What tuneReduce measured on this adapter, per family, or null (the tree everywhere). */
  measured: ReduceTuning | null;
}

/** The variant `family` uses on this engine. */
export function reduceVariant(e: Engine, family: ReduceFamily = "sum"): ReduceVariant {
  const v = e.reduce.forced ?? e.reduce.measured?.[family].variant ?? "tree";
  if (v === "subgroups" && !e.gpu.subgroups) {
    throw new RangeError(
      `${family}: the subgroups variant needs the "subgroups" feature, which ${e.gpu.name} lacks`,
    );
  }
  return v;
}

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
