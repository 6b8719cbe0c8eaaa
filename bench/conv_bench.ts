// Benchmark of every distinct conv2d shape of resnet18a and WRN-16-8 (docs/recipes.md), per direction.
// Every 3×3 stride-1 shape is timed with all three algorithms (direct, Winograd F(2×2) and
// F(4×4)), side by side.
// Standalone: deno run -A bench/conv_bench.ts --batch 8 [--quick] [--variant blocked|tiled|winograd|winograd4]
//             [--conv direct|winograd|auto] [--only <label substring>] [--runs 5]
import { Engine } from "../engine/engine.ts";
import { uniformTensor } from "../engine/random.ts";
import {
  conv2dBackwardInput,
  conv2dBackwardWeight,
  conv2dForward,
  type Conv2dVariant,
} from "../engine/ops/conv2d/mod.ts";
import {
  chooseConfig,
  type Conv2dConfig,
  type Conv2dDirection,
  type Conv2dMode,
  isWinograd,
  winogradApplies,
} from "../engine/ops/conv2d/choice.ts";
import { conv2dGeometry } from "../engine/ops/conv2d/mod.ts";
import { candidatesFor } from "../engine/ops/conv2d/candidates.ts";
import { GpuTimer } from "./timing.ts";

/** One conv layer shape on 32×32 CIFAR images (batch left out). */
export interface ConvLayer {
  label: string;
  C: number;
  H: number;
  K: number;
  R: number;
  stride: number;
  padding: number;
}

/** The distinct convolutions of resnet18a and WRN-16-8 (stem, blocks, shortcuts). */
export const CONV_LAYERS: ConvLayer[] = [
  { label: "res stem 3→64 32²", C: 3, H: 32, K: 64, R: 3, stride: 1, padding: 1 },
  { label: "res 64→64 32²", C: 64, H: 32, K: 64, R: 3, stride: 1, padding: 1 },
  { label: "res 64→128 s2 32²", C: 64, H: 32, K: 128, R: 3, stride: 2, padding: 1 },
  { label: "res 128→128 16²", C: 128, H: 16, K: 128, R: 3, stride: 1, padding: 1 },
  { label: "res ds 64→128 1×1 s2", C: 64, H: 32, K: 128, R: 1, stride: 2, padding: 0 },
  { label: "res 128→256 s2 16²", C: 128, H: 16, K: 256, R: 3, stride: 2, padding: 1 },
  { label: "res 256→256 8²", C: 256, H: 8, K: 256, R: 3, stride: 1, padding: 1 },
  { label: "res ds 128→256 1×1 s2", C: 128, H: 16, K: 256, R: 1, stride: 2, padding: 0 },
  { label: "res 256→512 s2 8²", C: 256, H: 8, K: 512, R: 3, stride: 2, padding: 1 },
  { label: "res 512→512 4²", C: 512, H: 4, K: 512, R: 3, stride: 1, padding: 1 },
  { label: "res ds 256→512 1×1 s2", C: 256, H: 8, K: 512, R: 1, stride: 2, padding: 0 },
  { label: "wrn stem 3→16 32²", C: 3, H: 32, K: 16, R: 3, stride: 1, padding: 1 },
  { label: "wrn 16→128 32²", C: 16, H: 32, K: 128, R: 3, stride: 1, padding: 1 },
  { label: "wrn sc 16→128 1×1 32²", C: 16, H: 32, K: 128, R: 1, stride: 1, padding: 0 },
  { label: "wrn 128→128 32²", C: 128, H: 32, K: 128, R: 3, stride: 1, padding: 1 },
  { label: "wrn 128→256 s2 32²", C: 128, H: 32, K: 256, R: 3, stride: 2, padding: 1 },
  { label: "wrn sc 128→256 1×1 s2", C: 128, H: 32, K: 256, R: 1, stride: 2, padding: 0 },
  { label: "wrn 256→256 16²", C: 256, H: 16, K: 256, R: 3, stride: 1, padding: 1 },
  { label: "wrn 256→512 s2 16²", C: 256, H: 16, K: 512, R: 3, stride: 2, padding: 1 },
  { label: "wrn sc 256→512 1×1 s2", C: 256, H: 16, K: 512, R: 1, stride: 2, padding: 0 },
  { label: "wrn 512→512 8²", C: 512, H: 8, K: 512, R: 3, stride: 1, padding: 1 },
];

/** One measured (shape, direction). */
export interface ConvBenchRow {
  label: string;
  direction: Conv2dDirection;
  /** Median ms per call (GPU timestamps where available, else wall). */
  ms: number;
  /** Effective GFLOP/s: direct-convolution FLOPs over the time, whatever the algorithm. */
  gflops: number;
  variant: string;
  /** The row of the algorithm conv2d does not choose here (the side-by-side comparison). */
  alternative: boolean;
  /** Direct ms over Winograd ms on 3×3 stride-1 shapes (on the Winograd rows), else null. */
  speedup: number | null;
  /** Wall ms of the first call (pipeline compilation included). */
  firstMs: number;
}

/** Options of {@linkcode benchConv}. */
export interface ConvBenchOptions {
  batch: number;
  /** Fewer runs. */
  quick?: boolean;
  variant?: Conv2dVariant | Conv2dConfig;
  /** Only layers whose label contains this. */
  only?: string;
  runs?: number;
  /** Also time every candidate of the tuner (candidatesFor), not only the algorithms. */
  candidates?: boolean;
}

