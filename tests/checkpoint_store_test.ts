// The trainer's checkpoints in memory (the browser page's store): what is saved is what resumes,
// byte for byte the format `openCheckpoint` reads, and bad or missing entries are named.
import { assert, assertEquals, assertRejects } from "./assert.ts";
import { gpuTest } from "./helpers.ts";
import { module } from "../models/module.ts";
import { widenet } from "../models/widenet.ts";
import { type DataStats, moduleCheckpointer, openCheckpoint } from "../models/checkpoint.ts";
import { MemoryCheckpoints } from "../models/checkpoint_store.ts";
import { SGD } from "../engine/optim.ts";

gpuTest(
  "MemoryCheckpoints: save, resume into another module, open; errors name the entry",
  async (e) => {
    const spec = widenet(10, 1, 0, 10);
    const store = new MemoryCheckpoints();
    const stats: DataStats = { mean: [0.4, 0.5, 0.6], std: [0.2, 0.25, 0.3] };
    const settings = { recipe: "wide", epochs: 3 };
    const a = module(e, spec, { seed: 1 });
    const optA = new SGD(a.params, { lr: 0.1, momentum: 0.9, weightDecay: 5e-4, nesterov: true });
    // A momentum buffer that is not all zeros, so its round trip is seen.
    const m = Float32Array.from({ length: optA.momentumBuffer.size }, (_, i) => Math.sin(i));
    e.write(optA.momentumBuffer, m);
    const position = { epoch: 1, batch: 4, lossSum: 9.5, steps: 17 };
    await moduleCheckpointer(a, { stats, settings, store }).save("run.safetensors", optA, position);

    const b = module(e, spec, { seed: 2 }); // other weights: all must come from the store
    const optB = new SGD(b.params, { lr: 0.1, momentum: 0.9, weightDecay: 5e-4, nesterov: true });
    const got = await moduleCheckpointer(b, { stats, settings, store }).load(
      "run.safetensors",
      optB,
    );
    assertEquals(got, position);
    assertEquals(optB.steps, 17);
    assertEquals(await e.read(b.params.weights), await e.read(a.params.weights));
    assertEquals(await e.read(b.params.state), await e.read(a.params.state));
    assertEquals(await e.read(optB.momentumBuffer), m);

    // The stored bytes are an ordinary checkpoint file.
    const opened = await openCheckpoint(e, store.get("run.safetensors")!);
    assertEquals(opened.position, position);
    assertEquals(opened.stats, stats);
    assertEquals(opened.settings, settings);
    opened.module.dispose();

    const load = (name: string, s = settings) =>
      moduleCheckpointer(b, { settings: s, store }).load(name, optB);
    await assertRejects(
      () => load("none.safetensors"),
      Error,
      "Cannot resume from none.safetensors: no such checkpoint",
    );
    const bytes = store.get("run.safetensors")!;
    await store.write("cut.safetensors", bytes.subarray(0, 20000));
    await assertRejects(
      () => load("cut.safetensors"),
      RangeError,
      `Cannot resume from cut.safetensors: the file is truncated at byte 20000 of ${bytes.length}`,
    );
    await store.write("text.safetensors", new TextEncoder().encode("hello, not a checkpoint"));
    const e3 = await assertRejects(
      () => load("text.safetensors"),
      TypeError,
      "it is not a checkpoint",
    );
    assert(e3.message.startsWith("Cannot resume from text.safetensors"), e3.message);
    await assertRejects(
      () => load("run.safetensors", { recipe: "res", epochs: 3 }),
      RangeError,
      'recipe="wide" there, "res" here',
    );
    for (const x of [a, b]) x.dispose();
    optA.dispose();
    optB.dispose();
  },
);
