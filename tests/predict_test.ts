// Predict agrees with eval: CIFAR-10 test images written as PNG, decoded, standardized on the CPU
// and classified give the eval pass's probabilities and classes; checkpoint errors name the file.
import { assert, assertEquals, assertRejects, assertThrows } from "./assert.ts";
import { assertClose, gpuTest, realCifarSource } from "./helpers.ts";
import { encode as encodePng } from "fast-png";
import { cifar10 } from "../data/cifar10.ts";
import { meanStd } from "../data/transforms.ts";
import { GpuCifar } from "../data/gpu_dataset.ts";
import { decodeImage, toCifarInput } from "../data/image.ts";
import { module } from "../models/module.ts";
import { widenet } from "../models/widenet.ts";
import { encodeCheckpoint, saveCheckpoint } from "../models/checkpoint.ts";
import { decodeSafetensors, encodeSafetensors } from "../models/safetensors.ts";
import { buildTrainedModel, checkModelFitsData, readCheckpoint } from "../tasks/trained_model.ts";
import { classify, evaluate } from "../tasks/inference.ts";
import { runPredict } from "../tasks/predict.ts";

const source = realCifarSource();
const DATA = new URL("../data", import.meta.url).pathname;
const N = 53; // test images compared (odd, not a batch multiple)

/** A CIFAR record's planes as an interleaved RGB PNG, the way a user would save it. */
function cifarPng(planes: Uint8Array): Uint8Array {
  const rgb = new Uint8Array(3072);
  for (let p = 0; p < 1024; p++) {
    for (let c = 0; c < 3; c++) rgb[p * 3 + c] = planes[c * 1024 + p];
  }
  return encodePng({ width: 32, height: 32, data: rgb, channels: 3 });
}

gpuTest(
  "CIFAR-10 test images as PNG files: predict's probabilities and classes equal the eval pass's",
  async (e) => {
    const tmp = await Deno.makeTempDir();
    try {
      const d = await cifar10({ dir: source, extractTo: DATA, log: () => {} });
      const stats = meanStd(d.x, 2000);
      // A randomly initialised WRN-10-1, saved and rebuilt from the file alone.
      const original = module(e, widenet(10, 1, 0, 10), { seed: 11 });
      const path = `${tmp}/random.safetensors`;
      await saveCheckpoint(original, path, { stats });
      original.dispose();
      const info = await readCheckpoint(path);
      assertEquals(info.stats, stats);
      const model = buildTrainedModel(e, info);
      const set = GpuCifar.upload(e, {
        images: d.X.subarray(0, N * 3072),
        labels: d.Y.subarray(0, N),
        n: N,
      }, { stats, batchSize: 1000 });
      const ev = await evaluate(e, model.module, set, { classes: 10, probabilities: true });
      set.dispose();
      const images = new Float32Array(N * 3072);
      for (let i = 0; i < N; i++) {
        const file = `${tmp}/test_${i}.png`;
        await Deno.writeFile(file, cifarPng(d.X.subarray(i * 3072, (i + 1) * 3072)));
        images.set(toCifarInput(decodeImage(await Deno.readFile(file), file)), i * 3072);
      }
      const probs = await classify(e, model.module, images, info.stats!);
      model.module.dispose();
      const argmax = (p: Float64Array) => p.indexOf(Math.max(...p));
      // Same weights, same pixels; only the standardization (GPU kernel vs CPU) and the batch
      // size differ, so the probabilities agree to f32 rounding.
      for (let i = 0; i < N; i++) {
        assertClose(probs[i], ev.probabilities![i], { atol: 1e-5, rtol: 0 }, `image ${i}`);
        assertEquals(argmax(probs[i]), ev.predictions[i], `image ${i}: predict vs eval`);
      }
      assert(new Set(ev.predictions).size > 1, "the random model should not predict one class");
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
  { ignore: !source },
);

gpuTest(
  "checkpoints: missing, truncated, foreign or inconsistent files are one-line errors naming the file",
  async (e) => {
    const tmp = await Deno.makeTempDir();
    try {
      const m = module(e, widenet(10, 1, 0, 10), { seed: 1 });
      const good = await encodeCheckpoint(m, {
        stats: { mean: [125, 123, 114], std: [63, 62, 66] },
      });
      m.dispose();
      const file = decodeSafetensors(good);
      const variant = (meta: Record<string, string>, drop = "") => {
        const tensors = new Map([...file.tensors].filter(([n]) => n !== drop));
        return encodeSafetensors(tensors, { ...file.metadata, ...meta });
      };
      const wide2 = JSON.stringify(widenet(10, 2, 0, 10));
      const cases: [string, Uint8Array | null, string][] = [
        ["missing.safetensors", null, "no such file"],
        [
          "truncated.safetensors",
          good.subarray(0, good.length - 100),
          "the file is truncated at byte",
        ],
        ["image.safetensors", cifarPng(new Uint8Array(3072)), "it is not a checkpoint"],
        [
          "foreign.safetensors",
          encodeSafetensors({ w: { dtype: "F32", shape: [2], data: [1, 2] } }, { format: "pt" }),
          'format "pt" is not one this version reads',
        ],
        [
          "nospec.safetensors",
          encodeSafetensors({ w: { dtype: "F32", shape: [2], data: [1, 2] } }, { what: "x" }),
          'it is not a resnet-webgpu checkpoint (no model spec in its metadata; format "none")',
        ],
        ["old.safetensors", variant({ format: "resnet-webgpu-train/1" }), "an older format"],
        [
          "badspec.safetensors",
          variant({ spec: "{not json" }),
          "its model spec is not a valid spec",
        ],
        [
          "wider.safetensors",
          variant({ spec: wide2 }),
          'tensor "layer1.0.conv1.weight" has shape [16,16,3,3], its model spec needs [32,16,3,3]',
        ],
        ["short.safetensors", variant({}, "fc.bias"), 'tensor "fc.bias" of its wrn-10-1'],
        [
          "stats.safetensors",
          variant({ stats: '{"mean":[1,2],"std":[1,1,1]}' }),
          "its data statistics",
        ],
      ];
      for (const [name, bytes, message] of cases) {
        const path = `${tmp}/${name}`;
        if (bytes) await Deno.writeFile(path, bytes);
        const err = await assertRejects(() => readCheckpoint(path), Error, message);
        assert(err.message.startsWith(`Cannot open checkpoint ${path}: `), err.message);
        assert(!err.message.includes("\n"), `one line: ${err.message}`);
      }
      // A model that does not fit the data says which side has what.
      await Deno.writeFile(`${tmp}/c100.safetensors`, variant({}));
      const info = await readCheckpoint(`${tmp}/c100.safetensors`);
      assertThrows(
        () => checkModelFitsData({ ...info, classes: 100 }, "a b c d e f g h i j".split(" ")),
        RangeError,
        "has 100 outputs, the data has 10 classes",
      );
      // Predict refuses a checkpoint without data statistics (before any image is read).
      const bare = `${tmp}/nostats.safetensors`;
      await Deno.writeFile(bare, encodeSafetensors(file.tensors, { ...file.metadata, stats: "" }));
      await assertRejects(
        () => runPredict({ checkpoint: bare, images: ["x.png"], top: 3, quiet: true }),
        Error,
        `Cannot predict with ${bare}: the checkpoint has no data statistics`,
      );
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
);