/** Times forward, backward-input and backward-weight of every distinct conv shape. */
export async function benchConv(e: Engine, options: ConvBenchOptions): Promise<ConvBenchRow[]> {
  const timer = new GpuTimer(e);
  const rows: ConvBenchRow[] = [];
  const N = options.batch;
  for (const l of CONV_LAYERS) {
    if (options.only && !l.label.includes(options.only)) continue;
    const x = e.keep(uniformTensor(e, [N, l.C, l.H, l.H], 1, -0.5, 0.5));
    const w = e.keep(uniformTensor(e, [l.K, l.C, l.R, l.R], 2, -0.5, 0.5));
    const g = conv2dGeometry("bench", x.shape, w.shape, l.stride, l.padding);
    const gy = e.keep(uniformTensor(e, [N, l.K, g.P, g.Q], 3, -0.5, 0.5));
    const geo = { stride: l.stride, padding: l.padding };
    const flops = 2 * N * l.K * g.P * g.Q * l.C * l.R * l.R;
    const runs: [Conv2dDirection, (cfg: Conv2dConfig) => void][] = [
      ["forward", (variant) => conv2dForward(x, w, { ...geo, variant })],
      [
        "backwardInput",
        (variant) => conv2dBackwardInput(gy, w, { ...geo, variant, inputShape: x.shape }),
      ],
      [
        "backwardWeight",
        (variant) => conv2dBackwardWeight(x, gy, { ...geo, variant, kernelSize: [l.R, l.R] }),
      ],
    ];
    for (const [direction, run] of runs) {
      const chosen = chooseConfig(e, direction, g, options.variant);
      // 3×3 stride 1: the chosen config, then the other algorithms (direct, F(2×2), F(4×4)).
      const all: Conv2dConfig[] = [
        { variant: e.gpu.software ? "blocked" : "tiled" },
        { variant: "winograd" },
        { variant: "winograd4" },
      ];
      const others = options.variant || !winogradApplies(g)
        ? []
        : all.filter((c) =>
          isWinograd(c.variant) ? c.variant !== chosen.variant : isWinograd(chosen.variant)
        );
      if (options.candidates && !options.variant) {
        const seen = new Set([chosen, ...others].map((c) => JSON.stringify(c)));
        for (const c of candidatesFor(e, direction, g)) {
          if (seen.has(JSON.stringify(c))) continue;
          others.push(c);
          seen.add(JSON.stringify(c));
        }
      }
      const timed: ConvBenchRow[] = [];
      for (const cfg of [chosen, ...others]) {
        const fn = () => run(cfg);
        const t0 = performance.now();
        e.scope(fn);
        await e.sync();
        const firstMs = performance.now() - t0;
        const t = await timer.time(fn, {
          warmup: 1,
          runs: options.runs ?? (options.quick ? 3 : 5),
        });
        timed.push({
          label: l.label,
          direction,
          ms: t.median,
          gflops: flops / t.median / 1e6,
          variant: cfg.variant + (cfg.tiles ? JSON.stringify(cfg.tiles) : ""),
          firstMs,
          alternative: cfg !== chosen,
          speedup: null,
        });
      }
      const direct = timed.find((r) => !r.variant.startsWith("winograd"));
      for (const r of timed) if (direct && r !== direct) r.speedup = direct.ms / r.ms;
      rows.push(...timed);
    }
    for (const t of [x, w, gy]) t.dispose();
  }
  timer.dispose();
  return rows;
}

/** Rows as a fixed-width table. */
export function formatConvRows(rows: ConvBenchRow[]): string {
  const head = `${"shape".padEnd(24)} ${"direction".padEnd(15)} ${"ms".padStart(9)} ${
    "eff GF/s".padStart(8)
  } ${"first ms".padStart(9)} ${"×direct".padStart(7)}  variant`;
  return [
    head,
    ...rows.map((r) =>
      `${r.label.padEnd(24)} ${r.direction.padEnd(15)} ${r.ms.toFixed(2).padStart(9)} ${
        r.gflops.toFixed(2).padStart(8)
      } ${r.firstMs.toFixed(0).padStart(9)} ${
        (r.speedup?.toFixed(2) ?? "").padStart(7)
      }  ${r.variant}${r.alternative ? " (not chosen)" : ""}`
    ),
  ].join("\n");
}

if (import.meta.main) {
  const arg = (name: string) => {
    const i = Deno.args.indexOf(`--${name}`);
    return i >= 0 ? Deno.args[i + 1] : undefined;
  };
  const e = await Engine.create();
  e.conv2d.mode = (arg("conv") ?? "auto") as Conv2dMode;
  console.log(`adapter: ${e.gpu.name}${e.gpu.software ? " (software)" : ""}`);
  const rows = await benchConv(e, {
    batch: Number(arg("batch") ?? 8),
    quick: Deno.args.includes("--quick"),
    variant: arg("tiles")
      ? {
        variant: (arg("variant") ?? "blocked") as Conv2dVariant,
        tiles: JSON.parse(arg("tiles")!),
      }
      : arg("variant") as Conv2dVariant | undefined,
    only: arg("only"),
    runs: arg("runs") ? Number(arg("runs")) : undefined,
  });
  console.log(formatConvRows(rows));
  await e.close();
}
