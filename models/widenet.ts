// Wide-ResNet specs (WRN-depth-width, pre-activation blocks with dropout), as docs/recipes.md has them.
import * as layers from "./layers.ts";
import type { LayerSpec, ModelSpec, ResidualSpec } from "./spec.ts";

/** Options of {@linkcode widenet}. */
export interface WidenetOptions {
  /** Channels of the stem; groups have base·width, 2·base·width, 4·base·width (default 16). */
  base?: number;
}

/**
 * One wide block named `name`. First block of a group (`first`): a = relu(bn1(x)), then
 * conv1 3×3 stride s → bn2 → relu → dropout → conv2 3×3, plus `shortcut` (conv 1×1 stride s,
 * no bias) of a. Other blocks: x + (bn1, relu, conv1, bn2, relu, dropout, conv2)(x).
 */
export function wideblock(
  name: string,
  inCh: number,
  outCh: number,
  options: { stride: number; dropout: number; first: boolean },
): ResidualSpec {
  const { stride, dropout, first } = options;
  const pre: LayerSpec[] = [layers.batchNorm2d("bn1", inCh), layers.relu("relu1")];
  const body: LayerSpec[] = [
    layers.conv2d("conv1", inCh, outCh, { kernel: 3, stride, padding: 1 }),
    layers.batchNorm2d("bn2", outCh),
    layers.relu("relu2"),
    ...(dropout > 0 ? [layers.dropout("dropout", dropout)] : []),
    layers.conv2d("conv2", outCh, outCh, { kernel: 3, padding: 1 }),
  ];
  if (!first && (stride !== 1 || inCh !== outCh)) {
    throw new RangeError(`wideblock ${name}: only a group's first block may change shape`);
  }
  return {
    kind: "residual",
    name,
    label: "wide",
    pre: first ? pre : [],
    body: first ? body : [...pre, ...body],
    shortcut: first ? layers.conv2d("shortcut", inCh, outCh, { kernel: 1, stride }) : null,
    relu: false,
  };
}

/**
 * WRN-depth-width: conv 3×3 stem, three groups of (depth − 4)/6 wide blocks (strides 1, 2, 2),
 * then BN, ReLU, average pool 8×8, flatten, linear to `classes`.
 *
 * @example
 * ```ts
 * const spec = widenet(16, 8, 0.3, 10); // WRN-16-8, 10,961,370 parameters
 * ```
 */
export function widenet(
  depth: number,
  width: number,
  dropout: number,
  classes: number,
  options: WidenetOptions = {},
): ModelSpec {
  const base = options.base ?? 16;
  const n = (depth - 4) / 6;
  if (!Number.isInteger(n) || n < 1) {
    throw new RangeError(`widenet: depth ${depth} is not 6·n + 4 for a positive n`);
  }
  if (!Number.isInteger(width) || width < 1) {
    throw new RangeError(`widenet: width must be a positive integer, got ${width}`);
  }
  const all: LayerSpec[] = [layers.conv2d("conv1", 3, base, { kernel: 3, padding: 1 })];
  let inCh = base;
  for (let g = 0; g < 3; g++) {
    const outCh = base * width * 2 ** g;
    const blocks: ResidualSpec[] = [];
    for (let b = 0; b < n; b++) {
      const stride = b === 0 && g > 0 ? 2 : 1;
      blocks.push(wideblock(String(b), inCh, outCh, { stride, dropout, first: b === 0 }));
      inCh = outCh;
    }
    all.push(layers.sequential(`layer${g + 1}`, `${n} wide blocks`, blocks));
  }
  all.push(
    layers.batchNorm2d("bn", inCh),
    layers.relu("relu"),
    layers.avgPool2d("avgpool", 8),
    layers.flatten("flatten"),
    layers.linear("fc", inCh, classes),
  );
  const extra = base === 16 ? "" : `, { base: ${base} }`;
  const builder = `widenet(${depth}, ${width}, ${dropout}, ${classes}${extra})`;
  return { ...layers.sequential("", `wrn-${depth}-${width}`, all), builder, classes };
}
