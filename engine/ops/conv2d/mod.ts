// 2-D convolution (NCHW, zero padding, optional bias) with its gradients on the tape.
import type { Tensor } from "../../tensor.ts";
import { chooseConfig, type Conv2dConfig, type Conv2dVariant, isWinograd } from "./choice.ts";
import { conv2dGeometry, type ConvGeometry } from "./geometry.ts";
import {
  runBackwardInput,
  runBackwardWeight,
  runBiasGrad,
  runForward,
  type SavedFilters,
} from "./dispatch.ts";

export { type Conv2dConfig, type Conv2dMode, type Conv2dVariant } from "./choice.ts";
export { Conv2dState } from "./state.ts";
export { conv2dGeometry, type ConvGeometry } from "./geometry.ts";

/** Options of {@linkcode conv2d}. */
export interface Conv2dOptions {
  /** Step between output positions (default 1). */
  stride?: number;
  /** Zero rows/columns added on every side (default 0). */
  padding?: number;
  /** Per-output-channel bias [K], or null. */
  bias?: Tensor | null;
}

/** Options of the raw kernels: geometry plus an optional variant or config to force. */
export interface RawConv2dOptions {
  stride?: number;
  padding?: number;
  variant?: Conv2dVariant | Conv2dConfig;
}

function dims(op: string, t: Tensor, what: string): number[] {
  if (t.shape.length !== 4 || t.dtype !== "f32") {
    throw new RangeError(`${op}: ${what} must be a 4-D f32 tensor, got ${t}`);
  }
  return [...t.shape];
}

/** Raw forward kernel: y [N,K,P,Q] = conv(x [N,C,H,W], w [K,C,R,S]) (+ bias [K]); no tape. */
export function conv2dForward(
  x: Tensor,
  w: Tensor,
  options: RawConv2dOptions & { bias?: Tensor | null; saved?: SavedFilters } = {},
): Tensor {
  const g = conv2dGeometry(
    "conv2dForward",
    dims("conv2dForward", x, "x"),
    dims("conv2dForward", w, "w"),
    options.stride,
    options.padding,
  );
  const bias = options.bias ?? null;
  if (bias && (bias.size !== g.K || bias.dtype !== "f32")) {
    throw new RangeError(`conv2dForward: bias must be f32 [${g.K}], got ${bias}`);
  }
  const cfg = chooseConfig(x.engine, "forward", g, options.variant);
  return runForward(x, w, bias, g, cfg, options.saved);
}

/** Raw backward-input kernel: dL/dx [N,C,H,W] from gy [N,K,P,Q] and w [K,C,R,S]. */
export function conv2dBackwardInput(
  gy: Tensor,
  w: Tensor,
  options: RawConv2dOptions & { inputShape: readonly number[] },
): Tensor {
  const op = "conv2dBackwardInput";
  const g = conv2dGeometry(
    op,
    options.inputShape,
    dims(op, w, "w"),
    options.stride,
    options.padding,
  );
  checkGy(op, gy, g);
  return runBackwardInput(gy, w, g, chooseConfig(gy.engine, "backwardInput", g, options.variant));
}

/** Raw backward-weight kernel: dL/dw [K,C,R,S] from x [N,C,H,W] and gy [N,K,P,Q]. */
export function conv2dBackwardWeight(
  x: Tensor,
  gy: Tensor,
  options: RawConv2dOptions & { kernelSize: readonly [number, number] | number[] },
): Tensor {
  const op = "conv2dBackwardWeight";
  const xs = dims(op, x, "x");
  const [R, S] = options.kernelSize;
  const g = conv2dGeometry(op, xs, [gy.shape[1], xs[1], R, S], options.stride, options.padding);
  checkGy(op, gy, g);
  return runBackwardWeight(x, gy, g, chooseConfig(x.engine, "backwardWeight", g, options.variant));
}

/** Raw bias gradient: gy [N,K,P,Q] summed over N, P, Q → [K]. */
export function conv2dBiasGrad(gy: Tensor): Tensor {
  dims("conv2dBiasGrad", gy, "gy");
  return runBiasGrad(gy);
}

function checkGy(op: string, gy: Tensor, g: ConvGeometry): void {
  const want = [g.N, g.K, g.P, g.Q];
  if (gy.shape.length !== 4 || gy.shape.some((d, i) => d !== want[i])) {
    throw new RangeError(`${op}: gy must be [${want}] for this geometry, got ${gy}`);
  }
}

/**
 * 2-D convolution of x [N,C,H,W] with w [K,C,R,S] → [N,K,P,Q], recorded on the tape with
 * gradients for x, w and bias (each only where it requires one).
 *
 * @example
 * ```ts
 * const y = conv2d(x, w, { stride: 1, padding: 1 }); // 3×3 "same" convolution
 * ```
 */
export function conv2d(x: Tensor, w: Tensor, options: Conv2dOptions = {}): Tensor {
  const stride = options.stride ?? 1, padding = options.padding ?? 0;
  const bias = options.bias ?? null;
  const e = x.engine;
  const g = conv2dGeometry(
    "conv2dForward",
    dims("conv2dForward", x, "x"),
    dims("conv2dForward", w, "w"),
    stride,
    padding,
  );
  // A Winograd forward leaves the flipped filter transform for a Winograd backward-input.
  const saved: SavedFilters = {};
  const keep = e.gradEnabled && x.requiresGrad &&
    isWinograd(chooseConfig(e, "backwardInput", g).variant);
  const y = conv2dForward(x, w, { stride, padding, bias, saved: keep ? saved : undefined });
  const inputs = bias ? [x, w, bias] : [x, w];
  e.record(inputs, y, (gy) => {
    const gi = chooseConfig(e, "backwardInput", g);
    return [
      x.requiresGrad ? runBackwardInput(gy, w, g, gi, saved) : null,
      w.requiresGrad ? runBackwardWeight(x, gy, g, chooseConfig(e, "backwardWeight", g)) : null,
      bias?.requiresGrad ? runBiasGrad(gy) : null,
    ];
  });
  return y;
}
