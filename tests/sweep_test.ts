// Sweeps without a cluster: the sweep file to runs and commands, the sbatch script run by bash
// with stand-ins for deno and scontrol, and the report of synthetic run folders.
import { assert, assertEquals, assertMatch, assertStringIncludes, assertThrows } from "./assert.ts";
import { parseSeeds, parseSweepCsv, parseSweepJson, planSweep } from "../tasks/sweep_plan.ts";
import { sbatchScript } from "../tasks/sweep_slurm.ts";
import { loadSweep, settingCells, settingRows } from "../tasks/sweep_report.ts";
import { sweepPage } from "../tasks/sweep_page.ts";
import { logLine } from "../tasks/run_log.ts";
import { UsageError } from "../tasks/output_paths.ts";

Deno.test("sweep: seeds lists and ranges; bad ones name the flag", () => {
  assertEquals(parseSeeds("0-4"), [0, 1, 2, 3, 4]);
  assertEquals(parseSeeds("0-2, 10,7"), [0, 1, 2, 10, 7]);
  assertEquals(parseSeeds("4294967295"), [4294967295]);
  for (const bad of ["4-2", "x", "-1", "1,,2", "4294967296"]) {
    assertThrows(() => parseSeeds(bad), UsageError, `--seeds must list seeds and ranges`);
  }
  assertThrows(() => parseSeeds("0-3,2"), UsageError, "--seeds lists seed 2 twice");
});

Deno.test("sweep: a JSON file becomes named runs, each with its folder and checked flags", () => {
  const spec = parseSweepJson(
    JSON.stringify({
      recipe: "wide",
      epochs: 3,
      runs: [{ name: "narrow", width: 1, seeds: "0-1" }, {
        depth: 10,
        width: 2,
        dropout: 0.3,
        seed: 7,
      }, {
        recipe: "res",
        width: 8,
      }],
    }),
    "grid.json",
  );
  const s = planSweep(spec, { name: "grid" });
  assertEquals(s.root, "runs/grid");
  assertEquals(s.runs.map((r) => [r.index, r.name, r.recipe, r.seed]), [
    [0, "narrow-seed0", "wide", 0],
    [1, "narrow-seed1", "wide", 1],
    [2, "wide-depth10-width2-dropout0.3-seed7", "wide", 7],
    [3, "res-width8-seed0", "res", 0],
  ]);
  // The shared flags first, then the run's own; the sweep sets seed, checkpoint, auto-resume.
  assertEquals(s.runs[2].args, [
    ...["--epochs", "3", "--depth", "10", "--width", "2", "--dropout", "0.3"],
    ...[
      "--seed",
      "7",
      "--checkpoint",
      "runs/grid/wide-depth10-width2-dropout0.3-seed7/model.safetensors",
    ],
    "--auto-resume",
  ]);
  // --seeds on the command line replaces every run's own seeds.
  assertEquals(planSweep(spec, { name: "g", seeds: [5] }).runs.map((r) => r.name), [
    "narrow-seed5",
    "wide-depth10-width2-dropout0.3-seed5",
    "res-width8-seed5",
  ]);
});

Deno.test("sweep: a CSV file, a row a run; empty cells are defaults", () => {
  const spec = parseSweepCsv(
    "# widths\nname,recipe,width,seeds,no-download\na,wide,1,0-1,true\n,res,,3,\n",
    "w.csv",
  );
  const s = planSweep(spec, { name: "w" });
  assertEquals(s.runs.map((r) => r.name), ["a-seed0", "a-seed1", "res-seed3"]);
  assertEquals(s.runs[0].args.slice(0, 3), ["--width", "1", "--no-download"]);
  assertThrows(() => parseSweepCsv("name,width\na,1,2\n", "x.csv"), UsageError, "line 2: 3 cells");
});

