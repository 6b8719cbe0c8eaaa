// `deno task train:res` and `deno task train:wide`: flags, data, model, training, final tables.
import { Engine } from "../engine/engine.ts";
import { describeGpu } from "../engine/device.ts";
import { train } from "../engine/train/trainer.ts";
import type { Trainable } from "../engine/train/interfaces.ts";
import {
  checkMemory,
  describeNeed,
  MemoryLimitError,
  type MemoryNeed,
  type MemoryQuestion,
} from "../engine/train/memory.ts";
import { duration, mistakesTable, perClassTable } from "../engine/train/format.ts";
import { type Cifar10, cifar10 } from "../data/cifar10.ts";
import { meanStd } from "../data/transforms.ts";
import { GpuCifar } from "../data/gpu_dataset.ts";
import { module } from "../models/module.ts";
import { summary } from "../models/summary.ts";
import { moduleCheckpointer } from "../models/checkpoint.ts";
import { convShapes } from "../models/conv_shapes.ts";
import { autotune } from "../engine/ops/conv2d/tune_cache.ts";
import { describeReduceTuning, tuneReduce } from "../engine/ops/reduce_tune.ts";
import { type RecipeName, recipeSettings } from "./recipes.ts";
import { parseTrainFlags, type TrainFlags, usage } from "./train_flags.ts";
import { checkOutputPath, parentOf, UsageError } from "./output_paths.ts";
import { removeStale } from "../engine/files.ts";
import { autoResume, guardCheckpoint, vetResume } from "./checkpoint_guard.ts";
import { StopSignals } from "./signals.ts";
import { besideCheckpoint, RunRecorder } from "./run_recorder.ts";
import { CheckpointInUseError, RunLock } from "./run_lock.ts";

export { parseTrainFlags, type TrainFlags, usage };

const count = (n: number, what: string) =>
  `${n.toLocaleString("en-US")} ${what}${n === 1 ? "" : "s"}`;

/** The settings a checkpoint carries; a resume must match every one of them. */
export function runSettings(f: TrainFlags, n: number, nTest: number): Record<string, unknown> {
  return recipeSettings(f.recipe, f, n, nTest);
}

/** The settings the report page shows, in reading order. */
function reportSettings(
  f: TrainFlags,
  s: { model: string; params: number; flops: number },
  images: number,
  nTest: number,
): Record<string, string | number | boolean> {
  const r = f.recipe;
  return {
    model: s.model,
    parameters: s.params,
    "GFLOP forward / image": Number((s.flops / 1e9).toFixed(3)),
    epochs: f.epochs,
    batch: f.batch,
    "training images": images,
    "test images": nTest,
    seed: f.seed,
    augment: r.augment,
    mirror: r.mirror,
    "label smoothing": r.smoothing,
    ...(r.name === "wide" ? { depth: f.depth, width: f.width, dropout: f.dropout } : {
      width: f.width,
    }),
    checkpoint: f.checkpoint,
  };
}

function sizes(f: TrainFlags, d: Cifar10): { n: number; nTest: number } {
  if (f.limit !== null && f.limit > d.n) {
    throw new UsageError(`--limit ${f.limit} is more than the ${count(d.n, "training image")}`);
  }
  if (f.testLimit !== null && f.testLimit > d.nTest) {
    throw new UsageError(
      `--test-limit ${f.testLimit} is more than the ${count(d.nTest, "test image")}`,
    );
  }
  return { n: f.limit ?? d.n, nTest: f.testLimit ?? d.nTest };
}

/** The run's memory need, or a UsageError naming --batch, the limit and the batch that fits. */
function fitOrRefuse(
  engine: Engine,
  model: Trainable,
  q: MemoryQuestion,
  batch: number,
): MemoryNeed {
  try {
    return checkMemory(engine, model, q);
  } catch (e) {
    if (!(e instanceof MemoryLimitError)) throw e;
    const hint = e.largestBatch > 0 ? ` (--batch ${e.largestBatch})` : "";
    throw new UsageError(`--batch ${batch}: ${e.message}${hint}`);
  }
}

/** Runs a recipe with parsed flags; returns the process exit code. */
export async function runRecipe(f: TrainFlags): Promise<number> {
  // Every output path, then the data, then the checkpoints: all before any GPU work.
  if (f.metrics) await checkOutputPath("--metrics", f.metrics);
  await checkOutputPath("--checkpoint", f.checkpoint);
  // One writer per checkpoint, from here to the process's end (every exit path releases it).
  const lock = await RunLock.acquire(f.checkpoint, {
    log: (line) => console.log(line),
    command: `deno task train:${f.recipe.name} ${Deno.args.slice(1).join(" ")}`.trim(),
  });
  try {
    return await runLocked(f, lock);
  } finally {
    lock.release();
  }
}

