// A short real training run on lavapipe: the loss falls, the test beats chance, resume is exact.
import { assert, assertEquals, assertRejects } from "./assert.ts";
import { gpuTest, realCifarSource } from "./helpers.ts";
import { cifar10 } from "../data/cifar10.ts";
import { meanStd } from "../data/transforms.ts";
import { GpuCifar } from "../data/gpu_dataset.ts";
import { type Module, module } from "../models/module.ts";
import { moduleCheckpointer } from "../models/checkpoint.ts";
import { widenet } from "../models/widenet.ts";
import { type EpochResult, train, TrainingDivergedError } from "../engine/train/trainer.ts";
import type { Engine } from "../engine/engine.ts";

const source = realCifarSource();
const N = 1000; // training images
const EPOCHS = 2;
// Small batches give 80 SGD steps in the time 16 would take at 125; no augmentation, so two
// short epochs learn enough to beat chance clearly (measured here: 24% at epoch 2).
const BATCH = 25;

async function setup(e: Engine, tmp: string) {
  const d = await cifar10({ dir: source, extractTo: tmp, log: () => {} });
  const stats = meanStd(d.x, N);
  const trainSet = GpuCifar.upload(e, {
    images: d.x.subarray(0, N * 3072),
    labels: d.y.subarray(0, N),
    n: N,
  }, {
    stats,
    batchSize: BATCH,
  });
  const testSet = GpuCifar.upload(e, {
    images: d.X.subarray(0, 1000 * 3072),
    labels: d.Y.subarray(0, 1000),
    n: 1000,
  }, {
    stats,
    batchSize: 1000,
  });
  return { trainSet, testSet };
}

gpuTest(
  "real CIFAR-10, WRN-10-1 on 1,000 images for 2 epochs: loss falls, test beats chance, resume is exact",
  async (e) => {
    const tmp = await Deno.makeTempDir();
    try {
      const { trainSet, testSet } = await setup(e, tmp);
      const spec = widenet(10, 1, 0, 10);
      const opts = { epochs: EPOCHS, seed: 3, smoothing: 0.1, log: () => {} };
      const settings = { run: "test", epochs: EPOCHS };
      const saver = (m: Module, s: Record<string, unknown> = settings) =>
        moduleCheckpointer(m, { settings: s });
      // Uninterrupted.
      const a = module(e, spec, { seed: 3 });
      const full = await train(e, a, trainSet, testSet, { ...opts, metrics: `${tmp}/m.jsonl` });
      const [e1, e2] = full.epochs;
      assert(e2.loss < e1.loss, `training loss ${e1.loss} → ${e2.loss} should fall`);
      assert(
        e2.accuracy >= 18,
        `test accuracy ${e2.accuracy}% should beat chance (10% ± 1% on 1,000) clearly`,
      );
      const lines = (await Deno.readTextFile(`${tmp}/m.jsonl`)).trim().split("\n").map((l) =>
        JSON.parse(l)
      );
      assertEquals(lines.map((l) => l.epoch), [1, 2]);
      assertEquals(Object.keys(lines[0]).sort(), [
        "accuracy",
        "epoch",
        "imagesPerSecond",
        "loss",
        "lr",
        "seconds",
        "testLoss",
      ]);
      a.dispose();

      // Interrupted mid-epoch 2 (after 3 of its batches), then resumed from the checkpoint.
      const ckpt = `${tmp}/run.safetensors`;
      const b = module(e, spec, { seed: 3 });
      let batches = 0;
      const stopped = await train(e, b, trainSet, testSet, {
        ...opts,
        checkpointer: saver(b),
        checkpoint: ckpt,
        interrupted: () => ++batches > N / BATCH + 3,
      });
      assert(stopped.interrupted);
      assertEquals(stopped.epochs.map((r: EpochResult) => r.loss), [e1.loss]);
      b.dispose();
      const c = module(e, spec, { seed: 99 }); // different init: everything must come from the checkpoint
      const resumed = await train(e, c, trainSet, testSet, {
        ...opts,
        checkpointer: saver(c),
        checkpoint: ckpt,
        resume: ckpt,
      });
      assertEquals(resumed.epochs.length, 1);
      const r2 = resumed.epochs[0];
      assert(
        Math.abs(r2.loss - e2.loss) <= 1e-6,
        `resumed epoch-2 loss ${r2.loss} vs uninterrupted ${e2.loss}`,
      );
      assert(
        Math.abs(r2.accuracy - e2.accuracy) <= 0.1,
        `resumed accuracy ${r2.accuracy} vs ${e2.accuracy}`,
      );
      await assertRejects(
        () =>
          train(e, c, trainSet, testSet, {
            ...opts,
            checkpointer: saver(c, { run: "other", epochs: EPOCHS }),
            resume: ckpt,
          }),
        Error,
        "written by a run with",
      );

      // A diverging run (absurd learning rate) stops naming epoch and batch; the checkpoint
      // stays the last good one.
      const before = await Deno.readFile(ckpt);
      await assertRejects(
        () =>
          train(e, c, trainSet, testSet, {
            ...opts,
            epochs: 3,
            baseLr: 1e38,
            checkpointer: saver(c),
            checkpoint: ckpt,
            resume: ckpt,
          }),
        TrainingDivergedError,
        "at epoch 3, batch ",
      );
      assertEquals(await Deno.readFile(ckpt), before);
      c.dispose();
      trainSet.dispose();
      testSet.dispose();
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
  { ignore: !source },
);
