// `deno task eval`: a saved model on the CIFAR-10 test set — loss, accuracy, mistakes, confusion.
import { Engine } from "../engine/engine.ts";
import { describeGpu } from "../engine/device.ts";
import { cifar10 } from "../data/cifar10.ts";
import { type MeanStd, meanStd } from "../data/transforms.ts";
import { GpuCifar } from "../data/gpu_dataset.ts";
import { parameterCount } from "../models/spec.ts";
import { mistakesTable, perClass, perClassTable, topMistakes } from "../engine/train/format.ts";
import { intFlag, parseFlags, runTask, UsageError } from "./cli.ts";
import { checkOutputPath } from "./output_paths.ts";
import { autotune } from "../engine/ops/conv2d/tune_cache.ts";
import { convShapes } from "../models/conv_shapes.ts";
import { buildTrainedModel, checkModelFitsData, readCheckpoint } from "./trained_model.ts";
import { evaluate } from "./inference.ts";
import { confusionRows, confusionTable } from "./confusion.ts";

/** The usage text of `deno task eval`. */
export const EVAL_USAGE = `Usage: deno task eval --checkpoint F [flags]
Evaluates a saved model on the CIFAR-10 test set: test loss and accuracy, the ten most frequent
mistakes, accuracy by class and the confusion matrix.

  --checkpoint F   a checkpoint of deno task train:res / train:wide (or saveCheckpoint)
  --data PATH      a cifar-10-batches-bin folder, cifar-10-binary.tar.gz, or an https URL of it
                   (default $CIFAR10_DIR, else ./data, else the official archive, downloaded)
  --no-download    never download (offline machines): without local data, say what to do
  --batch N        test batch size (default 1000)
  --test-limit N   evaluate the first N test images (default: all 10,000)
  --tune-cache F   measured conv kernel choices, shared with training, or "off" (default
                   $RESNET_WEBGPU_TUNE_CACHE, else ~/.cache/resnet-webgpu/conv2d-tune.json)
  --json OUT       also write every figure (and each image's prediction) to OUT as JSON
  --quiet          no adapter and model lines
  --help           this text`;

/** Parsed flags of `deno task eval`. */
export interface EvalFlags {
  checkpoint: string;
  data?: string;
  noDownload: boolean;
  batch: number;
  testLimit: number | null;
  json?: string;
  /** Conv tuning cache (undefined: the default; null: off). */
  tuneCache?: string | null;
  quiet: boolean;
}

/** Parses eval's arguments; throws a UsageError naming the bad flag. */
export function parseEvalFlags(args: string[]): EvalFlags | "help" {
  const { values } = parseFlags(args, {
    checkpoint: { type: "string" },
    data: { type: "string" },
    "no-download": { type: "boolean" },
    batch: { type: "string" },
    "test-limit": { type: "string" },
    json: { type: "string" },
    "tune-cache": { type: "string" },
    quiet: { type: "boolean" },
    help: { type: "boolean" },
  }, false);
  if (values.help) return "help";
  if (!values.checkpoint) throw new UsageError("--checkpoint F is required");
  return {
    checkpoint: values.checkpoint,
    data: values.data,
    noDownload: values["no-download"] ?? false,
    batch: intFlag("batch", values.batch, 1) ?? 1000,
    testLimit: intFlag("test-limit", values["test-limit"], 1) ?? null,
    json: values.json,
    tuneCache: values["tune-cache"] === "off" ? null : values["tune-cache"],
    quiet: values.quiet ?? false,
  };
}

/** ", after 3 epochs" for a training checkpoint. */
function trainedFor(epochs: number | undefined): string {
  return epochs === undefined ? "" : `, after ${epochs} epoch${epochs === 1 ? "" : "s"}`;
}

