// The convolutions a model runs at a batch size, as the conv tuner needs them (from its summary).
import { summary } from "./summary.ts";
import type { Conv2dSpec, LayerSpec } from "./spec.ts";

/** One convolution: input and weight shapes, stride and padding (engine's `TuneShape`). */
export interface ConvShape {
  x: number[];
  w: number[];
  stride: number;
  padding: number;
}

/** Every distinct convolution of `spec` at batch `batch`, in the order the forward pass runs them. */
export function convShapes(spec: LayerSpec, batch: number): ConvShape[] {
  const convs = new Map<string, Conv2dSpec>();
  const walk = (l: LayerSpec, at: string) => {
    const name = at && l.name ? `${at}.${l.name}` : at || l.name;
    if (l.kind === "conv2d") convs.set(name, l);
    if (l.kind === "sequential") l.layers.forEach((c) => walk(c, name));
    if (l.kind === "residual") {
      [...l.pre, ...l.body, ...(l.shortcut ? [l.shortcut] : [])].forEach((c) => walk(c, name));
    }
  };
  walk(spec, "");
  const seen = new Map<string, ConvShape>();
  for (const row of summary(spec).rows) {
    const c = convs.get(row.name);
    if (!c) continue;
    const shape: ConvShape = {
      x: [batch, ...row.input],
      w: [c.out, c.in, c.kernel, c.kernel],
      stride: c.stride,
      padding: c.padding,
    };
    seen.set(JSON.stringify(shape), shape);
  }
  return [...seen.values()];
}
