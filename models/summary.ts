// Model summary: output shape, parameters and forward FLOPs of every layer for one input size (pure TS).
import { describeLayer, joinName, type LayerSpec, modelTitle, parameterCount } from "./spec.ts";

/** One layer of a summary. Shapes are per image: [C, H, W] or [features]. */
export interface SummaryRow {
  /** Full dotted name ("layer2.0.conv1"); groups too. */
  name: string;
  /** Depth in the tree (root children: 1). */
  level: number;
  /** Layer kind. */
  kind: LayerSpec["kind"];
  /** One-line description ("conv 3×3 64→64"). */
  description: string;
  /** Per-image input shape of the layer. */
  input: number[];
  /** Per-image output shape. */
  output: number[];
  /** Parameters of the layer (groups: of all their layers). */
  params: number;
  /** Forward FLOPs per image: 2 × multiply-adds of convolutions and linear layers. */
  flops: number;
}

/** What {@linkcode summary} returns: totals and one row per layer. */
export interface Summary {
  /** Model name. */
  model: string;
  /** Per-image input shape. */
  input: number[];
  /** Per-image output shape. */
  output: number[];
  /** Parameters in all. */
  params: number;
  /** Forward FLOPs per image (2 × multiply-adds, convolutions and linear layers). */
  flops: number;
  /** Elements of every layer output per image (a rough activation-memory figure). */
  activations: number;
  /** One row per layer and group, in order. */
  rows: SummaryRow[];
}

const MODEL_INPUT = [3, 32, 32];

/**
 * Infers every layer's output shape for `input` ([C, H, W], default CIFAR's [3, 32, 32]),
 * counting parameters and forward FLOPs; throws naming the layer where shapes do not fit.
 *
 * @example
 * ```ts
 * summary(resnet18a(10)).flops; // ≈ 1.11e9
 * ```
 */
export function summary(spec: LayerSpec, options: { input?: number[] } = {}): Summary {
  const input = options.input ?? MODEL_INPUT;
  const rows: SummaryRow[] = [];
  let activations = 0;
  const fail = (name: string, why: string): never => {
    throw new RangeError(`summary: layer "${name || "(root)"}" ${why}`);
  };
  const visit = (l: LayerSpec, x: number[], at: string, level: number): number[] => {
    const name = joinName(at, l.name);
    const row: SummaryRow = {
      name,
      level,
      kind: l.kind,
      description: describeLayer(l),
      input: [...x],
      output: [],
      params: parameterCount(l),
      flops: 0,
    };
    if (level > 0) rows.push(row);
    const start = rows.length;
    const spatial = () => x.length === 3 ? x : fail(name, `needs [C, H, W], got [${x}]`);
    const window = (k: number, s: number, p: number) => {
      const [c, h, w] = spatial();
      const [oh, ow] = [h, w].map((d) => Math.floor((d + 2 * p - k) / s) + 1);
      if (oh < 1 || ow < 1) fail(name, `makes an empty output from [${x}]`);
      return [c, oh, ow];
    };
    let y: number[];
    switch (l.kind) {
      case "conv2d": {
        if (spatial()[0] !== l.in) fail(name, `expects ${l.in} channels, got [${x}]`);
        y = window(l.kernel, l.stride, l.padding);
        y[0] = l.out;
        row.flops = 2 * l.in * l.kernel * l.kernel * y[0] * y[1] * y[2];
        break;
      }
      case "batchnorm2d":
        if (spatial()[0] !== l.channels) fail(name, `expects ${l.channels} channels, got [${x}]`);
        y = x;
        break;
      case "maxpool2d":
        y = window(l.kernel, l.stride, l.padding);
        break;
      case "avgpool2d":
        y = window(l.kernel, l.kernel, 0);
        break;
      case "adaptavg2d":
        y = [spatial()[0], 1, 1];
        break;
      case "flatten":
        y = [x.reduce((a, b) => a * b, 1)];
        break;
      case "linear":
        if (x.length !== 1 || x[0] !== l.in) fail(name, `expects [${l.in}], got [${x}]`);
        y = [l.out];
        row.flops = 2 * l.in * l.out;
        break;
      case "relu":
      case "dropout":
        y = x;
        break;
      case "sequential":
        y = l.layers.reduce((h, c) => visit(c, h, name, level + 1), x);
        break;
      case "residual": {
        const a = l.pre.reduce((h, c) => visit(c, h, name, level + 1), x);
        y = l.body.reduce((h, c) => visit(c, h, name, level + 1), a);
        const s = l.shortcut ? visit(l.shortcut, a, name, level + 1) : a;
        if (s.join() !== y.join()) fail(name, `adds body [${y}] to shortcut [${s}]`);
        break;
      }
    }
    row.output = [...y];
    const kids = rows.slice(start);
    if (kids.length) {
      row.flops = kids.filter((r) => r.level === level + 1).reduce((n, r) => n + r.flops, 0);
    } else activations += y.reduce((a, b) => a * b, 1);
    return y;
  };
  const output = visit(spec, [...input], "", 0);
  const flops = rows.filter((r) => r.level === 1).reduce((n, r) => n + r.flops, 0);
  const model = modelTitle(spec);
  return {
    model,
    input: [...input],
    output,
    params: parameterCount(spec),
    flops,
    activations,
    rows,
  };
}

/** Prints a summary as a table (down to `depth`, default 2 levels), then the totals. */
export function formatSummary(s: Summary, options: { depth?: number } = {}): string {
  const depth = options.depth ?? 2;
  const fmt = (n: number) => n ? n.toLocaleString("en-US") : "";
  const gf = (n: number) => n ? `${(n / 1e9).toFixed(4)}` : "";
  const table = [["layer", "kind", "output", "params", "GFLOP"]];
  for (const r of s.rows) {
    if (r.level > depth) continue;
    const kind = r.kind === "residual" || r.kind === "sequential" ? r.description : r.kind;
    table.push([
      "  ".repeat(r.level - 1) + r.name,
      kind,
      `[${r.output.join(", ")}]`,
      fmt(r.params),
      gf(r.flops),
    ]);
  }
  const w = table[0].map((_, i) => Math.max(...table.map((r) => r[i].length)));
  const lines = table.map((r) =>
    r.map((c, i) => (i >= 3 ? c.padStart(w[i]) : c.padEnd(w[i]))).join("  ").trimEnd()
  );
  lines.splice(1, 0, "─".repeat(lines[0].length));
  return [
    s.model,
    ...lines,
    `input [${s.input.join(", ")}] → output [${s.output.join(", ")}]; ${
      fmt(s.params)
    } parameters; ` +
    `${(s.flops / 1e9).toFixed(3)} GFLOP forward per image; ${
      fmt(s.activations)
    } activations per image`,
  ].join("\n");
}
