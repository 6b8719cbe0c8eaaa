// `deno task predict`: the top-3 classes of one's own PNG/JPEG images under a saved model.
import { Engine } from "../engine/engine.ts";
import { describeGpu } from "../engine/device.ts";
import { decodeImage, toCifarInput } from "../data/image.ts";
import { intFlag, parseFlags, runTask, UsageError } from "./cli.ts";
import { checkOutputPath } from "./output_paths.ts";
import { buildTrainedModel, readCheckpoint } from "./trained_model.ts";
import { classify } from "./inference.ts";

/** The usage text of `deno task predict`. */
export const PREDICT_USAGE = `Usage: deno task predict --checkpoint F [flags] IMAGE…
Classifies PNG and JPEG images with a saved model: each is converted to RGB, centre-cropped to a
square, area-averaged to 32×32, standardized with the training data's statistics stored in the
checkpoint, and its most likely classes are printed with their probabilities.

  --checkpoint F   a checkpoint of deno task train:res / train:wide
  --top K          classes shown per image (default 3)
  --json OUT       also write every image's class probabilities to OUT as JSON
  --quiet          no adapter and model lines
  --help           this text`;

/** Parsed flags of `deno task predict`. */
export interface PredictFlags {
  checkpoint: string;
  images: string[];
  top: number;
  json?: string;
  quiet: boolean;
}

/** Parses predict's arguments; throws a UsageError naming the bad flag. */
export function parsePredictFlags(args: string[]): PredictFlags | "help" {
  const { values, positionals } = parseFlags(args, {
    checkpoint: { type: "string" },
    top: { type: "string" },
    json: { type: "string" },
    quiet: { type: "boolean" },
    help: { type: "boolean" },
  }, true);
  if (values.help) return "help";
  if (!values.checkpoint) throw new UsageError("--checkpoint F is required");
  if (positionals.length === 0) throw new UsageError("give at least one PNG or JPEG image");
  return {
    checkpoint: values.checkpoint,
    images: positionals,
    top: intFlag("top", values.top, 1) ?? 3,
    json: values.json,
    quiet: values.quiet ?? false,
  };
}

/** Reads and converts every image first, so a bad file stops the run before the GPU starts. */
async function loadImages(paths: string[]): Promise<Float32Array> {
  const IMAGE = 3 * 32 * 32;
  const all = new Float32Array(paths.length * IMAGE);
  for (const [i, path] of paths.entries()) {
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(path);
    } catch (e) {
      const why = e instanceof Deno.errors.NotFound ? "no such file" : (e as Error).message;
      throw new Error(`Cannot read image ${path}: ${why}`);
    }
    all.set(toCifarInput(decodeImage(bytes, path)), i * IMAGE);
  }
  return all;
}

/** Runs the classification; returns the exit code. */
export async function runPredict(f: PredictFlags): Promise<number> {
  if (f.json) await checkOutputPath("--json", f.json);
  const info = await readCheckpoint(f.checkpoint);
  if (!info.stats) {
    throw new Error(
      `Cannot predict with ${f.checkpoint}: the checkpoint has no data statistics (stats), so its inputs cannot be standardized as in training; retrain with this version (deno task eval can still evaluate it)`,
    );
  }
  if (info.channels !== 3) {
    throw new RangeError(
      `Model and images disagree: ${f.checkpoint} (${info.title}) takes ${info.channels}-channel images, these are RGB`,
    );
  }
  const names = info.classNames ?? Array.from({ length: info.classes }, (_, i) => `class ${i}`);
  const images = await loadImages(f.images);
  const engine = await Engine.create();
  try {
    if (!f.quiet) console.log(describeGpu(engine.gpu));
    const model = buildTrainedModel(engine, info);
    if (!f.quiet) console.log(`${f.checkpoint}: ${info.title}, ${info.classes} classes`);
    const probs = await classify(engine, model.module, images, info.stats);
    model.module.dispose();
    const w = Math.max(...f.images.map((p) => p.length));
    const k = Math.min(f.top, names.length);
    probs.forEach((p, i) => {
      const order = [...p.keys()].sort((a, b) => p[b] - p[a] || a - b).slice(0, k);
      const shown = order.map((c) => `${names[c]} ${(100 * p[c]).toFixed(2)}%`).join("  ");
      console.log(`${f.images[i].padEnd(w)}  ${shown}`);
    });
    if (f.json) {
      const rows = probs.map((p, i) => ({
        image: f.images[i],
        probabilities: Object.fromEntries(names.map((n, c) => [n, p[c]])),
      }));
      await Deno.writeTextFile(f.json, JSON.stringify(rows) + "\n");
    }
    return 0;
  } finally {
    await engine.close();
  }
}

if (import.meta.main) {
  await runTask(PREDICT_USAGE, async () => {
    const flags = parsePredictFlags(Deno.args);
    if (flags === "help") {
      console.log(PREDICT_USAGE);
      return 0;
    }
    return await runPredict(flags);
  });
}