async function runLocked(f: TrainFlags, lock: RunLock): Promise<number> {
  const say = (line: string) => f.quiet || console.log(line);
  // Temp files of killed checkpoint writes (never a live process's) go before this run writes.
  for (const gone of await removeStale(parentOf(f.checkpoint))) say(`removed stale ${gone}`);
  const d = await cifar10({
    dir: f.data,
    extractTo: "data",
    noDownload: f.noDownload,
    terminal: !f.quiet && Deno.stderr.isTerminal(),
    log: say,
  });
  const { n, nTest } = sizes(f, d);
  const settings = runSettings(f, n, nTest);
  if (f.autoResume) {
    // A requeued job: the checkpoint of its earlier attempt, if any, says where to go on.
    const found = await autoResume(f.checkpoint, settings);
    if (found.action === "start") say(`auto-resume: no checkpoint at ${f.checkpoint}; starting`);
    else f = { ...f, resume: f.checkpoint }; // finished or not: as --resume says below
  }
  if (f.resume) {
    const { finished } = await vetResume(f.resume, settings);
    if (finished) {
      console.log(
        `nothing left to train: ${f.resume} has finished all ${f.epochs} epochs (train:${f.recipe.name} --epochs ${f.epochs})`,
      );
      return 0;
    }
  }
  await guardCheckpoint(f.checkpoint, settings, { overwrite: f.overwrite, resume: f.resume });
  // A second signal quits at once (SIGKILL): the worker removes the lock first.
  const signals = await StopSignals.start({ removeOnQuit: [lock.path] });
  const engine = await Engine.create();
  engine.conv2d.mode = f.conv ?? "auto";
  try {
    return await runOn(engine, f, d, { n, nTest, settings, signals });
  } finally {
    signals.stop();
    // The device goes before the process does (see Engine.close).
    await engine.close();
  }
}

async function runOn(
  engine: Engine,
  f: TrainFlags,
  d: Cifar10,
  run: { n: number; nTest: number; settings: Record<string, unknown>; signals: StopSignals },
): Promise<number> {
  const r = f.recipe;
  const { n, nTest } = run;
  const say = (line: string) => f.quiet || console.log(line);
  say(describeGpu(engine.gpu));
  // The model, then whether its steps fit the adapter at this batch: before data and tuning.
  const spec = r.spec(f);
  const model = module(engine, spec, { seed: f.seed });
  const length = r.mirror ? 2 * n : n;
  const memory = {
    batch: Math.min(f.batch, length),
    testBatch: Math.min(r.testBatch, nTest),
    smoothing: r.smoothing,
    // Images and labels of both splits, and an epoch's order.
    dataBytes: (n + nTest) * 3076 + length * 4,
  };
  say(describeNeed(engine, fitOrRefuse(engine, model, memory, f.batch)));
  const stats = meanStd(d.x, n);
  const trainSet = GpuCifar.upload(engine, {
    images: d.x.subarray(0, n * 3072),
    labels: d.y.subarray(0, n),
    n,
  }, { stats, batchSize: f.batch, augment: r.augment, mirror: r.mirror });
  const testSet = GpuCifar.upload(engine, {
    images: d.X.subarray(0, nTest * 3072),
    labels: d.Y.subarray(0, nTest),
    n: nTest,
  }, { stats, batchSize: r.testBatch });
  const s = summary(spec);
  say(
    `${s.model}: ${count(s.params, "parameter")}, ${
      (s.flops / 1e9).toFixed(3)
    } GFLOP forward per image`,
  );
  const mirrored = r.mirror ? ` (${count(n, "image")} and their mirrors)` : "";
  say(
    `training on ${count(trainSet.length, "image")}${mirrored}, testing on ${
      count(nTest, "image")
    }, batch ${f.batch}, ${count(f.epochs, "epoch")}`,
  );
  const recorder = new RunRecorder(
    f.metrics ?? besideCheckpoint(f.checkpoint, ".jsonl"),
    besideCheckpoint(f.checkpoint, ".html"),
    {
      run: {
        task: `train:${r.name}`,
        ...reportSettings(f, s, trainSet.length, nTest),
        data: d.dir,
      },
      adapter: describeGpu(engine.gpu),
      classes: d.s,
      started: new Date().toISOString(),
    },
    { resumed: f.resume !== undefined },
  );
  say(`report: ${recorder.page} (rewritten after each epoch), metrics: ${recorder.metrics}`);
  // Measured kernel choices for every conv of this model (from the cache after the first run).
  await autotune(engine, [
    ...convShapes(spec, f.batch),
    ...convShapes(spec, Math.min(r.testBatch, nTest)).map((s) => ({
      ...s,
      directions: ["forward" as const],
    })),
  ], { cache: f.tuneCache, log: say });
  // The reductions' variant: measured once where the adapter has subgroups, else the tree.
  say(describeReduceTuning(await tuneReduce(engine)));
  // The tuned kernels may need other workspaces than the untuned ones: checked again.
  fitOrRefuse(engine, model, memory, f.batch);
  const tty = !f.quiet && Deno.stdout.isTerminal();
  const enc = new TextEncoder();
  const result = await train(engine, model, trainSet, testSet, {
    epochs: f.epochs,
    seed: f.seed,
    smoothing: r.smoothing,
    ...r.sgd,
    checkpointer: moduleCheckpointer(model, { stats, settings: run.settings }),
    checkpoint: f.checkpoint,
    resume: f.resume,
    // The metrics file (with the confusion matrix) and the report page, after each epoch.
    // A failed write is a warning, as for --metrics: the checkpoint is already written.
    onEpoch: (result) =>
      recorder.epoch(result).catch((e) =>
        console.error(`warning: cannot update the report: ${(e as Error).message}`)
      ),
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
    interrupted: () => run.signals.signal !== 0,
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
  return result.interrupted ? run.signals.exitCode : 0;
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
    // 75 (EX_TEMPFAIL): another run holds the checkpoint; the same command may work later.
    Deno.exit(e instanceof UsageError ? 2 : e instanceof CheckpointInUseError ? 75 : 1);
  }
}