Deno.test("sweep: bad runs are refused before anything runs, naming the run", () => {
  const plan = (o: object) => () =>
    planSweep(parseSweepJson(JSON.stringify(o), "s.json"), {
      name: "s",
    });
  assertThrows(plan({ runs: [{ width: 1 }] }), UsageError, `run 1: "recipe" must be res or wide`);
  assertThrows(
    plan({ recipe: "wide", runs: [{ name: "d", depth: 11 }] }),
    UsageError,
    "sweep s, run d: --depth must be 6k+4",
  );
  assertThrows(plan({ recipe: "res", checkpoint: "x" }), UsageError, `"checkpoint" is set by the`);
  assertThrows(plan({ recipe: "res", bogus: 3 }), UsageError, `"bogus" is not a flag of train:res`);
  assertThrows(
    plan({ recipe: "res", runs: [{ name: "a" }, { name: "a" }] }),
    UsageError,
    `two runs are named "a"`,
  );
  assertThrows(plan({ recipe: "res", seeds: "0-1", runs: [{ name: "../x" }] }), UsageError, "name");
  assertThrows(plan({ recipe: "res", width: [1] }), UsageError, `"width" must be a string`);
  assertThrows(() => parseSweepJson("{", "s.json"), UsageError, "sweep s.json is not JSON");
});

