// During training: append each epoch to the metrics file and rewrite the report page beside it.
import { type EpochRecord, logLine, parseRunLog, type RunHeader } from "./run_log.ts";
import { reportPage } from "./report_page.ts";
import { writeAtomic } from "./report.ts";
import type { EpochResult } from "../engine/train/trainer.ts";

/** What a training epoch hands the recorder: the trainer's own result. */
export type EpochFiguresIn = Pick<
  EpochResult,
  "epoch" | "lr" | "loss" | "testLoss" | "accuracy" | "seconds" | "imagesPerSecond" | "confusion"
>;

/** The metrics file and report page of a checkpoint: `runs/x.safetensors` → `runs/x.jsonl`, `runs/x.html`. */
export function besideCheckpoint(checkpoint: string, ext: ".jsonl" | ".html"): string {
  return checkpoint.replace(/\.safetensors$/i, "") + ext;
}

/**
 * Appends one JSON line per epoch (a run header before the first) to `metrics` and rewrites
 * `page` from the whole file after each, atomically, so the page can be watched during a run.
 */
export class RunRecorder {
  readonly metrics: string;
  readonly page: string;
  #header: Omit<RunHeader, "resumedAt">;
  #resumed: boolean;
  #mine: (RunHeader | EpochRecord)[] = [];
  #warned = new Set<string>();

  constructor(
    metrics: string,
    page: string,
    header: Omit<RunHeader, "resumedAt">,
    options: { resumed: boolean },
  ) {
    this.metrics = metrics;
    this.page = page;
    this.#header = header;
    this.#resumed = options.resumed;
  }

  /** Records one finished epoch and rewrites the page. */
  async epoch(r: EpochFiguresIn): Promise<void> {
    const dir = this.metrics.includes("/")
      ? this.metrics.slice(0, this.metrics.lastIndexOf("/"))
      : ".";
    await Deno.mkdir(dir, { recursive: true });
    if (this.#mine.length === 0) {
      // The header is written with the first epoch: only then is the resume point known.
      const header = { ...this.#header, resumedAt: this.#resumed ? r.epoch - 1 : 0 };
      await Deno.writeTextFile(this.metrics, logLine(header), { append: true });
      this.#mine.push(header);
    }
    const record: EpochRecord = {
      epoch: r.epoch,
      lr: r.lr,
      loss: r.loss,
      testLoss: r.testLoss,
      accuracy: r.accuracy,
      seconds: r.seconds,
      imagesPerSecond: r.imagesPerSecond,
      confusion: Array.from(r.confusion),
      time: new Date().toISOString(),
    };
    await Deno.writeTextFile(this.metrics, logLine(record), { append: true });
    this.#mine.push(record);
    await writeAtomic(this.page, reportPage(await this.#log()));
  }

  /**
   * The whole file's run (earlier epochs of a resumed run included; broken lines skipped with a
   * warning, once each), else this process's epochs.
   */
  async #log() {
    const warn = (line: string) => {
      if (!this.#warned.has(line)) console.error(line);
      this.#warned.add(line);
    };
    try {
      return parseRunLog(await Deno.readTextFile(this.metrics), this.metrics, { warn });
    } catch (e) {
      warn(`warning: the report shows this run's epochs only: ${(e as Error).message}`);
      return parseRunLog(this.#mine.map(logLine).join(""), this.metrics);
    }
  }
}
