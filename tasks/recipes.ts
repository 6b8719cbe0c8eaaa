// The two recipes (docs/recipes.md spells them out), the one table the training tasks, the bench and the docs read.
import { resnet18a } from "../models/resnet.ts";
import { widenet } from "../models/widenet.ts";
import type { ModelSpec } from "../models/spec.ts";
import { SGD_DEFAULTS } from "../engine/train/options.ts";
import { summary } from "../models/summary.ts";

/** Recipe names, as in the task names `train:res` and `train:wide`. */
export type RecipeName = "res" | "wide";

/** The model knobs a training task's flags may change. */
export interface ModelKnobs {
  /** ResNet base width, or the WRN widening factor. */
  width: number;
  /** WRN depth, 6k+4 (unused by res). */
  depth: number;
  /** WRN dropout (unused by res). */
  dropout: number;
}

/** SGD as the recipes set it (PyTorch's names). */
export interface SgdSettings {
  /** Learning rate of the first epoch. */
  baseLr: number;
  /** Momentum factor. */
  momentum: number;
  /** L2 weight decay. */
  weightDecay: number;
  /** Nesterov momentum. */
  nesterov: boolean;
}

/** Everything that distinguishes a recipe. */
export interface Recipe extends ModelKnobs {
  /** The recipe's name. */
  name: RecipeName;
  /** The model's name at the default knobs (bench rows). */
  model: string;
  /** One sentence for `--help`. */
  description: string;
  /** Epochs of a full run. */
  epochs: number;
  /** Training batch; test batches are `testBatch`. */
  batch: number;
  /** Test batch. */
  testBatch: number;
  /** Random crop (pad 4) + flip per batch. */
  augment: boolean;
  /** Training set doubled by mirrored copies. */
  mirror: boolean;
  /** Label smoothing of the loss. */
  smoothing: number;
  /** SGD settings. */
  sgd: SgdSettings;
  /** Builds the model spec for the given knobs (10 classes). */
  spec(knobs?: Partial<ModelKnobs>): ModelSpec;
}

const SGD_SETTINGS: SgdSettings = { ...SGD_DEFAULTS };

/** The recipes, as docs/recipes.md gives them. */
export const RECIPES: Record<RecipeName, Recipe> = {
  res: {
    name: "res",
    model: "resnet18a",
    description:
      "ResNet recipe: resnet18a on CIFAR-10 doubled by mirroring, cross-entropy, SGD (Nesterov), cosine lr from 0.08.",
    epochs: 60,
    batch: 125,
    testBatch: 1000,
    width: 64,
    depth: 16,
    dropout: 0,
    augment: false,
    mirror: true,
    smoothing: 0,
    sgd: SGD_SETTINGS,
    spec: (k = {}) => resnet18a(10, { width: k.width ?? 64 }),
  },
  wide: {
    name: "wide",
    model: "wrn-16-8",
    description:
      "Wide-ResNet recipe: WRN-16-8 with dropout 0.3, random crop + flip, label smoothing 0.1, SGD (Nesterov), cosine lr from 0.08.",
    epochs: 200,
    batch: 125,
    testBatch: 1000,
    width: 8,
    depth: 16,
    dropout: 0.3,
    augment: true,
    mirror: false,
    smoothing: 0.1,
    sgd: SGD_SETTINGS,
    spec: (k = {}) => widenet(k.depth ?? 16, k.width ?? 8, k.dropout ?? 0.3, 10),
  },
};

/** Training images per epoch of a recipe on the full 50,000 (100,000 when mirrored). */
export function epochImages(r: Recipe, n = 50_000): number {
  return r.mirror ? 2 * n : n;
}

/** What a run chooses besides the recipe: the model knobs, epochs, batch and seed. */
export interface RunChoices extends ModelKnobs {
  /** Epochs of the run. */
  epochs: number;
  /** Training batch. */
  batch: number;
  /** Seed of initialisation, data order, augmentation and dropout. */
  seed: number;
}

/**
 * The settings a checkpoint of a run carries (`train:res`/`train:wide` and the browser page
 * alike); a resume must match every one of them.
 */
export function recipeSettings(
  r: Recipe,
  c: RunChoices,
  n: number,
  nTest: number,
): Record<string, unknown> {
  return {
    recipe: r.name,
    model: summary(r.spec(c)).model,
    epochs: c.epochs,
    batch: c.batch,
    limit: n,
    testLimit: nTest,
    seed: c.seed,
    augment: r.augment,
    mirror: r.mirror,
    smoothing: r.smoothing,
    ...r.sgd,
  };
}
