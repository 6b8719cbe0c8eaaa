// A training run in the page: the same trainer, planned steps and checkpoint format as
// `deno task train:*`, with checkpoints and metrics kept in memory for download and resume.
import type { Engine } from "../engine/engine.ts";
import { describeGpu } from "../engine/device.ts";
import { type EpochResult, train, type TrainResult } from "../engine/train/trainer.ts";
import { describeReduceTuning, tuneReduce } from "../engine/ops/reduce_tune.ts";
import { GpuCifar } from "../data/gpu_dataset.ts";
import { type MeanStd, meanStd } from "../data/transforms.ts";
import { type Module, module } from "../models/module.ts";
import { moduleCheckpointer } from "../models/checkpoint.ts";
import { MemoryCheckpoints } from "../models/checkpoint_store.ts";
import { recipeSettings } from "../tasks/recipes.ts";
import { type EpochRecord, logLine, type RunHeader } from "../tasks/run_log.ts";
import { describePreset, type Preset } from "./presets.ts";
import type { PageData } from "./data.ts";

/** What the user chose on the page. */
export interface RunChoices {
  preset: Preset;
  epochs: number;
  batch: number;
  seed: number;
  /** Training and test images used (the first ones of each split). */
  limit: number;
  testLimit: number;
}

/** Where a run's news goes. */
export interface SessionView {
  /** A line of the run's log (the epoch lines in the published format among them). */
  line(text: string): void;
  /** Progress within an epoch: no GPU readback, a few times a second. */
  progress(
    epoch: number,
    batch: number,
    batches: number,
    imagesPerSecond: number,
    eta: number,
  ): void;
  /** An epoch ended: its record and every epoch of the run so far. */
  epoch(record: EpochRecord, all: EpochRecord[]): void;
}

/** One model trained on one data set; paused and resumed from its checkpoint in memory. */
export class Session {
  readonly engine: Engine;
  readonly choices: RunChoices;
  readonly settings: Record<string, unknown>;
  /** The checkpoint's name (its download's file name). */
  readonly checkpointName: string;
  readonly store = new MemoryCheckpoints();
  readonly model: Module;
  readonly stats: MeanStd;
  /** Every line of the metrics file (`deno task report` renders it). */
  readonly metrics: string[] = [];
  readonly epochs: EpochRecord[] = [];
  #data: PageData;
  #view: SessionView;
  #sets: { train: GpuCifar; test: GpuCifar };
  #stop = false;
  #header: Omit<RunHeader, "started" | "resumedAt">;
  #epochNow = 1;

