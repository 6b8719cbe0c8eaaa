// A lost device mid-run (device.destroy() in epoch 2) and GPU errors, with the library in-process.
import { assert, assertEquals, assertRejects, assertStringIncludes } from "./assert.ts";
import { realCifarSource } from "./helpers.ts";
import { Engine } from "../engine/engine.ts";
import { DeviceLostError, GpuError } from "../engine/device_errors.ts";
import { cifar10 } from "../data/cifar10.ts";
import { meanStd } from "../data/transforms.ts";
import { GpuCifar } from "../data/gpu_dataset.ts";
import { module } from "../models/module.ts";
import { moduleCheckpointer } from "../models/checkpoint.ts";
import { widenet } from "../models/widenet.ts";
import { type EpochResult, train } from "../engine/train/trainer.ts";

const source = realCifarSource();
const N = 200, TEST = 100, BATCH = 20; // 10 training batches an epoch
const spec = widenet(10, 1, 0, 10);
const opts = { epochs: 2, seed: 3, log: () => {} };
const settings = { run: "device-loss test", epochs: 2 };

/** A fresh engine with the data and a model on it (each run of the test gets its own device). */
async function open(tmp: string, modelSeed: number) {
  const e = await Engine.create();
  const d = await cifar10({ dir: source, extractTo: tmp, log: () => {} });
  const stats = meanStd(d.x, N);
  const trainSet = GpuCifar.upload(e, { images: d.x.subarray(0, N * 3072), labels: d.y, n: N }, {
    stats,
    batchSize: BATCH,
  });
  const testSet = GpuCifar.upload(e, {
    images: d.X.subarray(0, TEST * 3072),
    labels: d.Y,
    n: TEST,
  }, { stats, batchSize: TEST });
  const model = module(e, spec, { seed: modelSeed });
  return { e, trainSet, testSet, model, checkpointer: moduleCheckpointer(model, { settings }) };
}

