// The training tasks' flags: parsing with errors that name the flag, and the usage text.
import { parseArgs } from "node:util";
import { type Recipe, type RecipeName, RECIPES } from "./recipes.ts";
import { UsageError } from "./output_paths.ts";
import type { Conv2dMode } from "../engine/ops/conv2d/choice.ts";

/** Parsed flags of a training run. */
export interface TrainFlags {
  recipe: Recipe;
  epochs: number;
  limit: number | null;
  testLimit: number | null;
  batch: number;
  data?: string;
  noDownload: boolean;
  seed: number;
  checkpoint: string;
  resume?: string;
  /** Resume from --checkpoint when it holds an unfinished run of these settings (requeued jobs). */
  autoResume: boolean;
  overwrite: boolean;
  metrics?: string;
  /** Conv tuning cache file, or null for none (`--tune-cache off`); undefined: the default. */
  tuneCache?: string | null;
  quiet: boolean;
  width: number;
  depth: number;
  dropout: number;
  /** Convolution algorithm: direct kernels, Winograd on 3×3 stride-1 layers, or measured (auto). */
  conv?: Conv2dMode;
}

/** The usage text of a recipe's task. */
export function usage(name: RecipeName): string {
  const r = RECIPES[name];
  const model = name === "res"
    ? `  --width N        ResNet base width (default ${r.width}; 8 or 16 run on a CPU adapter)`
    : `  --depth N        WRN depth, 6k+4 (default ${r.depth})\n` +
      `  --width N        WRN widening factor (default ${r.width})\n` +
      `  --dropout P      dropout probability in [0, 1) (default ${r.dropout})`;
  return `Usage: deno task train:${name} [flags]
${r.description}

  --epochs N       epochs; the cosine schedule spans N (default ${r.epochs})
  --limit N        train on the first N training images (default: all 50,000)
  --test-limit N   test on the first N test images (default: all 10,000)
  --batch N        training batch size (default ${r.batch}; test batches are ${r.testBatch})
  --data PATH      a cifar-10-batches-bin folder, cifar-10-binary.tar.gz, or an https URL of it
                   (default $CIFAR10_DIR, else ./data, else the official archive, downloaded)
  --no-download    never download (offline machines): without local data, say what to do
  --seed N         seed of initialisation, data order, augmentation and dropout (0 … 4294967295)
  --checkpoint F   checkpoint written every epoch and on a stop (default runs/${name}.safetensors,
                   or the --resume file)
  --resume F       continue from a checkpoint written with the same settings
  --auto-resume    for schedulers that requeue: resume the --checkpoint when it holds an
                   unfinished run of these settings, exit 0 when it holds a finished one, else start
  --overwrite      replace an existing checkpoint of another or an unfinished run
  --metrics F      append one JSON object per epoch to F (default: the checkpoint's name with
                   .jsonl); the report page beside the checkpoint (.html) is rewritten each epoch
  --tune-cache F   where measured conv kernel choices are kept, or "off" (default
                   $RESNET_WEBGPU_TUNE_CACHE, else ~/.cache/resnet-webgpu/conv2d-tune.json)
  --quiet          no adapter, model or progress lines
  --conv MODE      direct | winograd (Winograd F(2×2) or F(4×4) on every 3×3 stride-1 layer) |
                   auto (default: Winograd where it measured faster on this kind of adapter)
${model}
  --help           this text

Ctrl-C, SIGTERM or SIGHUP stop after the current batch with a checkpoint; a second one (half a
second or more later: copies sent to every process of a job are one request) quits.`;
}

const INT = /^[0-9]+$/;

function int(flag: string, v: string | undefined, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!INT.test(v.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `from ${min} to ${max}`;
    throw new RangeError(`--${flag} must be an integer ${range}, got "${v}"`);
  }
  return n;
}

/** `--flag -5` as `--flag=-5`, so a negative value gets the flag's own range message. */
function joinNegative(args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const next = args[i + 1];
    if (/^--[a-z-]+$/.test(a) && next !== undefined && /^-[0-9.]/.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

/** Parses a task's arguments; throws a RangeError/TypeError naming the bad flag. */
export function parseTrainFlags(name: RecipeName, args: string[]): TrainFlags | "help" {
  const { values, positionals } = parseArgs({
    args: joinNegative(args),
    strict: true,
    allowPositionals: true,
    options: {
      epochs: { type: "string" },
      limit: { type: "string" },
      "test-limit": { type: "string" },
      batch: { type: "string" },
      data: { type: "string" },
      "no-download": { type: "boolean" },
      seed: { type: "string" },
      checkpoint: { type: "string" },
      resume: { type: "string" },
      "auto-resume": { type: "boolean" },
      overwrite: { type: "boolean" },
      metrics: { type: "string" },
      "tune-cache": { type: "string" },
      quiet: { type: "boolean" },
      width: { type: "string" },
      depth: { type: "string" },
      dropout: { type: "string" },
      conv: { type: "string" },
      help: { type: "boolean" },
    },
  });
  if (values.help) return "help";
  if (positionals.length) {
    throw new UsageError(`unexpected argument "${positionals[0]}" (flags start with --)`);
  }
  const r = RECIPES[name];
  if (name === "res" && (values.depth !== undefined || values.dropout !== undefined)) {
    throw new TypeError("--depth and --dropout belong to train:wide; train:res takes --width");
  }
  const big = Number.MAX_SAFE_INTEGER;
  const depth = int("depth", values.depth, 10, 1000) ?? r.depth;
  if ((depth - 4) % 6 !== 0) {
    throw new RangeError(`--depth must be 6k+4 (10, 16, 22, 28, …), got ${depth}`);
  }
  const d = values.dropout;
  const dropout = d === undefined ? r.dropout : /^\s*[0-9]*\.?[0-9]+\s*$/.test(d) ? Number(d) : NaN;
  if (!(dropout >= 0 && dropout < 1)) {
    throw new RangeError(`--dropout must be a number in [0, 1), got "${d}"`);
  }
  for (const flag of ["data", "checkpoint", "resume", "metrics", "tune-cache"] as const) {
    if (values[flag] === "") throw new UsageError(`--${flag} needs a value`);
  }
  if (values["auto-resume"] && (values.resume !== undefined || values.overwrite)) {
    throw new UsageError(
      `--auto-resume decides by itself from --checkpoint; it takes neither --${
        values.resume !== undefined ? "resume" : "overwrite"
      }`,
    );
  }
  const conv = values.conv ?? "auto";
  if (conv !== "direct" && conv !== "winograd" && conv !== "auto") {
    throw new UsageError(`--conv must be direct, winograd or auto, got "${conv}"`);
  }
  return {
    recipe: r,
    epochs: int("epochs", values.epochs, 1, 100_000) ?? r.epochs,
    limit: int("limit", values.limit, 1, big) ?? null,
    testLimit: int("test-limit", values["test-limit"], 1, big) ?? null,
    batch: int("batch", values.batch, 1, 1_000_000) ?? r.batch,
    data: values.data,
    noDownload: values["no-download"] ?? false,
    seed: int("seed", values.seed, 0, 0xffffffff) ?? 0,
    checkpoint: values.checkpoint ?? values.resume ?? `runs/${name}.safetensors`,
    resume: values.resume,
    autoResume: values["auto-resume"] ?? false,
    overwrite: values.overwrite ?? false,
    metrics: values.metrics,
    tuneCache: values["tune-cache"] === "off" ? null : values["tune-cache"],
    quiet: values.quiet ?? false,
    width: int("width", values.width, 1, 4096) ?? r.width,
    depth,
    dropout,
    conv,
  };
}
