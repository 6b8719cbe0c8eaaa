// What the page offers to train: the two recipes at their published sizes and smaller ones.
import { type ModelKnobs, type Recipe, type RecipeName, RECIPES } from "../tasks/recipes.ts";
import { summary } from "../models/summary.ts";
import type { ModelSpec } from "../models/spec.ts";

/** One choice of the model picker: a recipe and its model knobs. */
export interface Preset extends ModelKnobs {
  id: string;
  label: string;
  recipe: RecipeName;
  /** Epochs and batch the picker sets (the recipe's own for the published sizes). */
  epochs: number;
  batch: number;
}

/** The recipes as published, then a small WRN for laptops and a tiny one for quick checks. */
export const PRESETS: Preset[] = [
  {
    id: "small",
    label: "Small: WRN-16-2, wide recipe without dropout",
    recipe: "wide",
    depth: 16,
    width: 2,
    dropout: 0,
    epochs: 10,
    batch: 125,
  },
  {
    id: "tiny",
    label: "Tiny: WRN-10-1, wide recipe without dropout (quick checks)",
    recipe: "wide",
    depth: 10,
    width: 1,
    dropout: 0,
    epochs: 2,
    batch: 50,
  },
  {
    id: "wide",
    label: "Wide recipe: WRN-16-8, dropout 0.3 (published)",
    recipe: "wide",
    depth: 16,
    width: 8,
    dropout: 0.3,
    epochs: 200,
    batch: 125,
  },
  {
    id: "res",
    label: "ResNet recipe: resnet18a, width 64 (published)",
    recipe: "res",
    depth: 16,
    width: 64,
    dropout: 0,
    epochs: 60,
    batch: 125,
  },
  {
    id: "res16",
    label: "ResNet recipe, resnet18a at width 16",
    recipe: "res",
    depth: 16,
    width: 16,
    dropout: 0,
    epochs: 10,
    batch: 125,
  },
];

/** The preset called `id`; throws naming the known ones. */
export function preset(id: string): Preset {
  const p = PRESETS.find((q) => q.id === id);
  if (!p) throw new RangeError(`no model preset "${id}" (${PRESETS.map((q) => q.id).join(", ")})`);
  return p;
}

/** The preset's recipe, spec, and the figures the page shows beside the picker. */
export function describePreset(p: Preset): {
  recipe: Recipe;
  spec: ModelSpec;
  model: string;
  params: number;
  gflop: number;
} {
  const recipe = RECIPES[p.recipe];
  const spec = recipe.spec(p);
  const s = summary(spec);
  return { recipe, spec, model: s.model, params: s.params, gflop: s.flops / 1e9 };
}

/** The preset whose spec is exactly `specJson` (a checkpoint's), or undefined. */
export function presetOfSpec(specJson: string): Preset | undefined {
  return PRESETS.find((p) => JSON.stringify(describePreset(p).spec) === specJson);
}
