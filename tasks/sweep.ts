// `deno task sweep plan|slurm|report`: many runs (seeds, settings) from one file, each in its own
// folder runs/<sweep>/<name>/, as a Slurm job array or any loop, and their results as one table.
import { intFlag, parseFlags, runTask, UsageError } from "./cli.ts";
import {
  nameOfFile,
  parseSeeds,
  planSweep,
  readSweepFile,
  runCommand,
  type RunSpec,
  shellWord,
  type Sweep,
  type SweepSpec,
} from "./sweep_plan.ts";
import { sbatchScript } from "./sweep_slurm.ts";
import {
  loadSweep,
  RUN_HEAD,
  runCells,
  SETTING_HEAD,
  settingCells,
  settingRows,
  textTable,
} from "./sweep_report.ts";
import { sweepPage } from "./sweep_page.ts";
import { writeAtomic } from "./report.ts";
import { checkOutputPath } from "./output_paths.ts";

/** The usage text of `deno task sweep`. */
export const SWEEP_USAGE = `Usage:
  deno task sweep plan  FILE [--seeds LIST] [--commands] [-- TRAIN FLAGS]
  deno task sweep plan  --recipe res|wide --seeds LIST [--name N] [-- TRAIN FLAGS]
  deno task sweep slurm FILE|--recipe … [--time T] [--gpus N] [--cpus N] [--partition P]
                        [--signal-seconds S] [--parallel N]
  deno task sweep report runs/SWEEP/ [--out PAGE.html]

A sweep is a JSON or CSV file of runs (recipe, seed or seeds, training flags), or --seeds over
one recipe. Each run gets the folder runs/<sweep>/<run>/ (checkpoint, metrics, report page) and
runs \`deno task train:<recipe> … --auto-resume\`, so a stopped run started again goes on.

  plan        print the runs and the command of each (--commands: only the commands, one a
              line, for a shell loop or GNU parallel)
  slurm       write runs/<sweep>/sweep.sbatch, a Slurm job array with a task a run
              (--requeue; checkpoint and requeue before the time limit), and say how to submit
  report      print the table per setting (runs done, final test accuracy mean ± sd, best,
              epochs, time) and per run; write the page with every run's curves overlaid

  --seeds LIST        seeds like 0-4 or 0,3,7: every run of the file once per seed
  --recipe R          without FILE: one run of recipe R (res or wide) per seed
  --name N            the sweep's name without FILE (default <recipe>-seeds)
  -- TRAIN FLAGS      training flags for every run (--epochs 30 --width 4 …)
  --time T            wall time a task (sbatch --time: minutes, H:MM:SS, D-HH:MM:SS)
  --gpus N            GPUs a task (default 1; one run uses one GPU; 0 for none)
  --cpus N            CPU cores a task (default 4)
  --partition P       Slurm partition
  --signal-seconds S  checkpoint and requeue S seconds before the time limit (default 300)
  --parallel N        at most N tasks at once (default: as many as Slurm gives)
  --out F             the report page (default runs/SWEEP/report.html)`;

const PROJECT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

/** `--epochs 30 --quiet` → {epochs: "30", quiet: true}. */
export function flagsToRow(args: string[]): RunSpec {
  const row: RunSpec = {};
  for (let i = 0; i < args.length; i++) {
    const m = /^--([a-z][a-z-]*)(?:=(.*))?$/.exec(args[i]);
    if (!m) throw new UsageError(`training flags start with --, got "${args[i]}"`);
    if (m[2] !== undefined) row[m[1]] = m[2];
    else if (i + 1 < args.length && !args[i + 1].startsWith("--")) row[m[1]] = args[++i];
    else row[m[1]] = true;
  }
  return row;
}

async function sweepOf(
  positionals: string[],
  values: { seeds?: string; recipe?: string; name?: string },
  extra: string[],
): Promise<Sweep> {
  const seeds = values.seeds === undefined ? undefined : parseSeeds(values.seeds);
  let spec: SweepSpec, name: string;
  if (positionals.length === 1) {
    if (values.recipe || values.name) {
      throw new UsageError("--recipe and --name are for a sweep without a file");
    }
    spec = await readSweepFile(positionals[0]);
    name = nameOfFile(positionals[0]);
  } else if (positionals.length === 0 && values.recipe) {
    if (!seeds) throw new UsageError("--recipe needs --seeds (or give a sweep file)");
    spec = { shared: { recipe: values.recipe }, runs: [{}] };
    name = values.name ?? `${values.recipe}-seeds`;
  } else {
    throw new UsageError(`give one sweep file, or --recipe and --seeds`);
  }
  spec.shared = { ...spec.shared, ...flagsToRow(extra) };
  // Runs start in the project's folder (for `deno task`): paths from elsewhere become absolute.
  const here = Deno.cwd();
  const away = here !== PROJECT;
  const absolute = (p: string) => (p.startsWith("/") || !away ? p : `${here}/${p}`);
  const sweepName = spec.name ?? name;
  return planSweep(spec, { name, seeds, root: absolute(`runs/${sweepName}`), absolute });
}

