// Pooling ops over NCHW f32 with gradients: max pool, average pool, adaptive average pool, flatten.
import type { Tensor } from "../tensor.ts";
import { grid } from "../grid.ts";
import code from "../../kernels/pool.wgsl" with { type: "text" };

const SRC = { name: "pool.wgsl", code };

/** Options of {@linkcode maxPool2d} (PyTorch's defaults of the ImageNet ResNet stem). */
export interface MaxPoolOptions {
  /** Window side (default 3). */
  kernel?: number;
  /** Stride (default 2). */
  stride?: number;
  /** Zero padding on each side (default 1, at most half the window; padded positions never win). */
  padding?: number;
}

/** The kernels' Params: planes N·C, input H×W, output P×Q, window, stride and padding. */
type Window = Record<
  "planes" | "H" | "W" | "P" | "Q" | "KH" | "KW" | "SH" | "SW" | "PH" | "PW",
  number
>;

function planeDims(op: string, x: Tensor): [number, number, number, number] {
  if (x.shape.length !== 4 || x.dtype !== "f32") {
    throw new RangeError(`${op}: expected an f32 [N, C, H, W] tensor, got ${x}`);
  }
  return x.shape as [number, number, number, number];
}

function window(op: string, x: Tensor, k: [number, number], s: number, pad: number): Window {
  const [N, C, H, W] = planeDims(op, x);
  const P = Math.floor((H + 2 * pad - k[0]) / s) + 1;
  const Q = Math.floor((W + 2 * pad - k[1]) / s) + 1;
  if (!(s >= 1) || P < 1 || Q < 1) {
    throw new RangeError(`${op}: window ${k.join("×")} stride ${s} does not fit ${x}`);
  }
  return { planes: N * C, H, W, P, Q, KH: k[0], KW: k[1], SH: s, SW: s, PH: pad, PW: pad };
}

/**
 * Max pool over each plane ([N, C, H, W] → [N, C, P, Q], P = ⌊(H + 2·pad − k)/s⌋ + 1).
 * Padding never wins; the first maximum in a window gets the gradient (its index is kept).
 */
export function maxPool2d(x: Tensor, options: MaxPoolOptions = {}): Tensor {
  const { kernel = 3, stride = 2, padding = 1 } = options;
  if (!Number.isInteger(kernel) || kernel < 1 || padding < 0 || 2 * padding > kernel) {
    throw new RangeError(`maxPool2d: padding ${padding} must be at most half of kernel ${kernel}`);
  }
  const e = x.engine;
  const p = window("maxPool2d", x, [kernel, kernel], stride, padding);
  const shape = [x.shape[0], x.shape[1], p.P, p.Q];
  const y = e.tensor(shape);
  const arg = e.tensor(shape, "u32");
  e.run(SRC, "maxPoolForward", { x, y, arg, p }, grid(y.size, 256));
  e.record([x], y, (gy) => {
    const gx = e.tensor(x.shape);
    e.run(SRC, "maxPoolBackward", { gy, argIn: arg, gx, p }, grid(x.size, 256));
    arg.dispose();
    return [gx];
  });
  if (!y.requiresGrad) arg.dispose();
  return y;
}

function avgPool(x: Tensor, p: Window): Tensor {
  const e = x.engine;
  const y = e.tensor([x.shape[0], x.shape[1], p.P, p.Q]);
  e.run(SRC, "avgPoolForward", { x, y, p }, grid(y.size, 256));
  e.record([x], y, (gy) => {
    const gx = e.tensor(x.shape);
    e.run(SRC, "avgPoolBackward", { gy, gx, p }, grid(x.size, 256));
    return [gx];
  });
  return y;
}

/** Average pool with stride = kernel and no padding ([N, C, H, W] → [N, C, ⌊H/k⌋, ⌊W/k⌋]). */
export function avgPool2d(x: Tensor, kernel: number): Tensor {
  if (!Number.isInteger(kernel) || kernel < 1) {
    throw new RangeError(`avgPool2d: kernel must be a positive integer, got ${kernel}`);
  }
  return avgPool(x, window("avgPool2d", x, [kernel, kernel], kernel, 0));
}

/** Mean of each plane: [N, C, H, W] → [N, C, 1, 1] (PyTorch's AdaptiveAvgPool2d(1)). */
export function adaptiveAvgPool2d(x: Tensor): Tensor {
  const [N, C, H, W] = planeDims("adaptiveAvgPool2d", x);
  const p = { planes: N * C, H, W, P: 1, Q: 1, KH: H, KW: W, SH: H, SW: W, PH: 0, PW: 0 };
  return avgPool(x, p);
}

/**
 * [N, C, H, W] → [N, C·H·W] (any [N, …] → [N, rest]). A copy, so the result owns its buffer
 * and either tensor may be disposed first; the inputs it follows are small (after pooling).
 */
export function flatten(x: Tensor): Tensor {
  const e = x.engine;
  if (x.shape.length < 1) throw new RangeError(`flatten: ${x} has no batch dimension`);
  const y = e.tensor([x.shape[0], x.size / Math.max(1, x.shape[0])], x.dtype);
  e.copy(x, y);
  e.record([x], y, (gy) => {
    const gx = e.tensor(x.shape);
    e.copy(gy, gx);
    return [gx];
  });
  return y;
}
