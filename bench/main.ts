// `deno task bench`: adapter, ceilings, every kernel shape of both recipes, whole steps, the data
// path and (with --vs tfjs) TensorFlow.js, as fixed-width tables from one run.
import { parseArgs } from "node:util";
import { Engine } from "../engine/engine.ts";
import {
  type BenchFile,
  type Column,
  compareSection,
  formatTable,
  readBenchFile,
  type Row,
  type Section,
} from "./report.ts";
import { timerFor } from "./timing.ts";
import { adapterSection, benchCeilings, type Ceilings } from "./ceilings.ts";
import { benchConv, CONV_LAYERS } from "./conv_bench.ts";
import { benchLayers } from "./layers_bench.ts";
import { benchOps } from "./ops_bench.ts";
import { benchSteps } from "./step_bench.ts";
import { benchData } from "./data_bench.ts";

const USAGE = `Usage: deno task bench [options]

Measures, in one run on whatever WebGPU adapter is present: the adapter; the ceilings (best
f32 matmul GFLOP/s, copy GB/s); every distinct conv shape of resnet18a and WRN-16-8 (forward,
backward-input, backward-weight); batch norm, pooling, dropout; softmax-CE, the linear head and
SGD; whole training and eval steps of both models; the GPU batch builder. Times are medians
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
  --json FILE        write every figure to FILE
  --compare FILE     print each figure's ratio to an earlier --json FILE (same run, same machine)
  --vs tfjs          also time resnet18a's training step in TensorFlow.js (webgpu backend) on
                     the same adapter at batch 8 and print our speed-up
  --help             this text
`;

/** Parsed command line. */
interface Flags {
  quick: boolean;
  filter: string;
  batch: number | null;
  stepBatch: number | null;
  json: string | null;
  compare: string | null;
  vsTfjs: boolean;
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

function parseFlags(args: string[]): Flags {
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
  return {
    quick: values.quick ?? false,
    filter: (values.filter ?? "").toLowerCase(),
    batch: positiveInt("batch", values.batch),
    stepBatch: positiveInt("step-batch", values["step-batch"]),
    json: values.json ?? null,
    compare: values.compare ?? null,
    vsTfjs: values.vs === "tfjs",
  };
}

const TFJS_BATCH = 8;
const CONV_WORDS = ["conv", "res", "wrn", "stem", "forward", "backward", "input", "weight"];
/** Conv layers of --quick: the biggest of each model's first and last stage. */
const QUICK_CONV = ["res 64→64 32²", "res 512→512 4²", "wrn 128→128 32²", "wrn 512→512 8²"];
const MS: Column = { key: "ms", label: "ms", better: "lower" };
const FRAC: Column = { key: "frac", label: "of ceiling", digits: 2, better: "higher" };

/** Runs one section, printing it (or its failure) at once; a failure does not stop the run. */
class Runner {
  readonly sections: Section[] = [];
  failures = 0;
  #filter: string;

  constructor(filter: string) {
    this.#filter = filter;
  }

  /**
   * Whether a section is wanted whole (no filter, or the filter is in its id), partly (the filter
   * and one of the words its row names use overlap: rows are then filtered by name), or not.
   */
  wants(id: string, words: readonly string[]): "all" | "rows" | "none" {
    const f = this.#filter;
    if (!f || id.includes(f)) return "all";
    return words.some((k) => k.includes(f) || f.includes(k)) ? "rows" : "none";
  }

  /** A row-name predicate for a section wanted partly. */
  rowFilter(scope: "all" | "rows" | "none"): (name: string) => boolean {
    const f = this.#filter;
    return scope === "all" ? () => true : (name) => name.toLowerCase().includes(f);
  }

