// Model specs: plain, JSON-serializable layer trees, their parameter names and a readable print.
//
// A spec says what a model is (layers, sizes, names); `module()` in module.ts turns one into
// parameters on the GPU and a forward pass. Parameter names are the path of non-empty layer
// names joined by dots plus the tensor name, so they match PyTorch state dicts
// (`layer2.0.downsample.0.weight`).

/** conv 2-D, weight [out, in, kernel, kernel], optional bias [out]. */
export interface Conv2dSpec {
  /** Discriminant of the layer kind. */
  kind: "conv2d";
  /** The layer's name: its parameters' prefix ("conv1", "layer1.0"). */
  name: string;
  /** Input channels (features for linear). */
  in: number;
  /** Output channels (features for linear). */
  out: number;
  /** Window side. */
  kernel: number;
  /** Stride. */
  stride: number;
  /** Zero padding on each side. */
  padding: number;
  /** Whether the layer has a bias. */
  bias: boolean;
}

/** Batch norm over channels: weight, bias, running_mean, running_var [channels]. */
export interface BatchNorm2dSpec {
  /** Discriminant of the layer kind. */
  kind: "batchnorm2d";
  /** The layer's name: its parameters' prefix ("conv1", "layer1.0"). */
  name: string;
  /** Channels normalized. */
  channels: number;
  /** Added to the variance (1e-5). */
  eps: number;
  /** Running-statistics momentum (0.1, PyTorch's convention). */
  momentum: number;
}

/** max(x, 0). */
export interface ReluSpec {
  /** Discriminant of the layer kind. */
  kind: "relu";
  /** The layer's name: its parameters' prefix ("conv1", "layer1.0"). */
  name: string;
}

/** Max pooling (PyTorch floor mode, padding with −∞). */
export interface MaxPool2dSpec {
  /** Discriminant of the layer kind. */
  kind: "maxpool2d";
  /** The layer's name: its parameters' prefix ("conv1", "layer1.0"). */
  name: string;
  /** Window side. */
  kernel: number;
  /** Stride. */
  stride: number;
  /** Zero padding on each side. */
  padding: number;
}

/** Average pooling with stride = kernel, no padding. */
export interface AvgPool2dSpec {
  /** Discriminant of the layer kind. */
  kind: "avgpool2d";
  /** The layer's name: its parameters' prefix ("conv1", "layer1.0"). */
  name: string;
  /** Window side. */
  kernel: number;
}

/** Adaptive average pooling to 1×1 (the only output size the engine has). */
export interface AdaptiveAvgPool2dSpec {
  /** Discriminant of the layer kind. */
  kind: "adaptavg2d";
  /** The layer's name: its parameters' prefix ("conv1", "layer1.0"). */
  name: string;
  /** Output size (1×1). */
  size: [1, 1];
}

/** [N, C, H, W] → [N, C·H·W]. */
export interface FlattenSpec {
  /** Discriminant of the layer kind. */
  kind: "flatten";
  /** The layer's name: its parameters' prefix ("conv1", "layer1.0"). */
  name: string;
}

/** y = x·Wᵀ + b, weight [out, in], bias [out]. */
export interface LinearSpec {
  /** Discriminant of the layer kind. */
  kind: "linear";
  /** The layer's name: its parameters' prefix ("conv1", "layer1.0"). */
  name: string;
  /** Input channels (features for linear). */
  in: number;
  /** Output channels (features for linear). */
  out: number;
  /** Whether the layer has a bias. */
  bias: boolean;
}

/** Dropout with probability p (scale 1/(1−p) in training, identity in evaluation). */
export interface DropoutSpec {
  /** Discriminant of the layer kind. */
  kind: "dropout";
  /** The layer's name: its parameters' prefix ("conv1", "layer1.0"). */
  name: string;
  /** Probability of zeroing an element. */
  p: number;
}

/** Layers applied in order. An empty name adds nothing to parameter names. */
export interface SequentialSpec {
  /** Discriminant of the layer kind. */
  kind: "sequential";
  /** The layer's name: its parameters' prefix ("conv1", "layer1.0"). */
  name: string;
  /** What the group is, for printing ("resnet18a", "basic", "downsample"). */
  label: string;
  /** Children, applied in order. */
  layers: LayerSpec[];
}

