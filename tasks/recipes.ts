// The two recipes of RECIPES.md: model defaults, data handling and loss.

/** Recipe names, as in the task names `train:res` and `train:wide`. */
export type RecipeName = "res" | "wide";

/** What distinguishes the two recipes. */
export interface Recipe {
  name: RecipeName;
  description: string;
  epochs: number;
  /** ResNet base width, or the WRN widening factor. */
  width: number;
  /** WRN depth (unused by res). */
  depth: number;
  /** WRN dropout (unused by res). */
  dropout: number;
  /** Random crop (pad 4) + flip per batch. */
  augment: boolean;
  /** Training set doubled by mirrored copies. */
  mirror: boolean;
  /** Label smoothing of the loss. */
  smoothing: number;
}

/** The recipes, as RECIPES.md gives them. */
export const RECIPES: Record<RecipeName, Recipe> = {
  res: {
    name: "res",
    description:
      "ResNet recipe: resnet18a on CIFAR-10 doubled by mirroring, cross-entropy, SGD (Nesterov), cosine lr from 0.08.",
    epochs: 60,
    width: 64,
    depth: 16,
    dropout: 0,
    augment: false,
    mirror: true,
    smoothing: 0,
  },
  wide: {
    name: "wide",
    description:
      "Wide-ResNet recipe: WRN-16-8 with dropout 0.3, random crop + flip, label smoothing 0.1, SGD (Nesterov), cosine lr from 0.08.",
    epochs: 200,
    width: 8,
    depth: 16,
    dropout: 0.3,
    augment: true,
    mirror: false,
    smoothing: 0.1,
  },
};
