// Layer spec builders: one function per layer kind, returning the plain specs of spec.ts.
//
// Imported as a namespace (`import * as layers from "./layers.ts"`, `layers` in mod.ts), so
// `layers.conv2d` (a spec) never shadows the `conv2d` op of engine/ops.
import type {
  AdaptiveAvgPool2dSpec,
  AvgPool2dSpec,
  BatchNorm2dSpec,
  Conv2dSpec,
  DropoutSpec,
  FlattenSpec,
  LayerSpec,
  LinearSpec,
  MaxPool2dSpec,
  ReluSpec,
  SequentialSpec,
} from "./spec.ts";

/** conv2d layer (no bias unless asked). */
export function conv2d(
  name: string,
  inCh: number,
  outCh: number,
  options: { kernel: number; stride?: number; padding?: number; bias?: boolean },
): Conv2dSpec {
  const { kernel, stride = 1, padding = 0, bias = false } = options;
  positive("conv2d", { in: inCh, out: outCh, kernel, stride });
  return { kind: "conv2d", name, in: inCh, out: outCh, kernel, stride, padding, bias };
}

/** batchnorm2d layer with PyTorch's defaults (eps 1e-5, momentum 0.1). */
export function batchNorm2d(name: string, channels: number): BatchNorm2dSpec {
  positive("batchnorm2d", { channels });
  return { kind: "batchnorm2d", name, channels, eps: 1e-5, momentum: 0.1 };
}

/** relu layer. */
export function relu(name = "relu"): ReluSpec {
  return { kind: "relu", name };
}

/** linear layer (with bias unless told otherwise). */
export function linear(name: string, inF: number, outF: number, bias = true): LinearSpec {
  positive("linear", { in: inF, out: outF });
  return { kind: "linear", name, in: inF, out: outF, bias };
}

/** dropout layer. */
export function dropout(name: string, p: number): DropoutSpec {
  if (!(p >= 0 && p < 1)) throw new RangeError(`dropout: probability ${p} is outside [0, 1)`);
  return { kind: "dropout", name, p };
}

/** sequential group. */
export function sequential(name: string, label: string, layers: LayerSpec[]): SequentialSpec {
  return { kind: "sequential", name, label, layers };
}

function positive(what: string, values: Record<string, number>): void {
  for (const [k, v] of Object.entries(values)) {
    if (!Number.isInteger(v) || v < 1) {
      throw new RangeError(`${what}: ${k} must be a positive integer, got ${v}`);
    }
  }
}

/** maxpool2d layer (PyTorch floor mode, padding with −∞). */
export function maxPool2d(
  name: string,
  kernel: number,
  stride: number,
  padding = 0,
): MaxPool2dSpec {
  positive("maxpool2d", { kernel, stride });
  return { kind: "maxpool2d", name, kernel, stride, padding };
}

/** avgpool2d layer with stride = kernel. */
export function avgPool2d(name: string, kernel: number): AvgPool2dSpec {
  positive("avgpool2d", { kernel });
  return { kind: "avgpool2d", name, kernel };
}

/** Adaptive average pooling to 1×1. */
export function adaptiveAvgPool2d(name: string): AdaptiveAvgPool2dSpec {
  return { kind: "adaptavg2d", name, size: [1, 1] };
}

/** flatten layer: [N, C, H, W] → [N, C·H·W]. */
export function flatten(name = "flatten"): FlattenSpec {
  return { kind: "flatten", name };
}