/**
 * A residual block: a = pre(x); y = body(a) + shortcut(a) (identity when `shortcut` is null);
 * then ReLU when `relu`. Body and pre layers are named directly under the block's name.
 */
export interface ResidualSpec {
  /** Discriminant of the layer kind. */
  kind: "residual";
  /** The layer's name: its parameters' prefix ("conv1", "layer1.0"). */
  name: string;
  /** "basic", "bottleneck" or "wide". */
  label: string;
  /** Applied to the input before both branches (pre-activation blocks). */
  pre: LayerSpec[];
  /** The residual branch. */
  body: LayerSpec[];
  /** The shortcut branch; null is the identity. */
  shortcut: LayerSpec | null;
  /** Whether a ReLU follows the sum. */
  relu: boolean;
}

/** Any layer of a spec. */
export type LayerSpec =
  | Conv2dSpec
  | BatchNorm2dSpec
  | ReluSpec
  | MaxPool2dSpec
  | AvgPool2dSpec
  | AdaptiveAvgPool2dSpec
  | FlattenSpec
  | LinearSpec
  | DropoutSpec
  | SequentialSpec
  | ResidualSpec;

/** A whole model: a root sequential (empty name) and the arguments that built it. */
export interface ModelSpec extends SequentialSpec {
  /** The builder call, e.g. `resnet("basic", [2, 2, 2, 2], 10, { stem: "cifar" })`. */
  builder: string;
  /** Number of classes of the final linear layer. */
  classes: number;
}

/** What a parameter or buffer is, which decides its initial values. */
export type ParamRole =
  | "conv_weight"
  | "conv_bias"
  | "linear_weight"
  | "linear_bias"
  | "bn_weight"
  | "bn_bias"
  | "bn_running_mean"
  | "bn_running_var";

/** One tensor a spec declares: its PyTorch name, shape, role and fan-in (for initialization). */
export interface ParamInfo {
  name: string;
  shape: number[];
  role: ParamRole;
  fanIn: number;
  trainable: boolean;
}

/** Joins a path prefix and a name, skipping empty parts. */
export function joinName(prefix: string, name: string): string {
  return !prefix ? name : !name ? prefix : `${prefix}.${name}`;
}

/** The children of a group layer in execution order ([] for a leaf). */
export function children(layer: LayerSpec): LayerSpec[] {
  if (layer.kind === "sequential") return layer.layers;
  if (layer.kind === "residual") {
    return [...layer.pre, ...layer.body, ...(layer.shortcut ? [layer.shortcut] : [])];
  }
  return [];
}

/** Every parameter and buffer of a spec, in declaration order, with PyTorch state-dict names. */
export function paramInfos(spec: LayerSpec, prefix = ""): ParamInfo[] {
  const out: ParamInfo[] = [];
  const visit = (l: LayerSpec, at: string) => {
    const p = joinName(at, l.name);
    const add = (n: string, shape: number[], role: ParamRole, fanIn: number, trainable = true) =>
      out.push({ name: `${p}.${n}`, shape, role, fanIn, trainable });
    switch (l.kind) {
      case "conv2d": {
        const fanIn = l.in * l.kernel * l.kernel;
        add("weight", [l.out, l.in, l.kernel, l.kernel], "conv_weight", fanIn);
        if (l.bias) add("bias", [l.out], "conv_bias", fanIn);
        break;
      }
      case "linear":
        add("weight", [l.out, l.in], "linear_weight", l.in);
        if (l.bias) add("bias", [l.out], "linear_bias", l.in);
        break;
      case "batchnorm2d":
        add("weight", [l.channels], "bn_weight", 0);
        add("bias", [l.channels], "bn_bias", 0);
        add("running_mean", [l.channels], "bn_running_mean", 0, false);
        add("running_var", [l.channels], "bn_running_var", 0, false);
        break;
      default:
        for (const c of children(l)) visit(c, p);
    }
  };
  visit(spec, prefix);
  return out;
}

/** Number of trainable elements of a spec. */
export function parameterCount(spec: LayerSpec): number {
  return paramInfos(spec).filter((p) => p.trainable).reduce(
    (n, p) => n + p.shape.reduce((a, b) => a * b, 1),
    0,
  );
}

