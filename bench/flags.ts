// Flags of `deno task bench`: parsing with node:util, the usage text, errors that name the flag.
import { parseArgs } from "node:util";

/** The usage text. */
export const USAGE = `Usage: deno task bench [options]

Measures, in one run on whatever WebGPU adapter is present: the adapter; the ceilings (best
f32 matmul GFLOP/s, copy GB/s); every distinct conv shape of resnet18a and WRN-16-8 (forward,
backward-input, backward-weight); batch norm, pooling, dropout; softmax-CE, the linear head and
SGD; whole training and eval steps of both models; where a training step's GPU time goes
(each dispatch timed on its own, summed per kernel); the GPU batch builder. Times are medians
after warm-up, from GPU timestamps when the adapter has timestamp-query, else wall time.

Options:
  --quick            a short run (under a minute on lavapipe): smaller sizes, fewer runs
  --filter NAME      only rows whose name (or section title) contains NAME (case-insensitive)
  --batch N          batch of the kernel rows (default 125 on a hardware adapter; on a
                     software adapter 32, or 4 with --quick: every conv shape at batch 125
                     is ~3 TFLOP of timed work, over 15 minutes on lavapipe)
  --step-batch N     batch of the whole-model steps (default: --batch on a hardware adapter;
                     on a software adapter 8, or 1 with --quick: one resnet18a training step
                     at batch 125 is ~0.4 TFLOP)
  --conv MODE        direct | winograd | auto (default): the conv2d algorithm of every row; the
                     conv rows also time the other algorithm of each 3×3 stride-1 shape
  --candidates       conv rows also time every candidate the tuner would measure on this
                     adapter (engine/ops/conv2d/candidates.ts), to show the spread
  --json FILE        write every figure to FILE
  --compare FILE     print each figure's ratio to an earlier --json FILE (same run, same machine)
  --vs tfjs          also time resnet18a's training step in TensorFlow.js (webgpu backend) on
                     the same adapter at batch 8 and print our speed-up
  --help             this text
`;

/** Parsed command line. */
/** Parsed bench flags. */
export interface Flags {
  quick: boolean;
  filter: string;
  batch: number | null;
  stepBatch: number | null;
  json: string | null;
  compare: string | null;
  vsTfjs: boolean;
  conv: "direct" | "winograd" | "auto";
  candidates: boolean;
}

function usageError(message: string): never {
  console.error(`bench: ${message}\n\n${USAGE}`);
  Deno.exit(2);
}

function positiveInt(name: string, v: string | undefined): number | null {
  if (v === undefined) return null;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) usageError(`--${name} needs a positive integer, got "${v}"`);
  return n;
}

/** Parses the bench arguments; a bad flag prints the usage and exits 2. */
export function parseFlags(args: string[]): Flags {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        quick: { type: "boolean" },
        filter: { type: "string" },
        batch: { type: "string" },
        "step-batch": { type: "string" },
        json: { type: "string" },
        compare: { type: "string" },
        vs: { type: "string" },
        conv: { type: "string" },
        candidates: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (e) {
    usageError((e as Error).message);
  }
  if (values.help) {
    console.log(USAGE);
    Deno.exit(0);
  }
  if (values.vs !== undefined && values.vs !== "tfjs") {
    usageError(`--vs knows only "tfjs", got "${values.vs}"`);
  }
  const conv = values.conv ?? "auto";
  if (conv !== "direct" && conv !== "winograd" && conv !== "auto") {
    usageError(`--conv must be direct, winograd or auto, got "${conv}"`);
  }
  return {
    conv,
    candidates: values.candidates ?? false,
    quick: values.quick ?? false,
    filter: (values.filter ?? "").toLowerCase(),
    batch: positiveInt("batch", values.batch),
    stepBatch: positiveInt("step-batch", values["step-batch"]),
    json: values.json ?? null,
    compare: values.compare ?? null,
    vsTfjs: values.vs === "tfjs",
  };
}