/** Runs the evaluation; returns the exit code. */
export async function runEval(f: EvalFlags): Promise<number> {
  const say = (line: string) => f.quiet || console.log(line);
  // Every check of the inputs comes before the GPU starts.
  if (f.json) await checkOutputPath("--json", f.json);
  const info = await readCheckpoint(f.checkpoint);
  const d = await cifar10({
    dir: f.data,
    extractTo: "data",
    noDownload: f.noDownload,
    terminal: !f.quiet && Deno.stderr.isTerminal(),
    log: say,
  });
  checkModelFitsData(info, d.s);
  let stats: MeanStd;
  if (info.stats) stats = info.stats;
  else {
    const limit = info.settings.limit;
    const n = Math.min(typeof limit === "number" ? limit : d.n, d.n);
    stats = meanStd(d.x, n);
    console.log(
      `note: ${f.checkpoint} has no data statistics; using those of the first ${
        n.toLocaleString("en-US")
      } training images`,
    );
  }
  if (f.testLimit !== null && f.testLimit > d.nTest) {
    throw new UsageError(
      `--test-limit ${f.testLimit} is more than the ${d.nTest.toLocaleString("en-US")} test images`,
    );
  }
  const nTest = f.testLimit ?? d.nTest;
  const engine = await Engine.create();
  try {
    say(describeGpu(engine.gpu));
    const model = buildTrainedModel(engine, info);
    // The kernel choices training measured for its test pass (the cache), so eval runs the same.
    const shapes = convShapes(info.spec, Math.min(f.batch, nTest));
    await autotune(engine, shapes.map((s) => ({ ...s, directions: ["forward" as const] })), {
      cache: f.tuneCache,
      log: say,
    });
    const testSet = GpuCifar.upload(engine, {
      images: d.X.subarray(0, nTest * 3072),
      labels: d.Y.subarray(0, nTest),
      n: nTest,
    }, { stats, batchSize: f.batch });
    say(
      `${f.checkpoint}: ${model.title}, ${
        parameterCount(model.module.spec).toLocaleString("en-US")
      } parameters${trainedFor(model.epochsDone)}`,
    );
    const r = await evaluate(engine, model.module, testSet, {
      classes: model.classes,
      smoothing: model.smoothing,
    });
    testSet.dispose();
    model.module.dispose();
    const smoothing = model.smoothing ? `, label smoothing ${model.smoothing}` : "";
    console.log(
      `test:${r.loss.toFixed(4).padStart(7)} accuracy:${r.accuracy.toFixed(2).padStart(6)}% ` +
        `(${nTest.toLocaleString("en-US")} test images${smoothing})`,
    );
    console.log("\nmost frequent mistakes (true class, predicted class, count):");
    console.log(mistakesTable(r.confusion, d.s));
    console.log("\naccuracy by class:");
    console.log(perClassTable(r.confusion, d.s));
    console.log("\nconfusion matrix (rows: true class, columns: predicted class):");
    console.log(confusionTable(r.confusion, d.s));
    if (f.json) {
      const k = d.s.length;
      await Deno.writeTextFile(
        f.json,
        JSON.stringify({
          checkpoint: f.checkpoint,
          model: model.title,
          images: r.images,
          smoothing: model.smoothing,
          testLoss: r.loss,
          accuracy: r.accuracy,
          classes: d.s,
          mistakes: topMistakes(r.confusion, k).map((m) => ({
            true: d.s[m.y],
            predicted: d.s[m.yhat],
            count: m.n,
          })),
          perClass: perClass(r.confusion, d.s),
          confusion: confusionRows(r.confusion, k),
          predictions: [...r.predictions],
        }) + "\n",
      );
      say(`\nwrote ${f.json}`);
    }
    return 0;
  } finally {
    await engine.close();
  }
}

if (import.meta.main) {
  await runTask(EVAL_USAGE, async () => {
    const flags = parseEvalFlags(Deno.args);
    if (flags === "help") {
      console.log(EVAL_USAGE);
      return 0;
    }
    return await runEval(flags);
  });
}
