// A sweep as data: runs (recipe, flags, seed) from a JSON or CSV file or --seeds over one recipe,
// each with its own folder runs/<sweep>/<name>/ and the training command that fills it.
import { parseTrainFlags } from "./train_flags.ts";
import { type RecipeName, RECIPES } from "./recipes.ts";
import { UsageError } from "./output_paths.ts";

/** A flag's value in a sweep file: a string or number is `--flag value`, true is `--flag`. */
export type FlagValue = string | number | boolean;

/** One row of a sweep: name, recipe, seed or seeds, and any training flags. */
export type RunSpec = Record<string, FlagValue | undefined>;

/** A sweep file: shared fields (name, recipe, seeds, flags) and its runs (default: one). */
export interface SweepSpec {
  /** The sweep's name (folder runs/<name>/); default: the file's name. */
  name?: string;
  /** Fields every run gets unless it sets them itself. */
  shared: RunSpec;
  runs: RunSpec[];
}

/** One run of a planned sweep. */
export interface PlannedRun {
  index: number;
  name: string;
  recipe: RecipeName;
  seed: number;
  /** The run's folder, as given to the training task. */
  dir: string;
  checkpoint: string;
  /** The training task's arguments after the recipe (--auto-resume and --checkpoint included). */
  args: string[];
}

/** A planned sweep: its folder and its runs in array-index order. */
export interface Sweep {
  name: string;
  root: string;
  runs: PlannedRun[];
}

/** Fields of a run that are not training flags. */
const OWN = new Set(["name", "recipe", "seed", "seeds"]);
/** Training flags the sweep sets itself (or that make no sense in a sweep). */
const SET_BY_SWEEP = new Set([
  "checkpoint",
  "resume",
  "metrics",
  "overwrite",
  "auto-resume",
  "help",
]);
/** Flags whose value is a path: made absolute when the runs start from another folder. */
const PATHS = new Set(["data", "tune-cache"]);
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** The checkpoint's file name in a run's folder; the metrics (.jsonl) and page (.html) lie beside. */
export const CHECKPOINT_FILE = "model.safetensors";

/** "0-4", "0,3,7" or "0-2,10" → the seeds in order; throws naming `where`. */
export function parseSeeds(text: string, where = "--seeds"): number[] {
  const seeds: number[] = [];
  for (const part of String(text).split(",")) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    const a = m ? Number(m[1]) : NaN, b = m?.[2] !== undefined ? Number(m[2]) : a;
    if (!m || !(a <= b) || b > 0xffffffff) {
      throw new UsageError(
        `${where} must list seeds and ranges like 0-4 or 0,3,7 (0 … 4294967295), got "${text}"`,
      );
    }
    if (b - a >= 10_000) throw new UsageError(`${where}: ${part.trim()} is over 10,000 seeds`);
    for (let s = a; s <= b; s++) seeds.push(s);
  }
  const twice = seeds.find((s, i) => seeds.indexOf(s) !== i);
  if (twice !== undefined) throw new UsageError(`${where} lists seed ${twice} twice`);
  return seeds;
}

function isFlagValue(v: unknown): v is FlagValue {
  return typeof v === "string" || typeof v === "boolean" ||
    (typeof v === "number" && Number.isFinite(v));
}

function checkRow(row: unknown, where: string): RunSpec {
  if (!row || typeof row !== "object" || Array.isArray(row)) {
    throw new UsageError(`${where} is not an object of fields`);
  }
  for (const [k, v] of Object.entries(row)) {
    if (!isFlagValue(v)) {
      throw new UsageError(`${where}: "${k}" must be a string, number or true/false`);
    }
  }
  return row as RunSpec;
}

/** A JSON sweep: {name?, runs?: [{…}], and shared fields (recipe, seeds, flags) at the top}. */
export function parseSweepJson(text: string, file: string): SweepSpec {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`sweep ${file} is not JSON: ${(e as Error).message}`);
  }
  if (!v || typeof v !== "object" || Array.isArray(v)) {
    throw new UsageError(`sweep ${file} must be a JSON object (name, recipe, seeds, runs, flags)`);
  }
  const { name, runs, ...shared } = v as Record<string, unknown>;
  if (name !== undefined && typeof name !== "string") {
    throw new UsageError(`sweep ${file}: "name" must be a string`);
  }
  if (runs !== undefined && !Array.isArray(runs)) {
    throw new UsageError(`sweep ${file}: "runs" must be a list of objects`);
  }
  return {
    name,
    shared: checkRow(shared, `sweep ${file}`),
    runs: (runs ?? [{}]).map((r, i) => checkRow(r, `sweep ${file}, runs[${i}]`)),
  };
}

/** A CSV sweep: a header row of field names (name, recipe, seed, seeds, flags), a run a row. */
export function parseSweepCsv(text: string, file: string): SweepSpec {
  const lines = text.split(/\r?\n/).map((l, i) => ({ l: l.trim(), n: i + 1 }))
    .filter(({ l }) => l !== "" && !l.startsWith("#"));
  if (lines.length < 2) throw new UsageError(`sweep ${file}: a header row and one row a run`);
  const head = lines[0].l.split(",").map((h) => h.trim());
  const empty = head.findIndex((h) => h === "");
  if (empty >= 0) throw new UsageError(`sweep ${file}: column ${empty + 1} has no name`);
  const runs = lines.slice(1).map(({ l, n }) => {
    const cells = l.split(",").map((c) => c.trim());
    if (cells.length !== head.length) {
      throw new UsageError(
        `sweep ${file}, line ${n}: ${cells.length} cells under ${head.length} columns`,
      );
    }
    const row: RunSpec = {};
    head.forEach((h, i) => {
      if (cells[i] !== "") row[h] = cells[i] === "true" ? true : cells[i];
    });
    return row;
  });
  return { shared: {}, runs };
}