/** Runs the script with bash as Slurm would, with `deno` and `scontrol` stand-ins on PATH. */
async function runScript(dir: string, index: string, usr1AfterMs?: number, work = "50") {
  const cmd = new Deno.Command("bash", {
    args: [`${dir}/sweep.sbatch`],
    env: {
      PATH: `${dir}/bin:${Deno.env.get("PATH")}`,
      SLURM_ARRAY_TASK_ID: index,
      SLURM_JOB_ID: "77",
      LOG: `${dir}/log`,
      WORK: work, // tenths of a second the stand-in works
    },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (usr1AfterMs !== undefined) {
    setTimeout(() => cmd.kill("SIGUSR1"), usr1AfterMs);
  }
  const r = await cmd.output();
  const dec = new TextDecoder();
  return { code: r.code, out: dec.decode(r.stdout) + dec.decode(r.stderr) };
}

Deno.test("sweep: the sbatch script runs its task's command; USR1 checkpoints and requeues", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const spec = parseSweepJson(JSON.stringify({ recipe: "res", seeds: "0-1" }), "s.json");
    const sweep = planSweep(spec, { name: "s", root: dir });
    const options = { gpus: 1, cpus: 2, signalSeconds: 240, parallel: 0, time: "1:00:00" };
    const script = sbatchScript(sweep, options, dir);
    for (
      const d of [
        "--array=0-1",
        "--requeue",
        "--signal=B:USR1@240",
        "--open-mode=append",
        `--output=${dir}/slurm/%A_%a.out`,
        "--gpus-per-task=1",
        "--time=1:00:00",
      ]
    ) assertStringIncludes(script, `#SBATCH ${d}\n`);
    await Deno.writeTextFile(`${dir}/sweep.sbatch`, script);
    await Deno.mkdir(`${dir}/bin`);
    // deno: records where and how it ran, then works until SIGTERM (exit 143, as the trainer).
    await Deno.writeTextFile(
      `${dir}/bin/deno`,
      `#!/bin/bash\necho "$PWD: deno $*" >> "$LOG"\ntrap 'echo TERM >> "$LOG"; exit 143' TERM\n` +
        `for i in $(seq 1 \${WORK:-50}); do sleep 0.1; done\n`,
      { mode: 0o755 },
    );
    await Deno.writeTextFile(`${dir}/bin/scontrol`, `#!/bin/bash\necho "scontrol $*" >> "$LOG"\n`, {
      mode: 0o755,
    });
    const done = await runScript(dir, "1", undefined, "3");
    assertEquals(done.code, 0, done.out);
    assertMatch(done.out, /sweep s, task 1: res-seed1, attempt 1 on /);
    assertEquals(
      (await Deno.readTextFile(`${dir}/log`)).trim(),
      `${dir}: deno task train:res --seed 1 --checkpoint ${dir}/res-seed1/model.safetensors --auto-resume`,
    );
    await Deno.remove(`${dir}/log`);
    const stopped = await runScript(dir, "0", 1500);
    assertEquals(stopped.code, 143, stopped.out);
    assertStringIncludes(stopped.out, "res-seed0 stopped before the time limit (status 143)");
    assertEquals((await Deno.readTextFile(`${dir}/log`)).trim().split("\n").slice(1), [
      "TERM",
      "scontrol requeue 77",
    ]);
    const none = await runScript(dir, "2");
    assertEquals(none.code, 2);
    assertStringIncludes(none.out, "sweep s: no run for array index 2");
    assertThrows(() => sbatchScript(sweep, { ...options, time: "1h" }, dir), RangeError, "--time");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** A run folder with a metrics file: a header, then the epochs' accuracies. */
async function writeRun(dir: string, run: Record<string, string | number>, acc: number[]) {
  await Deno.mkdir(dir, { recursive: true });
  const header = { run, adapter: "test", classes: ["a", "b"], started: "", resumedAt: 0 };
  const epochs = acc.map((a, i) => ({
    epoch: i + 1,
    lr: 0.1 / (i + 1),
    loss: 2 - i / 10,
    testLoss: 2.1 - i / 10,
    accuracy: a,
    seconds: 10 + i,
    imagesPerSecond: 100,
  }));
  await Deno.writeTextFile(`${dir}/model.jsonl`, [header, ...epochs].map(logLine).join(""));
}

Deno.test("sweep report: a row per setting, mean ± sd of finished runs; the page overlays all", async () => {
  const root = await Deno.makeTempDir();
  try {
    const w1 = { model: "WRN-10-1 = widenet(10, 1)", parameters: 10, epochs: 3, width: 1 };
    const w2 = { model: "WRN-10-2 = widenet(10, 2)", parameters: 40, epochs: 3, width: 2 };
    await writeRun(`${root}/a-seed0`, { ...w1, seed: 0, checkpoint: "x" }, [20, 30, 41.5]);
    await writeRun(`${root}/a-seed1`, { ...w1, seed: 1, checkpoint: "y" }, [22, 33, 38.25]);
    await writeRun(`${root}/a-seed2`, { ...w1, seed: 2, checkpoint: "z" }, [21, 40]); // stopped
    await writeRun(`${root}/b-seed0`, { ...w2, seed: 0 }, [25, 35, 45]);
    await Deno.mkdir(`${root}/slurm`); // no metrics: not a run
    await Deno.mkdir(`${root}/bad`);
    await Deno.writeTextFile(`${root}/bad/model.jsonl`, "{");
    const { runs, warnings } = await loadSweep(root);
    assertEquals(runs.map((r) => r.name), ["a-seed0", "a-seed1", "a-seed2", "b-seed0"]);
    assertEquals(warnings.length, 1);
    assertStringIncludes(warnings[0], `${root}/bad/model.jsonl: line 1 is not JSON`);
    const rows = settingRows(runs);
    // Hand-computed: mean (41.5 + 38.25) / 2 = 39.875; sd = |41.5 − 38.25| / √2 = 2.2981.
    assertEquals(settingCells(rows[0]), [
      "WRN-10-1, width 1",
      "2/3",
      "39.88 ± 2.30%",
      "41.50%",
      "3",
      "33.0s",
    ]);
    assertEquals(settingCells(rows[1]), [
      "WRN-10-2, width 2",
      "1/1",
      "45.00%",
      "45.00%",
      "3",
      "33.0s",
    ]);
    const page = sweepPage("s", rows);
    assertEquals(page.match(/<figure class="curve"/g)?.length, 4);
    // A line per run in each of the four figures (Plot draws a path per series, coloured).
    const accuracy = page.slice(page.indexOf(`data-curve="accuracy"`));
    const figure = accuracy.slice(0, accuracy.indexOf("</figure>"));
    assertEquals(figure.match(/<path [^>]*stroke="#[0-9a-f]{6}"/g)?.length, 4);
    assert(page.includes("a-seed2, epoch 2: 40.00"), "a dot's title names its run");
    await assertRejects(loadSweep(`${root}/slurm`), "holds no run folders with metrics");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

async function assertRejects(p: Promise<unknown>, includes: string) {
  try {
    await p;
  } catch (e) {
    assertStringIncludes((e as Error).message, includes);
    return;
  }
  throw new Error(`expected a rejection including "${includes}"`);
}
