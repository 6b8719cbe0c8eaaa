// conv2d cases of the kernel tier (tests/kernel_cases.ts): forward with bias, backward-input,
// backward-weight and the bias gradient, in every variant the engine may choose (a tuned choice
// can be any of them), on odd shapes; the Winograd ones on the 3×3 stride-1 shapes they take.
import type { Engine } from "../engine/engine.ts";
import {
  conv2dBackwardInput,
  conv2dBackwardWeight,
  conv2dBiasGrad,
  conv2dForward,
  type Conv2dVariant,
} from "../engine/ops/conv2d/mod.ts";
import {
  conv2dBackwardInputRef,
  conv2dBackwardWeightRef,
  conv2dBiasGradRef,
  conv2dRef,
  convOut,
  type ConvShape,
} from "./reference/conv2d.ts";
import { type KernelCase, type Outputs, rand } from "./kernel_case.ts";

const DIRECT: ConvShape[] = [
  { N: 2, C: 3, H: 8, W: 8, K: 4, R: 3, S: 3, stride: 1, padding: 1 }, // the first conv
  { N: 2, C: 6, H: 9, W: 7, K: 10, R: 1, S: 1, stride: 2, padding: 0 },
  { N: 1, C: 3, H: 9, W: 9, K: 5, R: 7, S: 7, stride: 2, padding: 3 },
];
const WINOGRAD: ConvShape[] = [
  { N: 2, C: 17, H: 7, W: 9, K: 18, R: 3, S: 3, stride: 1, padding: 1 },
  { N: 3, C: 8, H: 8, W: 8, K: 12, R: 3, S: 3, stride: 1, padding: 0 },
  { N: 1, C: 5, H: 6, W: 5, K: 4, R: 3, S: 3, stride: 1, padding: 2 },
];

function inputs(s: ConvShape) {
  const { P, Q } = convOut(s);
  const seed = s.N * 1000 + s.C * 100 + s.H * 10 + s.K;
  return {
    x: rand(s.N * s.C * s.H * s.W, seed),
    w: rand(s.K * s.C * s.R * s.S, seed + 1),
    b: rand(s.K, seed + 2),
    gy: rand(s.N * s.K * P * Q, seed + 3),
    P,
    Q,
  };
}

function convCase(variant: Conv2dVariant, s: ConvShape): KernelCase {
  const taps = s.C * s.R * s.S;
  // Winograd transforms add rounding (F(4×4)'s matrices hold values up to 8/3 and 1/4).
  const rtol = variant === "winograd4" ? 1e-3 : variant === "winograd" ? 3e-4 : 1e-4;
  return {
    family: `conv2d ${variant}`,
    name: `${s.N}×${s.C}×${s.H}×${s.W} * ${s.K}×${s.C}×${s.R}×${s.S} s${s.stride} p${s.padding}`,
    tol: {
      atol: rtol,
      rtol,
      why: `f32 sums of up to ${Math.max(taps, s.N * 81)} products of values in [-1, 1]` +
        (variant.startsWith("winograd") ? " through Winograd transforms" : ""),
    },
    gpu: async (e: Engine): Promise<Outputs> => {
      const i = inputs(s);
      const x = e.upload(i.x, [s.N, s.C, s.H, s.W]);
      const w = e.upload(i.w, [s.K, s.C, s.R, s.S]);
      const gy = e.upload(i.gy, [s.N, s.K, i.P, i.Q]);
      const geo = { stride: s.stride, padding: s.padding, variant };
      const y = conv2dForward(x, w, { ...geo, bias: e.upload(i.b, [s.K]) });
      const gx = conv2dBackwardInput(gy, w, { ...geo, inputShape: x.shape });
      const gw = conv2dBackwardWeight(x, gy, { ...geo, kernelSize: [s.R, s.S] });
      const gb = conv2dBiasGrad(gy);
      return { y: await y.read(), gx: await gx.read(), gw: await gw.read(), gb: await gb.read() };
    },
    ref: () => {
      const i = inputs(s);
      return {
        y: conv2dRef(s, i.x, i.w, i.b),
        gx: conv2dBackwardInputRef(s, i.gy, i.w),
        gw: conv2dBackwardWeightRef(s, i.x, i.gy),
        gb: conv2dBiasGradRef(s, i.gy),
      };
    },
  };
}

/**
 * Each variant on shapes of its own kind: blocked (the software adapters' default) on a 3×3, a
 * strided 1×1 and a 7×7 stem; tiled (the hardware default, and a tuned choice anywhere) on the
 * first (SwiftShader takes 20–60 s to compile each tiled shape); Winograd on 3×3 stride 1 with
 * padding 0, 1 and 2.
 */
export const CONV_CASES: KernelCase[] = [
  ...DIRECT.map((s) => convCase("blocked", s)),
  convCase("tiled", DIRECT[0]),
  ...(["winograd", "winograd4"] as const).flatMap((v) =>
    [DIRECT[0], ...WINOGRAD].map((s) => convCase(v, s))
  ),
];
