// `deno task bench`: adapter, ceilings, every kernel shape of both recipes, whole steps, the data
// path and (with --vs tfjs) TensorFlow.js, as fixed-width tables from one run.
import { parseFlags } from "./flags.ts";
import { Engine } from "../engine/engine.ts";
import {
  type BenchFile,
  type Column,
  compareSection,
  formatTable,
  readBenchFile,
  type Row,
} from "./tables.ts";
import { timerFor } from "./timing.ts";
import { frac, Runner } from "./runner.ts";
import { adapterSection, benchCeilings, type Ceilings } from "./ceilings.ts";
import { benchConv, CONV_LAYERS } from "./conv_bench.ts";
import { benchLayers } from "./layers_bench.ts";
import { benchOps } from "./ops_bench.ts";
import { benchProfile } from "./profile_bench.ts";
import { benchSteps, RECIPE_MODELS } from "./step_bench.ts";
import { benchHost } from "./host_bench.ts";
import { benchData } from "./data_bench.ts";

const TFJS_BATCH = 8;
/** Batch of the host-cost rows (the recipes' training batch). */
const HOST_BATCH = 125;
const CONV_DIRECTIONS = ["forward", "backwardInput", "backwardWeight"];
/** Conv layers of --quick: the biggest of each model's first and last stage. */
const QUICK_CONV = ["res 64→64 32²", "res 512→512 4²", "wrn 128→128 32²", "wrn 512→512 8²"];
const MS: Column = { key: "ms", label: "ms", better: "lower" };
const FRAC: Column = { key: "frac", label: "of ceiling", digits: 2, better: "higher" };