  constructor(engine: Engine, data: PageData, choices: RunChoices, view: SessionView) {
    this.engine = engine;
    this.choices = choices;
    this.#data = data;
    this.#view = view;
    const { limit: n, testLimit: nTest } = choices;
    const d = describePreset(choices.preset);
    this.settings = recipeSettings(d.recipe, { ...choices.preset, ...choices }, n, nTest);
    this.checkpointName = `${d.model.split(" = ")[0]}.safetensors`;
    this.stats = meanStd(data.x, n);
    const r = d.recipe;
    this.#sets = {
      train: GpuCifar.upload(engine, {
        images: data.x.subarray(0, n * 3072),
        labels: data.y.subarray(0, n),
        n,
      }, { stats: this.stats, batchSize: choices.batch, augment: r.augment, mirror: r.mirror }),
      test: GpuCifar.upload(engine, {
        images: data.X.subarray(0, nTest * 3072),
        labels: data.Y.subarray(0, nTest),
        n: nTest,
      }, { stats: this.stats, batchSize: r.testBatch }),
    };
    this.model = module(engine, d.spec, { seed: choices.seed });
    const p = choices.preset;
    this.#header = {
      run: {
        task: "browser page",
        model: d.model,
        parameters: d.params,
        "GFLOP forward / image": Number(d.gflop.toFixed(3)),
        epochs: choices.epochs,
        batch: choices.batch,
        "training images": this.#sets.train.length,
        "test images": nTest,
        seed: choices.seed,
        augment: r.augment,
        mirror: r.mirror,
        "label smoothing": r.smoothing,
        ...(r.name === "wide"
          ? { depth: p.depth, width: p.width, dropout: p.dropout }
          : { width: p.width }),
        checkpoint: this.checkpointName,
        data: data.source,
      },
      adapter: describeGpu(engine.gpu),
      classes: data.s,
    };
  }

  /** Training images per epoch (doubled by mirroring in the ResNet recipe). */
  get trainImages(): number {
    return this.#sets.train.length;
  }

  /** Asks the run to stop before its next batch (a checkpoint is kept at that point). */
  pause(): void {
    this.#stop = true;
  }

  /** The newest checkpoint's bytes (written after every epoch and on a pause), or undefined. */
  checkpoint(): Uint8Array | undefined {
    return this.store.get(this.checkpointName);
  }

  /** Keeps a checkpoint given back to the page, to resume from it with {@linkcode run}. */
  async adopt(bytes: Uint8Array): Promise<void> {
    await this.store.write(this.checkpointName, bytes);
  }

  /**
   * Trains from the start, or from the stored checkpoint when `resume` (a paused run, or a file
   * given back). Resolves when the run ends or pauses.
   */
  async run(resume: boolean): Promise<TrainResult> {
    this.#stop = false;
    const { choices, engine } = this;
    const r = describePreset(choices.preset).recipe;
    // The reductions' variant: measured once where the adapter has subgroups, else the tree.
    this.#view.line(describeReduceTuning(await tuneReduce(engine)));
    return await train(engine, this.model, this.#sets.train, this.#sets.test, {
      epochs: choices.epochs,
      seed: choices.seed,
      smoothing: r.smoothing,
      ...r.sgd,
      checkpointer: moduleCheckpointer(this.model, {
        stats: this.stats,
        settings: this.settings,
        store: this.store,
      }),
      checkpoint: this.checkpointName,
      resume: resume ? this.checkpointName : undefined,
      log: (line) => {
        const m = /^resuming from .*: epoch (\d+)/.exec(line);
        if (m) this.#epochNow = Number(m[1]);
        // The trainer's advice names the command-line flag; on the page the buttons do it.
        this.#view.line(line.replace(/ \(resume with --resume .*\)$/, ""));
      },
      progress: (batch, batches, rate, eta) => {
        this.#view.progress(this.#epochNow, batch, batches, rate, eta);
      },
      interrupted: () => this.#stop,
      onEpoch: (e) => this.#record(e, resume),
    });
  }

  #record(e: EpochResult, resumed: boolean): void {
    if (this.metrics.length === 0) {
      // A header with each start: resumedAt says after which epoch this start continues.
      const header: RunHeader = {
        ...this.#header,
        started: new Date().toISOString(),
        resumedAt: resumed ? e.epoch - 1 : 0,
      };
      this.metrics.push(logLine(header));
    }
    const record: EpochRecord = {
      epoch: e.epoch,
      lr: e.lr,
      loss: e.loss,
      testLoss: e.testLoss,
      accuracy: e.accuracy,
      seconds: e.seconds,
      imagesPerSecond: e.imagesPerSecond,
      confusion: Array.from(e.confusion),
      time: new Date().toISOString(),
    };
    this.metrics.push(logLine(record));
    this.epochs.push(record);
    this.#epochNow = e.epoch + 1;
    this.#view.epoch(record, this.epochs);
  }

  /** Logits of the first `count` test images in evaluation mode (what `deno task eval` computes). */
  async logits(count: number): Promise<number[][]> {
    // (pixel − mean) / std per channel, as `deno task eval` and `predict` standardize.
    const x = new Float32Array(count * 3072);
    for (let i = 0; i < x.length; i++) {
      const c = Math.floor(i / 1024) % 3;
      x[i] = (this.#data.X[i] - this.stats.mean[c]) / this.stats.std[c];
    }
    const { engine, model } = this;
    const out = engine.noGrad(() =>
      engine.scope(() => {
        const t = engine.tensor([count, 3, 32, 32]);
        engine.write(t, x);
        return model.forward(t, { training: false });
      })
    );
    const v = (await engine.read(out)) as Float32Array;
    const k = out.shape[1];
    out.dispose();
    return Array.from({ length: count }, (_, i) => Array.from(v.subarray(i * k, (i + 1) * k)));
  }

  /** Frees the run's GPU memory. */
  dispose(): void {
    this.model.dispose();
    this.#sets.train.dispose();
    this.#sets.test.dispose();
  }
}