/** Reads a sweep file, JSON or CSV by its extension. */
export async function readSweepFile(file: string): Promise<SweepSpec> {
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (e) {
    const why = e instanceof Deno.errors.NotFound ? "no such file" : (e as Error).message;
    throw new UsageError(`cannot read sweep ${file}: ${why}`);
  }
  if (/\.json$/i.test(file)) return parseSweepJson(text, file);
  if (/\.csv$/i.test(file)) return parseSweepCsv(text, file);
  throw new UsageError(`sweep ${file}: give a .json or .csv file`);
}

/** The sweep's default name: the file's name without folder and extension. */
export function nameOfFile(file: string): string {
  return file.replace(/^.*\//, "").replace(/\.[^.]*$/, "");
}

function flagArgs(row: RunSpec, where: string, absolute: (p: string) => string): string[] {
  const args: string[] = [];
  for (const [k, v] of Object.entries(row)) {
    if (OWN.has(k) || v === undefined || v === false) continue;
    if (SET_BY_SWEEP.has(k)) {
      throw new UsageError(`${where}: "${k}" is set by the sweep (each run has its own folder)`);
    }
    if (v === true) args.push(`--${k}`);
    else {
      const s = String(v);
      const path = PATHS.has(k) && !/^https?:\/\//.test(s) && s !== "off";
      args.push(`--${k}`, path ? absolute(s) : s);
    }
  }
  return args;
}

/**
 * Expands a sweep into runs: each row once per seed (its own "seeds", the sweep's, or `seeds`
 * from the command line), named by its "name" or its recipe and own flags, and `-seed<N>` when
 * seeds were expanded. Every run's flags are checked as the training task would (errors name
 * the run). `absolute` turns path flags into the paths the runs will see.
 */
export function planSweep(
  spec: SweepSpec,
  options: { name: string; seeds?: number[]; root?: string; absolute?: (p: string) => string },
): Sweep {
  const sweepName = spec.name ?? options.name;
  if (!NAME.test(sweepName)) {
    throw new UsageError(`sweep name "${sweepName}" must be letters, digits, ".", "_" or "-"`);
  }
  const absolute = options.absolute ?? ((p: string) => p);
  const root = options.root ?? `runs/${sweepName}`;
  const runs: PlannedRun[] = [];
  spec.runs.forEach((own, i) => {
    const row: RunSpec = { ...spec.shared, ...own };
    const where = `sweep ${sweepName}, run ${own.name ?? i + 1}`;
    const recipe = String(row.recipe ?? "") as RecipeName;
    if (!(recipe in RECIPES)) {
      throw new UsageError(`${where}: "recipe" must be ${Object.keys(RECIPES).join(" or ")}`);
    }
    // Seeds: --seeds, else the run's "seeds" or "seed", else the sweep's, else seed 0.
    const [field, value] = options.seeds ? ["--seeds", options.seeds.join(",")] : (
      [["seeds", own.seeds], ["seed", own.seed], ["seeds", spec.shared.seeds], [
        "seed",
        spec.shared.seed,
      ]].find(([, v]) => v !== undefined) ?? ["seed", 0]
    ) as [string, FlagValue];
    const seeds = parseSeeds(String(value), `${where}: "${field}"`);
    // A list of seeds, or no name of its own: the seed is part of the name.
    const suffix = field !== "seed" || own.name === undefined;
    const flags = flagArgs(row, where, absolute);
    const label = own.name !== undefined ? String(own.name) : [
      recipe,
      ...Object.entries(own).filter(([k, v]) => !OWN.has(k) && v !== undefined && v !== false)
        .map(([k, v]) => v === true ? k : `${k}${v}`),
    ].join("-").replace(/[^A-Za-z0-9._-]/g, "_");
    for (const seed of seeds) {
      const name = suffix ? `${label}-seed${seed}` : label;
      if (!NAME.test(name)) {
        throw new UsageError(`${where}: name "${name}" must be letters, digits, ".", "_" or "-"`);
      }
      if (runs.some((r) => r.name === name)) {
        throw new UsageError(`${where}: two runs are named "${name}"; give them names`);
      }
      const dir = `${root}/${name}`;
      const checkpoint = `${dir}/${CHECKPOINT_FILE}`;
      const args = [...flags, "--seed", String(seed), "--checkpoint", checkpoint, "--auto-resume"];
      try {
        parseTrainFlags(recipe, args);
      } catch (e) {
        const msg = (e as Error).message;
        const unknown = /^Unknown option '--([^']*)'/.exec(msg)?.[1];
        throw new UsageError(
          `${where}: ${
            unknown
              ? `"${unknown}" is not a flag of train:${recipe} (deno task train:${recipe} --help)`
              : msg
          }`,
        );
      }
      runs.push({ index: runs.length, name, recipe, seed, dir, checkpoint, args });
    }
  });
  return { name: sweepName, root, runs };
}

/** An argument as a POSIX shell word (quoted only when it must be). */
export function shellWord(s: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}

/** The command of a run, as typed in the project's folder. */
export function runCommand(run: PlannedRun): string[] {
  return ["deno", "task", `train:${run.recipe}`, ...run.args];
}
