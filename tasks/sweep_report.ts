// A sweep's results: every run folder's metrics file, grouped by setting (all but the seed),
// summed up as a table (runs done, final test accuracy mean ± sd, best, epochs, time).
import { readRunLog, type RunLog } from "./run_log.ts";
import { duration } from "../engine/train/format.ts";
import { UsageError } from "./output_paths.ts";

/** One run of a sweep as its metrics file tells it. */
export interface RunResult {
  name: string;
  log: RunLog;
  seed: number | string;
  /** The setting it belongs to: its settings without seed and paths, as text. */
  key: string;
  epochsDone: number;
  epochsTotal: number;
  finished: boolean;
  /** Test accuracy after its last epoch, percent. */
  final: number;
  /** Its best epoch's test accuracy, percent. */
  best: number;
  /** Training and test time, all epochs together. */
  seconds: number;
}

/** Runs of one setting, and the figures of the finished ones. */
export interface SettingRow {
  label: string;
  runs: RunResult[];
  done: number;
  /** Final accuracies of the finished runs: mean, sample sd (NaN under two runs), best. */
  mean: number;
  sd: number;
  best: number;
  epochs: number;
  /** Mean seconds a finished run took. */
  seconds: number;
}

/** Settings that tell runs apart without making them another setting. */
const NOT_SETTING = new Set(["seed", "checkpoint", "data"]);

/** Settings the model name already tells (not repeated in a setting's label). */
const FOLLOWS_MODEL = new Set(["model", "parameters", "GFLOP forward / image"]);

/** Mean and sample standard deviation (NaN for fewer than two values). */
export function meanSd(xs: number[]): { mean: number; sd: number } {
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  const sd = xs.length < 2
    ? NaN
    : Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (xs.length - 1));
  return { mean, sd };
}

/** A run's figures from its metrics. */
export function runResult(name: string, log: RunLog): RunResult {
  const run = log.header?.run ?? {};
  const setting = Object.entries(run).filter(([k]) => !NOT_SETTING.has(k));
  const last = log.epochs.at(-1)!;
  const total = Number(run.epochs ?? last.epoch);
  return {
    name,
    log,
    seed: run.seed as number ?? "?",
    key: JSON.stringify(setting),
    epochsDone: last.epoch,
    epochsTotal: total,
    finished: last.epoch >= total,
    final: last.accuracy,
    best: Math.max(...log.epochs.map((e) => e.accuracy)),
    seconds: log.epochs.reduce((s, e) => s + e.seconds, 0),
  };
}

/**
 * Reads `root`'s run folders (each a folder with a metrics file, `*.jsonl`); a folder without
 * one is skipped, an unreadable one is a warning. Throws when there are no runs at all.
 */
export async function loadSweep(
  root: string,
): Promise<{ runs: RunResult[]; warnings: string[] }> {
  const dirs: string[] = [];
  try {
    for await (const e of Deno.readDir(root)) if (e.isDirectory) dirs.push(e.name);
  } catch (e) {
    const why = e instanceof Deno.errors.NotFound ? "no such folder" : (e as Error).message;
    throw new UsageError(`cannot read sweep folder ${root}: ${why}`);
  }
  const runs: RunResult[] = [];
  const warnings: string[] = [];
  for (const name of dirs.sort()) {
    const files: string[] = [];
    for await (const e of Deno.readDir(`${root}/${name}`)) {
      if (e.isFile && e.name.endsWith(".jsonl")) files.push(e.name);
    }
    if (files.length !== 1) {
      if (files.length > 1) warnings.push(`${root}/${name}: several metrics files; skipped`);
      continue;
    }
    try {
      runs.push(runResult(name, await readRunLog(`${root}/${name}/${files[0]}`)));
    } catch (e) {
      warnings.push((e as Error).message);
    }
  }
  if (runs.length === 0) {
    throw new UsageError(
      `${root} holds no run folders with metrics yet (runs/<sweep>/<run>/model.jsonl)`,
    );
  }
  return { runs, warnings };
}

/** The settings that differ between the runs' settings, as each setting's label. */
function labels(runs: RunResult[]): Map<string, string> {
  const keys = [...new Set(runs.map((r) => r.key))];
  const settings = keys.map((k) => Object.fromEntries(JSON.parse(k) as [string, unknown][]));
  const names = [...new Set(settings.flatMap((s) => Object.keys(s)))];
  const differ = names.filter((n) => new Set(settings.map((s) => String(s[n]))).size > 1);
  return new Map(keys.map((k, i) => {
    const s = settings[i];
    const parts = differ.filter((n) => !FOLLOWS_MODEL.has(n)).map((n) => `${n} ${s[n]}`);
    // The model's short name ("wrn-10-1" of "wrn-10-1 = widenet(10, 1, 0, 10)").
    const model = String(s.model ?? s.task ?? "run").split(" = ")[0];
    return [k, [model, ...parts].join(", ")];
  }));
}

/** Groups runs by setting, in the order their settings first appear. */
export function settingRows(runs: RunResult[]): SettingRow[] {
  const label = labels(runs);
  return [...label.entries()].map(([key, text]) => {
    const mine = runs.filter((r) => r.key === key);
    const done = mine.filter((r) => r.finished);
    const { mean, sd } = done.length ? meanSd(done.map((r) => r.final)) : { mean: NaN, sd: NaN };
    return {
      label: text,
      runs: mine,
      done: done.length,
      mean,
      sd,
      best: done.length ? Math.max(...done.map((r) => r.final)) : NaN,
      epochs: mine[0].epochsTotal,
      seconds: done.length ? meanSd(done.map((r) => r.seconds)).mean : NaN,
    };
  });
}

const pct = (x: number) => Number.isNaN(x) ? "—" : `${x.toFixed(2)}%`;

/** The table's cells of a setting: setting, runs done, accuracy mean ± sd, best, epochs, time. */
export function settingCells(s: SettingRow): string[] {
  const acc = Number.isNaN(s.mean)
    ? "—"
    : Number.isNaN(s.sd)
    ? `${s.mean.toFixed(2)}%`
    : `${s.mean.toFixed(2)} ± ${s.sd.toFixed(2)}%`;
  return [
    s.label,
    `${s.done}/${s.runs.length}`,
    acc,
    pct(s.best),
    String(s.epochs),
    Number.isNaN(s.seconds) ? "—" : duration(s.seconds),
  ];
}

/** The heads of {@linkcode settingCells}. */
export const SETTING_HEAD = [
  "setting",
  "runs done",
  "final test accuracy",
  "best",
  "epochs",
  "time",
];

/** The table's cells of a run: name, seed, epochs, final and best accuracy, time. */
export function runCells(r: RunResult): string[] {
  return [
    r.name,
    String(r.seed),
    `${r.epochsDone}/${r.epochsTotal}`,
    pct(r.final),
    pct(r.best),
    duration(r.seconds),
  ];
}

/** The heads of {@linkcode runCells}. */
export const RUN_HEAD = ["run", "seed", "epochs", "final test accuracy", "best epoch", "time"];

/** A plain-text table: columns padded, the first left-aligned, the rest right-aligned. */
export function textTable(head: string[], rows: string[][]): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) =>
    r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join("  ").trimEnd();
  return [line(head), w.map((n) => "-".repeat(n)).join("  "), ...rows.map(line)].join("\n");
}
