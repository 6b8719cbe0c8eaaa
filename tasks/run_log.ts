// A training run's metrics file (JSON lines): a header per process start, one record per epoch.
//
// Line kinds, told apart by their keys:
//   {"run": {settings…}, "adapter": "…", "classes": [names], "started": ISO, "resumedAt": k}
//   {"epoch": 1, "lr", "loss", "testLoss", "accuracy", "seconds", "imagesPerSecond",
//    "confusion": [K·K counts, row = true class], "time": ISO}
// A header with resumedAt 0 starts a new run (earlier epochs in the file are dropped); one with
// resumedAt k continues after epoch k (later epochs, from the interrupted attempt, are dropped).
// Epoch lines without "confusion" (older files) are read too.

/** The settings and context a run records once per process start. */
export interface RunHeader {
  /** Settings shown on the report, in order (task, model, epochs, batch, …). */
  run: Record<string, string | number | boolean>;
  /** The adapter line (`describeGpu`). */
  adapter: string;
  /** Class names in label order. */
  classes: string[];
  /** When this process started (ISO 8601). */
  started: string;
  /** Epochs already done when it started (0: a new run). */
  resumedAt: number;
}

/** One epoch's figures as written to the file. */
export interface EpochRecord {
  epoch: number;
  lr: number;
  loss: number;
  testLoss: number;
  /** Percent, 0–100. */
  accuracy: number;
  seconds: number;
  imagesPerSecond: number;
  /** [K·K] test counts, row = true class, column = predicted class (absent in old files). */
  confusion?: number[];
  /** When the epoch ended (ISO 8601). */
  time?: string;
}

/** A run as the report shows it: its latest header and its epochs 1 … n in order. */
export interface RunLog {
  header?: RunHeader;
  epochs: EpochRecord[];
}

const EPOCH_NUMBERS = ["epoch", "lr", "loss", "testLoss", "accuracy", "seconds", "imagesPerSecond"];

/** One JSON line for the metrics file. */
export function logLine(record: RunHeader | EpochRecord): string {
  return JSON.stringify(record) + "\n";
}

/** Folds the records of a file, in order, into the run they describe (see the header above). */
export function foldRun(records: (RunHeader | EpochRecord)[]): RunLog {
  let header: RunHeader | undefined;
  let epochs = new Map<number, EpochRecord>();
  for (const r of records) {
    if ("run" in r) {
      header = r;
      epochs = new Map([...epochs].filter(([e]) => e <= r.resumedAt));
    } else epochs.set(r.epoch, r);
  }
  return { header, epochs: [...epochs.values()].sort((a, b) => a.epoch - b.epoch) };
}

function checkRecord(v: unknown, where: string): RunHeader | EpochRecord {
  const fail = (why: string): never => {
    throw new TypeError(`${where} ${why}`);
  };
  if (!v || typeof v !== "object" || Array.isArray(v)) return fail("is not a JSON object");
  const o = v as Record<string, unknown>;
  if ("run" in o) {
    if (!o.run || typeof o.run !== "object") fail(`has a "run" that is not an object`);
    if (!Array.isArray(o.classes) || !o.classes.every((c) => typeof c === "string")) {
      fail(`has no "classes" list of names`);
    }
    return {
      run: o.run as RunHeader["run"],
      adapter: String(o.adapter ?? ""),
      classes: o.classes as string[],
      started: String(o.started ?? ""),
      resumedAt: Number(o.resumedAt ?? 0) || 0,
    };
  }
  if (!("epoch" in o)) return fail(`is neither a run header ("run") nor an epoch record ("epoch")`);
  for (const k of EPOCH_NUMBERS) {
    if (typeof o[k] !== "number") fail(`has no number "${k}"`);
  }
  if (!Number.isInteger(o.epoch) || (o.epoch as number) < 1) fail(`has epoch ${o.epoch}`);
  if (o.confusion !== undefined) {
    const c = o.confusion;
    const k = Math.round(Math.sqrt(Array.isArray(c) ? c.length : 0));
    if (!Array.isArray(c) || k * k !== c.length || !c.every((n) => Number.isInteger(n) && n >= 0)) {
      fail(`has a "confusion" that is not a square matrix of counts`);
    }
  }
  return o as unknown as EpochRecord;
}

/**
 * Parses a metrics file's text. A broken line (not JSON, or not a record of this format: a run
 * killed mid-append leaves a cut line, which a resumed run then follows) throws one sentence
 * naming `path`, the line and the problem, or, with `warn`, is skipped and reported to `warn`
 * naming its line number, as long as epochs remain (with none, the first problem is thrown).
 */
export function parseRunLog(
  text: string,
  path: string,
  options: { warn?: (line: string) => void } = {},
): RunLog {
  const records: (RunHeader | EpochRecord)[] = [];
  const skipped: Error[] = [];
  const lines = text.split("\n");
  for (const [i, line] of lines.entries()) {
    if (line.trim() === "") continue;
    const where = `Cannot read metrics ${path}: line ${i + 1}`;
    try {
      let v: unknown;
      try {
        v = JSON.parse(line);
      } catch {
        throw new SyntaxError(
          `${where} is not JSON${i === lines.length - 1 ? " (a truncated last line?)" : ""}: ${
            line.slice(0, 40)
          }`,
        );
      }
      records.push(checkRecord(v, where));
    } catch (e) {
      if (!options.warn) throw e;
      skipped.push(e as Error);
    }
  }
  const log = foldRun(records);
  if (log.epochs.length === 0) {
    if (skipped.length) throw skipped[0];
    throw new RangeError(`Cannot read metrics ${path}: it holds no epoch records`);
  }
  for (const e of skipped) {
    options.warn!(`warning: ${e.message.replace(/^Cannot read metrics /, "metrics ")} (skipped)`);
  }
  return log;
}

/** Reads and parses a metrics file (errors name the file). */
export async function readRunLog(
  path: string,
  options: { warn?: (line: string) => void } = {},
): Promise<RunLog> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    const why = e instanceof Deno.errors.NotFound ? "no such file" : (e as Error).message;
    throw new Error(`Cannot read metrics ${path}: ${why}`);
  }
  return parseRunLog(text, path, options);
}