/** Names of every batch-norm layer (PyTorch keeps `<name>.num_batches_tracked` for each). */
export function batchNormNames(spec: LayerSpec): string[] {
  return paramInfos(spec).filter((p) => p.role === "bn_weight").map((p) =>
    p.name.slice(0, -".weight".length)
  );
}

/** One line describing a layer (without its children). */
export function describeLayer(l: LayerSpec): string {
  switch (l.kind) {
    case "conv2d":
      return `conv2d ${l.in}→${l.out}, ${l.kernel}×${l.kernel}, stride ${l.stride}, pad ${l.padding}` +
        (l.bias ? ", bias" : ", no bias");
    case "batchnorm2d":
      return `batchnorm2d ${l.channels}`;
    case "relu":
      return "relu";
    case "maxpool2d":
      return `maxpool2d ${l.kernel}×${l.kernel}, stride ${l.stride}, pad ${l.padding}`;
    case "avgpool2d":
      return `avgpool2d ${l.kernel}×${l.kernel}`;
    case "adaptavg2d":
      return `adaptavg2d → ${l.size.join("×")}`;
    case "flatten":
      return "flatten";
    case "linear":
      return `linear ${l.in}→${l.out}` + (l.bias ? ", bias" : ", no bias");
    case "dropout":
      return `dropout p=${l.p}`;
    case "sequential":
      return l.label && l.label !== l.name ? `sequential: ${l.label}` : "sequential";
    case "residual": {
      const x = l.pre.length ? "a" : "x";
      const sum = `body(${x}) + ${l.shortcut ? `${l.shortcut.name}(${x})` : x}`;
      const pre = l.pre.length ? "a = pre(x); " : "";
      return `residual ${l.label}: ${pre}${l.relu ? `relu(${sum})` : sum}`;
    }
  }
}

/** "resnet18a = resnet(…)" for a model, the name and description for any other layer. */
export function modelTitle(spec: LayerSpec): string {
  if ("builder" in spec) return `${(spec as ModelSpec).label} = ${(spec as ModelSpec).builder}`;
  return `${spec.name || "·"}  ${describeLayer(spec)}`;
}

/** Options of {@linkcode formatSpec}. */
export interface FormatSpecOptions {
  /** Deepest level printed (root children are level 1); deeper groups are summarised. */
  depth?: number;
}

/**
 * Prints a spec as a tree: each layer's name, what it is and its parameter count.
 *
 * @example
 * ```ts
 * console.log(formatSpec(resnet18a(10), { depth: 2 }));
 * ```
 */
export function formatSpec(spec: LayerSpec, options: FormatSpecOptions = {}): string {
  const depth = options.depth ?? Infinity;
  const rows: [string, string, string][] = [];
  const walk = (l: LayerSpec, indent: string, level: number) => {
    const kids = groupParts(l);
    kids.forEach(({ tag, layer }, i) => {
      const last = i === kids.length - 1;
      const group = layer.kind === "sequential" || layer.kind === "residual";
      const n = parameterCount(layer);
      rows.push([
        `${indent}${last ? "└─ " : "├─ "}${tag}${layer.name || "·"}`,
        describeLayer(layer),
        n ? n.toLocaleString("en-US") : "",
      ]);
      if (group && level < depth) walk(layer, indent + (last ? "   " : "│  "), level + 1);
    });
  };
  walk(spec, "", 1);
  const title = modelTitle(spec);
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(...rows.map((r) => r[1].length));
  const w2 = Math.max(10, ...rows.map((r) => r[2].length));
  const total = parameterCount(spec).toLocaleString("en-US");
  return [
    `${title}: ${total} parameters`,
    ...rows.map(([a, b, c]) => `${a.padEnd(w0)}  ${b.padEnd(w1)}  ${c.padStart(w2)}`.trimEnd()),
  ].join("\n");
}

function groupParts(l: LayerSpec): { tag: string; layer: LayerSpec }[] {
  if (l.kind === "sequential") return l.layers.map((layer) => ({ tag: "", layer }));
  if (l.kind === "residual") {
    return [
      ...l.pre.map((layer) => ({ tag: "pre ", layer })),
      ...l.body.map((layer) => ({ tag: "", layer })),
      ...(l.shortcut ? [{ tag: "+ ", layer: l.shortcut }] : []),
    ];
  }
  return [];
}
