// ResNet specs (torchvision's definitions and names), with the CIFAR ("alternate") stem.
import * as layers from "./layers.ts";
import type { LayerSpec, ModelSpec, ResidualSpec, SequentialSpec } from "./spec.ts";

/** The two block kinds of a ResNet. */
export type BlockKind = "basic" | "bottleneck";

/** Options of {@linkcode resnet}. */
export interface ResnetOptions {
  /** Channels of the stem and of layer1 (torchvision: 64); layers double it. */
  width?: number;
  /** The stem (default "imagenet"; "cifar" is the reference's `alternate`). */
  stem?: ResnetStem;
}

/** Body of a basic block: conv 3×3 (stride s), BN, ReLU, conv 3×3, BN; output outCh·expansion. */
export function basic(inCh: number, outCh: number, stride: number, expansion = 1): SequentialSpec {
  const o = outCh * expansion;
  return layers.sequential("", "basic", [
    layers.conv2d("conv1", inCh, outCh, { kernel: 3, stride, padding: 1 }),
    layers.batchNorm2d("bn1", outCh),
    layers.relu("relu1"),
    layers.conv2d("conv2", outCh, o, { kernel: 3, padding: 1 }),
    layers.batchNorm2d("bn2", o),
  ]);
}

/**
 * Body of a bottleneck block: conv 1×1, BN, ReLU, conv 3×3 stride s, BN, ReLU,
 * conv 1×1 to outCh·expansion, BN.
 */
export function bottle(inCh: number, outCh: number, stride: number, expansion = 4): SequentialSpec {
  const o = outCh * expansion;
  return layers.sequential("", "bottleneck", [
    layers.conv2d("conv1", inCh, outCh, { kernel: 1 }),
    layers.batchNorm2d("bn1", outCh),
    layers.relu("relu1"),
    layers.conv2d("conv2", outCh, outCh, { kernel: 3, stride, padding: 1 }),
    layers.batchNorm2d("bn2", outCh),
    layers.relu("relu2"),
    layers.conv2d("conv3", outCh, o, { kernel: 1 }),
    layers.batchNorm2d("bn3", o),
  ]);
}

/**
 * The shortcut of a block: conv 1×1 stride s (no bias) then BN, named `downsample.0` and
 * `downsample.1`, only when stride ≠ 1 or inCh ≠ outCh·expansion; otherwise null (identity).
 */
export function downsample(
  inCh: number,
  outCh: number,
  stride: number,
  expansion: number,
): SequentialSpec | null {
  const o = outCh * expansion;
  if (stride === 1 && inCh === o) return null;
  return layers.sequential("downsample", "downsample", [
    layers.conv2d("0", inCh, o, { kernel: 1, stride }),
    layers.batchNorm2d("1", o),
  ]);
}

/** One residual block named `name`: relu(body(x) + shortcut(x)). */
export function resblock(
  kind: BlockKind,
  name: string,
  inCh: number,
  outCh: number,
  stride: number,
): ResidualSpec {
  const expansion = kind === "basic" ? 1 : 4;
  const body = kind === "basic"
    ? basic(inCh, outCh, stride, expansion)
    : bottle(inCh, outCh, stride, expansion);
  return {
    kind: "residual",
    name,
    label: kind,
    pre: [],
    body: body.layers,
    shortcut: downsample(inCh, outCh, stride, expansion),
    relu: true,
  };
}

/** The two stems: torchvision's ImageNet stem, or the CIFAR one the reference calls "alternate". */
export type ResnetStem = "imagenet" | "cifar";

/**
 * A ResNet: stem, four layers of blocks (layer1 stride 1, layers 2–4 stride 2 in their first
 * block, channels width·1, 2, 4, 8), adaptive average pool, flatten, linear to `classes`.
 * `stem: "cifar"` (the reference's `alternate`) is conv 3×3 stride 1 without max pool; the default
 * `"imagenet"` is conv 7×7 stride 2 pad 3, then max pool 3/2/1.
 *
 * @example
 * ```ts
 * const spec = resnet("basic", [2, 2, 2, 2], 10, { stem: "cifar" }); // resnet18a
 * ```
 */