function printPlan(sweep: Sweep, commandsOnly: boolean): void {
  const cd = Deno.cwd() === PROJECT ? "" : `cd ${shellWord(PROJECT)} && `;
  if (commandsOnly) {
    for (const r of sweep.runs) console.log(cd + runCommand(r).map(shellWord).join(" "));
    return;
  }
  console.log(`sweep ${sweep.name}: ${sweep.runs.length} runs in ${sweep.root}/`);
  if (cd) console.log(`(commands run in ${PROJECT})`);
  for (const r of sweep.runs) {
    console.log(
      `${String(r.index).padStart(3)}  ${r.name}\n     ${runCommand(r).map(shellWord).join(" ")}`,
    );
  }
}

async function slurm(sweep: Sweep, v: Record<string, string | boolean | undefined>) {
  const num = (flag: string, def: number, min: number) =>
    intFlag(flag, v[flag] as string | undefined, min) ?? def;
  let script: string;
  try {
    script = sbatchScript(sweep, {
      time: v.time as string | undefined,
      gpus: num("gpus", 1, 0),
      cpus: num("cpus", 4, 1),
      signalSeconds: num("signal-seconds", 300, 1),
      partition: v.partition as string | undefined,
      parallel: num("parallel", 0, 1),
    }, PROJECT);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const file = `${sweep.root}/sweep.sbatch`;
  await checkOutputPath("sweep", file);
  // sbatch opens the output files in the folder it is given; it does not create it.
  await Deno.mkdir(`${sweep.root}/slurm`, { recursive: true });
  await writeAtomic(file, script);
  console.log(`wrote ${file}: a job array of ${sweep.runs.length} tasks, one a run`);
  console.log(`submit:   sbatch ${file}`);
  console.log(`watch:    squeue --me; output in ${sweep.root}/slurm/<job>_<task>.out`);
  console.log(`results:  deno task sweep report ${sweep.root}`);
}

async function report(root: string, out: string | undefined) {
  const dir = root.replace(/\/+$/, "");
  const { runs, warnings } = await loadSweep(dir);
  for (const w of warnings) console.error(`warning: ${w}`);
  const rows = settingRows(runs);
  const page = out ?? `${dir}/report.html`;
  await checkOutputPath("--out", page);
  console.log(textTable(SETTING_HEAD, rows.map(settingCells)));
  console.log("\n" + textTable(RUN_HEAD, runs.map(runCells)));
  await writeAtomic(page, sweepPage(nameOfFile(dir), rows));
  console.log(`\nwrote ${page}`);
}

if (import.meta.main) {
  await runTask(SWEEP_USAGE, async () => {
    const dash = Deno.args.indexOf("--");
    const args = dash < 0 ? Deno.args : Deno.args.slice(0, dash);
    const extra = dash < 0 ? [] : Deno.args.slice(dash + 1);
    const { values, positionals } = parseFlags(args, {
      seeds: { type: "string" },
      recipe: { type: "string" },
      name: { type: "string" },
      commands: { type: "boolean" },
      time: { type: "string" },
      gpus: { type: "string" },
      cpus: { type: "string" },
      partition: { type: "string" },
      "signal-seconds": { type: "string" },
      parallel: { type: "string" },
      out: { type: "string" },
      help: { type: "boolean" },
    }, true);
    const [verb, ...rest] = positionals;
    if (values.help) {
      console.log(SWEEP_USAGE);
      return 0;
    }
    if (verb === "plan") printPlan(await sweepOf(rest, values, extra), values.commands ?? false);
    else if (verb === "slurm") await slurm(await sweepOf(rest, values, extra), values);
    else if (verb === "report") {
      if (rest.length !== 1) throw new UsageError(`report takes one sweep folder (runs/SWEEP/)`);
      await report(rest[0], values.out);
    } else throw new UsageError(`say plan, slurm or report, got ${verb ? `"${verb}"` : "nothing"}`);
    return 0;
  });
}
