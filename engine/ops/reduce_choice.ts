// Which reduction kernels run on an engine: the tree through workgroup memory everywhere, or
// a subgroup variant where the adapter has `subgroups` and tuneReduce measured it faster.
// A subgroup kernel is only ever compiled on a device that has the feature (Naga refuses
// `enable subgroups;` and lavapipe in Deno has none).
import type { Engine } from "../engine.ts";

/** A reduction's kernels: a tree in workgroup memory, or subgroup adds then fewer barriers. */
export type ReduceVariant = "tree" | "subgroups";

/** The reductions that have a subgroup variant. */
export type ReduceFamily = "sum" | "batchNorm";

/** One family's choice and each variant's median ms per run (none without subgroups). */
export interface FamilyTuning {
  variant: ReduceVariant;
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
