// `deno task train:res` and `deno task train:wide`: flags, data, model, training, final tables.
import { parseArgs } from "node:util";
import { Engine } from "../engine/engine.ts";
import { describeGpu } from "../engine/device.ts";
import { cifar10 } from "../data/cifar10.ts";
import { meanStd } from "../data/transforms.ts";
import { GpuCifar } from "../data/gpu_dataset.ts";
import { module } from "../models/module.ts";
import { summary } from "../models/summary.ts";
import { resnet18a } from "../models/resnet.ts";
import { widenet } from "../models/widenet.ts";
import { train } from "../engine/train/trainer.ts";
import { duration, mistakesTable, perClassTable } from "../engine/train/format.ts";
import { type Recipe, type RecipeName, RECIPES } from "./recipes.ts";
import { besideCheckpoint, RunRecorder } from "./run_recorder.ts";

/** Parsed flags of a training run. */
export interface TrainFlags {
  recipe: Recipe;
  epochs: number;
  limit: number | null;
  testLimit: number | null;
  batch: number;
  data?: string;
  seed: number;
  checkpoint: string;
  resume?: string;
  metrics?: string;
  quiet: boolean;
  width: number;
  depth: number;
  dropout: number;
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
  --batch N        training batch size (default 125; test batches are 1,000)
  --data PATH      CIFAR-10 folder or cifar-10-binary.tar.gz (default $CIFAR10_DIR or data/)
  --seed N         seed of initialisation, data order, augmentation and dropout (default 0)
  --checkpoint F   checkpoint written every epoch and on Ctrl-C (default runs/${name}.safetensors)
  --resume F       continue from a checkpoint written by the same settings
  --metrics F      append one JSON object per epoch to F (default: the checkpoint's name .jsonl);
                   the report page (.html beside the checkpoint) is rewritten after each epoch
  --quiet          no adapter, model or progress lines
${model}
  --help           this text`;
}

function int(flag: string, v: string | undefined, min: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) {
    throw new RangeError(`--${flag} must be an integer ≥ ${min}, got "${v}"`);
  }
  return n;
}

/** Parses a task's arguments; throws a RangeError/TypeError naming the bad flag. */
export function parseTrainFlags(name: RecipeName, args: string[]): TrainFlags | "help" {
  const { values } = parseArgs({
    args,
    strict: true,
    allowPositionals: false,
    options: {
      epochs: { type: "string" },
      limit: { type: "string" },
      "test-limit": { type: "string" },
      batch: { type: "string" },
      data: { type: "string" },
      seed: { type: "string" },
      checkpoint: { type: "string" },
      resume: { type: "string" },
      metrics: { type: "string" },
      quiet: { type: "boolean" },
      width: { type: "string" },
      depth: { type: "string" },
      dropout: { type: "string" },
      help: { type: "boolean" },
    },
  });
  if (values.help) return "help";
  const r = RECIPES[name];
  if (name === "res" && (values.depth !== undefined || values.dropout !== undefined)) {
    throw new TypeError("--depth and --dropout belong to train:wide; train:res takes --width");
  }
  const depth = int("depth", values.depth, 10) ?? r.depth;
  if ((depth - 4) % 6 !== 0) {
    throw new RangeError(`--depth must be 6k+4 (10, 16, 22, 28, …), got ${depth}`);
  }
  const dropout = values.dropout === undefined ? r.dropout : Number(values.dropout);
  if (!(dropout >= 0 && dropout < 1)) {
    throw new RangeError(`--dropout must be in [0, 1), got "${values.dropout}"`);
  }
  return {
    recipe: r,
    epochs: int("epochs", values.epochs, 1) ?? r.epochs,
    limit: int("limit", values.limit, 1) ?? null,
    testLimit: int("test-limit", values["test-limit"], 1) ?? null,
    batch: int("batch", values.batch, 1) ?? 125,
    data: values.data,
    seed: int("seed", values.seed, 0) ?? 0,
    checkpoint: values.checkpoint ?? `runs/${name}.safetensors`,
    resume: values.resume,
    metrics: values.metrics,
    quiet: values.quiet ?? false,
    width: int("width", values.width, 1) ?? r.width,
    depth,
    dropout,
  };
}

/** Runs a recipe with parsed flags; returns the process exit code. */
export async function runRecipe(f: TrainFlags): Promise<number> {
  const engine = await Engine.create();
  try {
    return await runOn(engine, f);
  } finally {
    // The device goes before the process does (see Engine.close).
    await engine.close();
  }
}

async function runOn(engine: Engine, f: TrainFlags): Promise<number> {
  const r = f.recipe;
  const say = (line: string) => f.quiet || console.log(line);
  say(describeGpu(engine.gpu));
  const d = await cifar10({ dir: f.data, extractTo: "data", log: say });
  const n = Math.min(f.limit ?? d.n, d.n);
  const nTest = Math.min(f.testLimit ?? d.nTest, d.nTest);
  const stats = meanStd(d.x, n);
  const trainSet = GpuCifar.upload(engine, {
    images: d.x.subarray(0, n * 3072),
    labels: d.y.subarray(0, n),
    n,
  }, {
    stats,
    batchSize: f.batch,
    augment: r.augment,
    mirror: r.mirror,
  });
  const testSet = GpuCifar.upload(engine, {
    images: d.X.subarray(0, nTest * 3072),
    labels: d.Y.subarray(0, nTest),
    n: nTest,
  }, {
    stats,
    batchSize: 1000,
  });
  const spec = r.name === "res"
    ? resnet18a(10, { width: f.width })
    : widenet(f.depth, f.width, f.dropout, 10);
  const s = summary(spec);
  say(
    `${s.model}: ${s.params.toLocaleString("en-US")} parameters, ${
      (s.flops / 1e9).toFixed(3)
    } GFLOP forward per image`,
  );
  say(
    `training on ${trainSet.length.toLocaleString("en-US")} images (${n.toLocaleString("en-US")}${
      r.mirror ? " and their mirrors" : ""
    }), testing on ${nTest.toLocaleString("en-US")}, batch ${f.batch}, ${f.epochs} epochs`,
  );
  const model = module(engine, spec, { seed: f.seed });
  const report = besideCheckpoint(f.checkpoint, ".html");
  const recorder = new RunRecorder(f.metrics ?? besideCheckpoint(f.checkpoint, ".jsonl"), report, {
    run: {
      task: `train:${r.name}`,
      model: s.model,
      parameters: s.params,
      "GFLOP forward / image": Number((s.flops / 1e9).toFixed(3)),
      epochs: f.epochs,
      batch: f.batch,
      "training images": trainSet.length,
      "test images": nTest,
      seed: f.seed,
      augment: r.augment,
      mirror: r.mirror,
      "label smoothing": r.smoothing,
      ...(r.name === "wide" ? { depth: f.depth, width: f.width, dropout: f.dropout } : {
        width: f.width,
      }),
      data: d.dir,
      checkpoint: f.checkpoint,
    },
    adapter: describeGpu(engine.gpu),
    classes: d.s,
    started: new Date().toISOString(),
  }, { resumed: f.resume !== undefined });
  say(`report: ${report} (rewritten after each epoch), metrics: ${recorder.metrics}`);
  let stop = false;
  const onInt = () => {
    if (stop) Deno.exit(130);
    stop = true;
    console.error("\nstopping after this batch (Ctrl-C again to quit at once)…");
  };
  Deno.addSignalListener("SIGINT", onInt);
  const tty = !f.quiet && Deno.stdout.isTerminal();
  const enc = new TextEncoder();
  try {
    const result = await train(engine, model, trainSet, testSet, {
      epochs: f.epochs,
      seed: f.seed,
      smoothing: r.smoothing,
      checkpoint: f.checkpoint,
      resume: f.resume,
      onEpoch: (result) => recorder.epoch(result),
      // What eval and predict need from the file alone: input statistics, loss, class names.
      checkpointMetadata: {
        stats: JSON.stringify(stats),
        smoothing: String(r.smoothing),
        classes: JSON.stringify(d.s),
      },
      run: `${r.name} epochs=${f.epochs} batch=${f.batch} limit=${n} model=${s.model}`,
      log: (line) => {
        if (tty) Deno.stdout.writeSync(enc.encode("\r\x1b[K"));
        console.log(line);
      },
      progress: tty
        ? (i, total, rate, eta) =>
          Deno.stdout.writeSync(
            enc.encode(
              `\r\x1b[K  batch ${i}/${total}  ${rate.toFixed(1)} images/s  ETA ${duration(eta)}`,
            ),
          )
        : undefined,
      interrupted: () => stop,
    });
    const last = result.epochs.at(-1);
    if (!result.interrupted && last) {
      console.log(
        `${(result.seconds / result.epochs.length).toFixed(1)} s an epoch, ${
          last.imagesPerSecond.toFixed(1)
        } training images/s`,
      );
      console.log("\nmost frequent mistakes (true class, predicted class, count):");
      console.log(mistakesTable(last.confusion, d.s));
      console.log("\naccuracy by class:");
      console.log(perClassTable(last.confusion, d.s));
    }
    return result.interrupted ? 130 : 0;
  } finally {
    Deno.removeSignalListener("SIGINT", onInt);
  }
}

if (import.meta.main) {
  const name = Deno.args[0] as RecipeName;
  if (name !== "res" && name !== "wide") {
    console.error("usage: deno run -A tasks/train.ts res|wide [flags]");
    Deno.exit(2);
  }
  let flags: TrainFlags | "help";
  try {
    flags = parseTrainFlags(name, Deno.args.slice(1));
  } catch (e) {
    console.error(`error: ${(e as Error).message}\n\n${usage(name)}`);
    Deno.exit(2);
  }
  if (flags === "help") {
    console.log(usage(name));
    Deno.exit(0);
  }
  try {
    Deno.exit(await runRecipe(flags));
  } catch (e) {
    console.error(`error: ${(e as Error).message}`);
    Deno.exit(1);
  }
}