  async section(make: () => Promise<Section | null>): Promise<void> {
    let s: Section | null;
    const t0 = performance.now();
    try {
      s = await make();
    } catch (e) {
      this.failures++;
      console.log(`== failed: ${(e as Error).stack ?? e}\n`);
      return;
    }
    if (!s) return;
    const seconds = (performance.now() - t0) / 1000;
    if (seconds >= 0.05) s.title += ` [${seconds.toFixed(1)} s]`;
    this.sections.push(s);
    console.log(formatTable(s) + "\n");
  }
}

function frac(value: unknown, ceiling: number | null | undefined): number | null {
  return typeof value === "number" && ceiling ? value / ceiling : null;
}

async function main(): Promise<number> {
  const flags = parseFlags(Deno.args);
  const before = flags.compare ? await readBenchFile(flags.compare) : null;
  const started = performance.now();
  const engine = await Engine.create();
  const soft = engine.gpu.software;
  const batch = flags.batch ?? (soft ? (flags.quick ? 4 : 32) : 125);
  const stepBatch = flags.stepBatch ?? (soft ? (flags.quick ? 1 : TFJS_BATCH) : batch);
  const timer = timerFor(engine);
  const timing = timer.method === "timestamp"
    ? "GPU timestamps around each submission (median)"
    : "wall time, flush to onSubmittedWorkDone, less the idle wait (median)";
  const cmd = `deno task bench ${Deno.args.join(" ")}`.trim();
  console.log(`${cmd}  (${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC)\n`);
  const run = new Runner(flags.filter);

  const adapter = adapterSection(engine, timing);
  adapter.rows.push(
    { name: "kernel batch", value: String(batch) },
    { name: "step batch", value: String(stepBatch) },
  );
  await run.section(() => Promise.resolve(adapter));

  let ceil: Ceilings | null = null;
  const ceilScope = run.wants("ceilings", ["matmul", "copy", "register", "tiled"]);
  await run.section(async () => {
    const r = await benchCeilings(engine, {
      quick: flags.quick || ceilScope === "none",
      show: run.rowFilter(ceilScope),
    });
    ceil = r.ceilings;
    return ceilScope === "none" ? null : r.section;
  });
  const c = ceil as Ceilings | null;

  const convScope = run.wants("conv", CONV_WORDS);
  if (convScope !== "none") {
    await run.section(async () => {
      // benchConv skips whole layers when the filter names a layer label; --quick measures
      // only the largest layer of each stage width of each model.
      const named = convScope === "rows" && CONV_LAYERS.some((l) => l.label.includes(flags.filter));
      const subset = flags.quick && !named;
      const labels = named ? [flags.filter] : subset ? QUICK_CONV : [""];
      const rows = [];
      for (const only of labels) {
        rows.push(
          ...await benchConv(engine, {
            batch,
            quick: flags.quick,
            only,
            runs: flags.quick ? undefined : soft ? 3 : 5,
          }),
        );
      }
      const want = run.rowFilter(convScope);
      return {
        id: "conv",
        title: `Convolutions, batch ${batch} (${
          subset ? "--quick: 4 of the" : "every"
        } distinct shape${subset ? "s" : ""} of resnet18a and WRN-16-8)`,
        columns: [MS, { key: "gflops", label: "GFLOP/s", better: "higher" }, FRAC, {
          key: "variant",
          label: "variant",
        }],
        rows: rows.map((r): Row => ({
          name: `${r.label} ${r.direction}`,
          ms: r.ms,
          gflops: r.gflops,
          frac: frac(r.gflops, c?.gflops),
          variant: r.variant,
        })).filter((r) => want(r.name)),
        notes: ["of ceiling: GFLOP/s over the matmul ceiling"],
      };
    });
  }

  const layerScope = run.wants("layers", ["bn", "pool", "dropout", "resnet18a", "wrn-16-8"]);
  if (layerScope !== "none") {
    await run.section(async () => {
      const rows = await benchLayers(engine, { batch, reps: flags.quick ? 3 : 7 });
      const want = run.rowFilter(layerScope);
      return {
        id: "layers",
        title: `Batch norm, pooling, dropout, batch ${batch}`,
        columns: [MS, { key: "gbps", label: "GB/s", better: "higher" }, FRAC],
        rows: rows.map((r): Row => ({
          name: `${r.name} [${r.shape.join(",")}]`,
          ms: r.ms,
          gbps: r.gbps,
          frac: frac(r.gbps, c?.gbps),
        })).filter((r) => want(r.name)),
        notes: [
          "layers_bench.ts times wall from submit to onSubmittedWorkDone (the ~11 ms idle wait of " +
          "Deno included); of ceiling: GB/s over the copy ceiling",
        ],
      };
    });
  }

  const opsScope = run.wants("ops", ["softmax-ce", "sgd", "linear", "resnet18a", "wrn-16-8"]);
  if (opsScope !== "none") {
    await run.section(async () => {
      const rows = await benchOps(engine, {
        batch,
        quick: flags.quick,
        want: run.rowFilter(opsScope),
      });
      for (const r of rows) {
        r.frac = r.gflops !== undefined ? frac(r.gflops, c?.gflops) : frac(r.gbps, c?.gbps);
      }
      return {
        id: "ops",
        title: `Loss, linear head and optimizer, batch ${batch}`,
        columns: [
          MS,
          { key: "gflops", label: "GFLOP/s", better: "higher" },
          { key: "gbps", label: "GB/s", better: "higher" },
          FRAC,
        ],
        rows,
        notes: ["of ceiling: GFLOP/s over the matmul ceiling, GB/s over the copy ceiling"],
      };
    });
  }

  let ourTfjsMs: number | null = null;
  const stepScope = run.wants("steps", ["step", "train", "eval", "resnet18a", "wrn-16-8"]);
  if (stepScope !== "none") {
    await run.section(async () => {
      const rows = await benchSteps(engine, {
        batch: stepBatch,
        runs: flags.quick ? 1 : 3,
        ceiling: c?.gflops ?? null,
        want: run.rowFilter(stepScope),
      });
      if (stepBatch === TFJS_BATCH) {
        const r = rows.find((r) => r.name === "resnet18a train step");
        if (r) ourTfjsMs = r.wall as number;
      }
      return {
        id: "steps",
        title: `Whole steps, batch ${stepBatch}`,
        columns: [
          { key: "ms", label: "GPU ms", better: "lower" },
          { key: "wall", label: "wall ms", better: "lower" },
          { key: "imgs", label: "img/s", better: "higher" },
          { key: "gflops", label: "GFLOP/s", better: "higher" },
          FRAC,
          { key: "peak", label: "peak MiB", better: "lower" },
          { key: "epoch", label: "epoch min", better: "lower" },
        ],
        rows,
        notes: [
          "train = forward + softmax-CE + backward + SGD in one scope and one submission; eval = " +
          "forward with running statistics + loss; FLOPs from models/summary.ts (resnet18a 1.11, " +
          "WRN-16-8 3.10 GFLOP a forward image, training 3×); img/s and GFLOP/s from wall ms " +
          "(steps back to back, recording included)",
          "epoch min: training epoch of the recipe (resnet18a 100,000 images, WRN-16-8 50,000) " +
          "or, for eval, the 10,000 test images, at this batch's rate",
          "peak MiB: most pool memory in use during the step above what was in use before the " +
          "model was built (parameters, gradients, momentum, activations)",
        ],
      };
    });
  }

  const dataScope = run.wants("data", ["gpu batch", "load", "upload", "mean/std"]);
  if (dataScope !== "none") {
    await run.section(async () => {
      // --quick skips reading CIFAR-10 (seconds of gunzip): synthetic images of the same shape.
      const d = await benchData(engine, {
        quick: flags.quick,
        source: flags.quick ? null : undefined,
      });
      const want = run.rowFilter(dataScope);
      const rows: Row[] = [
        { name: "GPU batch: train 125, crop + flip + zscore", imgs: d.trainImagesPerS },
        { name: "GPU batch: flip-doubled 125 (resnet recipe)", imgs: d.mirrorImagesPerS },
        { name: "GPU batch: test 1000", imgs: d.testImagesPerS },
        { name: "load from archive", s: d.loadArchiveS },
        { name: "load from folder", s: d.loadFolderS },
        { name: "mean/std", s: d.meanStdS },
        { name: "upload train + test", s: d.uploadS },
      ];
      return {
        id: "data",
        title: `Data path (${d.source})`,
        columns: [
          { key: "imgs", label: "img/s", better: "higher" },
          { key: "s", label: "s", digits: 2, better: "lower" },
        ],
        rows: rows.filter((r) => want(r.name)),
        notes: flags.quick ? ["--quick: part of an epoch, synthetic images, nothing loaded"] : [],
      };
    });
  }

  if (flags.vsTfjs) {
    await run.section(async () => {
      if (ourTfjsMs === null) {
        const [r] = await benchSteps(engine, {
          batch: TFJS_BATCH,
          runs: flags.quick ? 1 : 3,
          ceiling: null,
          want: (n) => n === "resnet18a train step",
        });
        ourTfjsMs = r.wall as number;
      }
      const { benchTfjs } = await import("./vs_tfjs.ts");
      const t = await benchTfjs({ batch: TFJS_BATCH, runs: 1 });
      const ours = ourTfjsMs as number;
      const perImage = (ms: number) => (TFJS_BATCH / ms) * 1000;
      return {
        id: "tfjs",
        title: `resnet18a training step vs TensorFlow.js 4.22 (${t.backend}), batch ${TFJS_BATCH}`,
        columns: [
          { key: "ms", label: "ms", better: "lower" },
          { key: "imgs", label: "img/s", better: "higher" },
          { key: "speedup", label: "speed-up", digits: 1, better: "higher" },
        ],
        rows: [
          { name: "this engine", ms: ours, imgs: perImage(ours), speedup: t.ms / ours },
          { name: "tfjs webgpu", ms: t.ms, imgs: perImage(t.ms), speedup: 1 },
        ],
        notes: [
          "tfjs: one warm-up step, then one timed step (wall, synchronised by reading a weight); " +
          "NHWC, batch statistics, PyTorch's Nesterov SGD with weight decay as tf ops",
        ],
      };
    });
  }

  const file: BenchFile = {
    version: 1,
    date: new Date().toISOString(),
    command: cmd,
    adapter: engine.gpu.name + (soft ? " (software)" : ""),
    sections: run.sections,
  };
  if (before && flags.compare) {
    console.log(formatTable(compareSection(file, before, flags.compare)) + "\n");
  }
  if (flags.json) {
    await Deno.writeTextFile(flags.json, JSON.stringify(file, null, 1) + "\n");
    console.log(`figures written to ${flags.json}`);
  }
  timer.dispose();
  console.log(`total ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return run.failures ? 1 : 0;
}

if (import.meta.main) {
  try {
    Deno.exit(await main());
  } catch (e) {
    console.error(`bench: ${(e as Error).message}`);
    Deno.exit(1);
  }
}