export function resnet(
  block: BlockKind,
  blocks: number[],
  classes: number,
  options: ResnetOptions = {},
): ModelSpec {
  const width = options.width ?? 64;
  const stem = options.stem ?? "imagenet";
  if (block !== "basic" && block !== "bottleneck") {
    throw new TypeError(
      `resnet: block must be "basic" or "bottleneck", got ${JSON.stringify(block)}`,
    );
  }
  if (stem !== "imagenet" && stem !== "cifar") {
    throw new TypeError(`resnet: stem must be "imagenet" or "cifar", got ${JSON.stringify(stem)}`);
  }
  if (blocks.length !== 4 || !blocks.every((n) => Number.isInteger(n) && n >= 1)) {
    throw new RangeError(`resnet: layers must be 4 positive block counts, got [${blocks}]`);
  }
  const cifar = stem === "cifar";
  const expansion = block === "basic" ? 1 : 4;
  const all: LayerSpec[] = [
    cifar
      ? layers.conv2d("conv1", 3, width, { kernel: 3, padding: 1 })
      : layers.conv2d("conv1", 3, width, { kernel: 7, stride: 2, padding: 3 }),
    layers.batchNorm2d("bn1", width),
    layers.relu("relu"),
  ];
  if (!cifar) all.push(layers.maxPool2d("maxpool", 3, 2, 1));
  let inCh = width;
  blocks.forEach((n, i) => {
    const outCh = width * 2 ** i;
    const group: ResidualSpec[] = [];
    for (let b = 0; b < n; b++) {
      group.push(resblock(block, String(b), inCh, outCh, b === 0 && i > 0 ? 2 : 1));
      inCh = outCh * expansion;
    }
    all.push(layers.sequential(`layer${i + 1}`, `${n} ${block} blocks`, group));
  });
  all.push(
    layers.adaptiveAvgPool2d("avgpool"),
    layers.flatten("flatten"),
    layers.linear("fc", inCh, classes),
  );
  const opts = [cifar ? `stem: "cifar"` : "", width === 64 ? "" : `width: ${width}`].filter(
    Boolean,
  );
  const extra = opts.length ? `, { ${opts.join(", ")} }` : "";
  const builder = `resnet("${block}", [${blocks.join(", ")}], ${classes}${extra})`;
  return {
    ...layers.sequential("", presetName(block, cifar, blocks, width), all),
    builder,
    classes,
  };
}

const PRESETS: [string, BlockKind, number[]][] = [
  ["resnet18", "basic", [2, 2, 2, 2]],
  ["resnet34", "basic", [3, 4, 6, 3]],
  ["resnet50", "bottleneck", [3, 4, 6, 3]],
  ["resnet101", "bottleneck", [3, 4, 23, 3]],
  ["resnet152", "bottleneck", [3, 8, 36, 3]],
];

function presetName(block: BlockKind, cifar: boolean, blocks: number[], width: number): string {
  const p = PRESETS.find(([, b, l]) => b === block && l.join() === blocks.join());
  if (!p || width !== 64) return "resnet";
  return p[0] + (cifar ? "a" : "");
}

/** ResNet-18, ImageNet stem (11,181,642 parameters with 10 classes). */
export const resnet18 = (classes = 10, o: ResnetOptions = {}): ModelSpec =>
  resnet("basic", [2, 2, 2, 2], classes, o);
/** ResNet-18, CIFAR stem (11,173,962 parameters with 10 classes). */
export const resnet18a = (classes = 10, o: ResnetOptions = {}): ModelSpec =>
  resnet("basic", [2, 2, 2, 2], classes, { ...o, stem: "cifar" });
/** ResNet-34, ImageNet stem. */
export const resnet34 = (classes = 10, o: ResnetOptions = {}): ModelSpec =>
  resnet("basic", [3, 4, 6, 3], classes, o);
/** ResNet-34, CIFAR stem (21,282,122 parameters with 10 classes). */
export const resnet34a = (classes = 10, o: ResnetOptions = {}): ModelSpec =>
  resnet("basic", [3, 4, 6, 3], classes, { ...o, stem: "cifar" });
/** ResNet-50, ImageNet stem (23,528,522 parameters with 10 classes). */
export const resnet50 = (classes = 10, o: ResnetOptions = {}): ModelSpec =>
  resnet("bottleneck", [3, 4, 6, 3], classes, o);
/** ResNet-101, ImageNet stem. */
export const resnet101 = (classes = 10, o: ResnetOptions = {}): ModelSpec =>
  resnet("bottleneck", [3, 4, 23, 3], classes, o);
/** ResNet-152, ImageNet stem. */
export const resnet152 = (classes = 10, o: ResnetOptions = {}): ModelSpec =>
  resnet("bottleneck", [3, 8, 36, 3], classes, o);