async function main(): Promise<number> {
  const flags = parseFlags(Deno.args);
  const before = flags.compare ? await readBenchFile(flags.compare) : null;
  const started = performance.now();
  const engine = await Engine.create();
  engine.conv2d.mode = flags.conv;
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

  // The ceilings run first when their rows are wanted, else (quick, unprinted) when a section
  // that relates its figures to them has rows.
  let ceil: Ceilings | null = null;
  let measured = false;
  const ceilScope = run.wants("ceilings", [
    "matmul_vec4 register 16×16",
    "matmul_vec4 tiled 64×64 wg-mem",
    "matmul.wgsl general 4×4",
    "copy vec4 (bench/copy.wgsl)",
    "copy words (engine.copy)",
  ]);
  const ceilings = async (): Promise<Ceilings | null> => {
    if (!measured) {
      measured = true;
      await run.section(async () => {
        const r = await benchCeilings(engine, {
          quick: flags.quick || ceilScope === "none",
          show: run.rowFilter(ceilScope),
        });
        ceil = r.ceilings;
        return r.section;
      });
    }
    return ceil;
  };
  if (ceilScope !== "none") await ceilings();

  const convNames = CONV_LAYERS.flatMap((l) => CONV_DIRECTIONS.map((d) => `${l.label} ${d}`));
  const convScope = run.wants("conv", convNames);
  if (convScope !== "none") {
    const c = await ceilings();
    await run.section(async () => {
      // With a filter only the layers with a matching row run; --quick measures only the
      // largest layer of each stage width of each model.
      const f = flags.filter;
      const matching = CONV_LAYERS.filter((l) =>
        CONV_DIRECTIONS.some((d) => `${l.label} ${d}`.toLowerCase().includes(f))
      ).map((l) => l.label);
      const named = convScope === "rows";
      const subset = flags.quick && !named;
      const labels = named ? matching : subset ? QUICK_CONV : [""];
      const rows = [];
      for (const only of labels) {
        rows.push(
          ...await benchConv(engine, {
            batch,
            quick: flags.quick,
            only,
            candidates: flags.candidates,
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
        columns: [MS, { key: "gflops", label: "eff GFLOP/s", better: "higher" }, FRAC, {
          key: "speedup",
          label: "×direct",
          digits: 2,
          better: "higher",
        }, { key: "variant", label: "variant" }],
        rows: rows.map((r): Row => ({
          name: `${r.label} ${r.direction}${r.alternative ? ` [${r.variant}]` : ""}`,
          ms: r.ms,
          gflops: r.gflops,
          frac: frac(r.gflops, c?.gflops),
          speedup: r.speedup,
          variant: r.variant,
        })).filter((r) => want(r.name)),
        notes: [
          "of ceiling: GFLOP/s over the matmul ceiling; eff GFLOP/s: direct-convolution FLOPs " +
          "over the time, whatever the algorithm",
          "[variant] rows: the algorithm conv2d does not choose there, timed beside the chosen " +
          `one (--conv ${flags.conv}); ×direct: direct ms over Winograd ms`,
        ],
      };
    });
  }

  const layerScope = run.wants("layers", null);
  if (layerScope !== "none") {
    await run.section(async () => {
      const want = run.rowFilter(layerScope);
      const rows = await benchLayers(engine, { batch, reps: flags.quick ? 3 : 7, want });
      const c = rows.length ? await ceilings() : null;
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

  const opsScope = run.wants("ops", null);
  if (opsScope !== "none") {
    await run.section(async () => {
      const rows = await benchOps(engine, {
        batch,
        quick: flags.quick,
        want: run.rowFilter(opsScope),
      });
      const c = rows.length ? await ceilings() : null;
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
  const stepNames = RECIPE_MODELS.flatMap((m) => [`${m.model} train step`, `${m.model} eval step`]);
  const stepScope = run.wants("steps", stepNames);
  if (stepScope !== "none") {
    const c = await ceilings();
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
          "train = forward + softmax-CE + backward + SGD planned once, replayed in one submission; " +
          "eval = forward with running statistics + loss, planned likewise; FLOPs from models/summary.ts (resnet18a 1.11, " +
          "WRN-16-8 3.10 GFLOP a forward image, training 3×); img/s and GFLOP/s from wall ms " +
          "(steps back to back, recording included)",
          "epoch min: training epoch of the recipe (resnet18a 100,000 images, WRN-16-8 50,000) " +
          "or, for eval, the 10,000 test images, at this batch's rate",
          "peak MiB: the GPU memory the model and its planned step hold (parameters, gradients, " +
          "momentum, the plan's activations, gradients, workspaces and uniforms)",
        ],
      };
    });
  }

  const profileNames = RECIPE_MODELS.map((m) => `${m.model} step profile`);
  const profileScope = run.wants("profile", profileNames);
  if (profileScope !== "none") {
    await run.section(async () => ({
      id: "profile",
      title: `Where a training step's GPU time goes, batch ${stepBatch}`,
      columns: [
        { key: "ms", label: "GPU ms", better: "lower" },
        { key: "share", label: "% of step", digits: 1 },
        { key: "calls", label: "calls", digits: 0 },
      ],
      rows: engine.gpu.timestamps
        ? await benchProfile(engine, { batch: stepBatch, want: run.rowFilter(profileScope) })
        : [],
      notes: [
        engine.gpu.timestamps
          ? "one eager training step per model (forward, softmax-CE, backward, SGD), each " +
            "dispatch in a compute pass of its own between two timestamps (engine/profile.ts), " +
            "summed per kernel (source:entry, generated constants left out)"
          : "not measured: the adapter has no timestamp-query",
      ],
    }));
  }

  const hostNames = RECIPE_MODELS.flatMap((
    m,
  ) => [`${m.model} host, eager`, `${m.model} host, planned`]);
  const hostScope = run.wants("host", hostNames);
  if (hostScope !== "none") {
    await run.section(async () => ({
      id: "host",
      title: `Host cost: recording one training step, batch ${HOST_BATCH}`,
      columns: [
        { key: "ms", label: "host ms", better: "lower" },
        { key: "min", label: "min ms", better: "lower" },
        { key: "dispatches", label: "dispatches", digits: 0 },
        { key: "us", label: "µs/dispatch", better: "lower" },
        { key: "speedup", label: "vs eager", digits: 1, better: "higher" },
        { key: "plan", label: "plan ms" },
        { key: "mib", label: "GPU MiB", digits: 0 },
      ],
      rows: await benchHost(engine, {
        batch: HOST_BATCH,
        runs: flags.quick ? 5 : 15,
        want: run.rowFilter(hostScope),
      }),
      notes: [
        "host ms: median from engine.scope (eager) or replay (planned) to a finished command " +
        "buffer, not submitted (the GPU never runs these steps); forward with a new dropout " +
        "seed each step, softmax-CE, backward, SGD",
        "plan ms: recording the plan once; GPU MiB: what a planned step holds (parameters, " +
        "gradients, momentum, the plan's activations, gradients, workspaces and uniforms)",
      ],
    }));
  }

  const dataNames = [
    "GPU batch: train 125, crop + flip + zscore",
    "GPU batch: flip-doubled 125 (resnet recipe)",
    "GPU batch: test 1000",
    "load from archive",
    "load from folder",
    "mean/std",
    "upload train + test",
  ];
  const dataScope = run.wants("data", dataNames);
  if (dataScope !== "none") {
    await run.section(async () => {
      // --quick skips reading CIFAR-10 (seconds of gunzip): synthetic images of the same shape.
      const d = await benchData(engine, {
        quick: flags.quick,
        source: flags.quick ? null : undefined,
      });
      const want = run.rowFilter(dataScope);
      const figures: Record<string, number | null>[] = [
        { imgs: d.trainImagesPerS },
        { imgs: d.mirrorImagesPerS },
        { imgs: d.testImagesPerS },
        { s: d.loadArchiveS },
        { s: d.loadFolderS },
        { s: d.meanStdS },
        { s: d.uploadS },
      ];
      const rows: Row[] = figures.map((f, i) => ({ name: dataNames[i], ...f }));
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
  await engine.close();
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