Deno.test({
  name:
    "device lost in epoch 2: training stops at once with one named error, the checkpoint is intact, --resume finishes the same",
  sanitizeOps: false,
  sanitizeResources: false,
  ignore: !source,
  fn: async () => {
    const tmp = await Deno.makeTempDir();
    const ck = `${tmp}/run.safetensors`;
    try {
      // The uninterrupted run, for what epoch 2 must give.
      const a = await open(tmp, 3);
      const full = await train(a.e, a.model, a.trainSet, a.testSet, opts);
      await a.e.close();

      // Destroyed after 3 batches of epoch 2.
      const b = await open(tmp, 3);
      let epochOneCheckpoint: Uint8Array | null = null;
      let calls = 0, callsAfterLoss = -1;
      const err = await assertRejects(
        () =>
          train(b.e, b.model, b.trainSet, b.testSet, {
            ...opts,
            checkpointer: b.checkpointer,
            checkpoint: ck,
            onEpoch: async () => {
              epochOneCheckpoint = await Deno.readFile(ck);
            },
            interrupted: () => {
              if (epochOneCheckpoint && ++calls === 4) b.e.device.destroy();
              if (calls >= 4) callsAfterLoss++;
              return false;
            },
          }),
        DeviceLostError,
      );
      // At once: at most one more batch was asked for after the loss (the next record throws).
      assert(callsAfterLoss <= 1, `${callsAfterLoss} batches started after the device was lost`);
      assertStringIncludes(err.message, "the GPU device was lost (destroyed)");
      assertStringIncludes(
        err.message,
        `(in epoch 2); the last good checkpoint is kept in ${ck}: resume with --resume ${ck}`,
      );
      await b.e.close(); // closing a lost device neither throws nor hangs
      assert(epochOneCheckpoint !== null, "epoch 1 wrote a checkpoint");
      assertEquals(await Deno.readFile(ck), epochOneCheckpoint, "the checkpoint is untouched");
      assertEquals(
        [...Deno.readDirSync(tmp)].filter((f) => f.name.startsWith("run.")).map((f) => f.name),
        ["run.safetensors"],
        "no temp file left",
      );

      // Resumed on a new device (another init: everything comes from the checkpoint).
      const c = await open(tmp, 99);
      const resumed = await train(c.e, c.model, c.trainSet, c.testSet, {
        ...opts,
        checkpointer: c.checkpointer,
        checkpoint: ck,
        resume: ck,
      });
      await c.e.close();
      const [want] = full.epochs.slice(1) as EpochResult[];
      const [got] = resumed.epochs;
      assertEquals(resumed.epochs.length, 1);
      // The same kernels on the same data from the same state: equal up to summation order
      // of the GPU's loss accumulation (atomics-free, so equal in practice; 1e-6 allows f32 noise).
      assert(Math.abs(got.loss - want.loss) <= 1e-6, `loss ${got.loss} vs ${want.loss}`);
      assertEquals(got.accuracy, want.accuracy);
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "GPU errors become named errors: a validation error names its kernel, out-of-memory its kind",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const e = await Engine.create();
    try {
      // A binding over maxStorageBufferBindingSize: refused by WebGPU when the bind group is made.
      const words = e.gpu.limits.maxStorageBufferBindingSize / 4 + 1024;
      const x = e.tensor([words]), y = e.tensor([words]);
      e.copy(x, y);
      const err = await assertRejects(() => e.sync(), GpuError) as GpuError;
      assertEquals([err.name, err.kind, err.kernel], [
        "GpuValidationError",
        "validation",
        "elementwise.wgsl:copyWords",
      ]);
      assertStringIncludes(
        err.message,
        "GPU validation error in kernel elementwise.wgsl:copyWords:",
      );
      assertStringIncludes(err.message, String(e.gpu.limits.maxStorageBufferBindingSize));
      // Nothing more runs on a failed engine: the next dispatch throws the same error.
      let again: unknown;
      try {
        e.fill(y, 1);
      } catch (caught) {
        again = caught;
      }
      assert(again === err, "the first error is thrown again");
    } finally {
      await e.close();
    }
    // Out of memory cannot be forced on a software adapter (it allocates lazily): the event a
    // driver sends is dispatched by hand to check how it is named.
    const f = await Engine.create();
    try {
      f.device.dispatchEvent(
        new GPUUncapturedErrorEvent("uncapturederror", {
          error: new GPUOutOfMemoryError("Not enough memory left"),
        }),
      );
      f.device.dispatchEvent(
        new GPUUncapturedErrorEvent("uncapturederror", {
          error: new GPUValidationError("BindGroup with 'conv2d.wgsl:forward' label is invalid"),
        }),
      );
      const oom = await assertRejects(() => f.sync(), GpuError);
      assertEquals(oom.name, "GpuOutOfMemoryError");
      assertEquals(
        oom.message,
        "GPU out of memory in kernel conv2d.wgsl:forward: Not enough memory left",
      );
    } finally {
      await f.close();
    }
  },
});

Deno.test({
  name: "out of memory in training: stops at once naming the bytes the steps held and the batch",
  sanitizeOps: false,
  sanitizeResources: false,
  ignore: !source,
  fn: async () => {
    const tmp = await Deno.makeTempDir();
    const a = await open(tmp, 3);
    try {
      let calls = 0;
      const err = await assertRejects(
        () =>
          train(a.e, a.model, a.trainSet, a.testSet, {
            ...opts,
            interrupted: () => {
              // The event a driver sends when an allocation fails (not forcible on lavapipe).
              if (++calls === 3) {
                a.e.device.dispatchEvent(
                  new GPUUncapturedErrorEvent("uncapturederror", {
                    error: new GPUOutOfMemoryError("Not enough memory left"),
                  }),
                );
              }
              assert(calls <= 4, "a batch ran after the error");
              return false;
            },
          }),
        GpuError,
      );
      assertEquals(err.name, "GpuOutOfMemoryError");
      assert(
        /^GPU out of memory: Not enough memory left; the planned steps held [0-9,]+ bytes at batch 20: a smaller batch needs less \(in epoch 1\); no checkpoint was written yet$/
          .test(err.message),
        err.message,
      );
    } finally {
      await a.e.close();
      await Deno.remove(tmp, { recursive: true });
    }
  },
});
