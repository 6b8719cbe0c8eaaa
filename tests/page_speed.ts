// Training speed of the browser page beside Deno's, same model, data and settings, one after the
// other in one process: `deno run -A tests/page_speed.ts [--preset tiny|small] [--images N]
// [--epochs E]`. Prints each epoch's training images/s; the last epoch is the one to compare
// (the first pays for compiling the kernels). Not a test: numbers, no assertions.
import { parseArgs } from "node:util";
import { Engine } from "../engine/engine.ts";
import { describeGpu } from "../engine/device.ts";
import { train } from "../engine/train/trainer.ts";
import { GpuCifar } from "../data/gpu_dataset.ts";
import { meanStd } from "../data/transforms.ts";
import { module } from "../models/module.ts";
import { servePage } from "../tasks/serve.ts";
import { parseRunLog } from "../tasks/run_log.ts";
import { describePreset, preset } from "../page/presets.ts";
import { realCifarSource } from "./helpers.ts";
import { realSubsetArchive } from "./cifar_subset.ts";
import { Browser, removeProfileDir } from "./cdp.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    preset: { type: "string", default: "tiny" },
    images: { type: "string", default: "1000" },
    epochs: { type: "string", default: "2" },
    batch: { type: "string", default: "50" },
  },
});
const p = preset(values.preset!);
const n = Number(values.images), epochs = Number(values.epochs), batch = Number(values.batch);
const nTest = 200;
const source = realCifarSource();
if (!source) throw new Error("page_speed: no CIFAR-10 found (give --data or set CIFAR10_DIR)");
const records = Math.max(nTest, Math.ceil(n / 5));
const { gz, data: d } = await realSubsetArchive(source, records);
const d0 = describePreset(p);
const load = () => Deno.loadavg().map((x) => x.toFixed(1)).join(" ");
console.log(
  `${d0.model}, ${n} training images (${d0.recipe.name} recipe), ${nTest} test, batch ${batch}, ` +
    `${epochs} epochs; load average ${load()}`,
);

// Deno: the trainer as train:* runs it (planned steps), default kernel choices as in the page.
{
  const engine = await Engine.create();
  const r = d0.recipe;
  const stats = meanStd(d.x, n);
  const trainSet = GpuCifar.upload(engine, {
    images: d.x.subarray(0, n * 3072),
    labels: d.y.subarray(0, n),
    n,
  }, { stats, batchSize: batch, augment: r.augment, mirror: r.mirror });
  const testSet = GpuCifar.upload(engine, {
    images: d.X.subarray(0, nTest * 3072),
    labels: d.Y.subarray(0, nTest),
    n: nTest,
  }, { stats, batchSize: r.testBatch });
  const model = module(engine, d0.spec, { seed: 0 });
  const res = await train(engine, model, trainSet, testSet, {
    epochs,
    seed: 0,
    smoothing: r.smoothing,
    ...r.sgd,
    log: () => {},
  });
  console.log(
    `Deno (${describeGpu(engine.gpu)}): ${
      res.epochs.map((e) => `epoch ${e.epoch} ${e.imagesPerSecond.toFixed(1)} images/s`).join(", ")
    }; load average ${load()}`,
  );
  model.dispose();
  await engine.close();
}

// The page in headless Chromium (Dawn), the same settings.
const tmp = await Deno.makeTempDir({ prefix: "page_speed_" });
await Deno.writeFile(`${tmp}/data.tar.gz`, gz);
const server = await servePage({ port: 0, data: `${tmp}/data.tar.gz` }, () => {});
const b = await Browser.launch(`${server.url}?records=${records}`, `${tmp}/profile`);
try {
  await b.waitFor("document.body?.dataset.data === 'ready'", 300_000);
  // The preset first: choosing it sets its own epochs and batch, which the next fields replace.
  const fields = {
    preset: p.id,
    epochs: `${epochs}`,
    batch: `${batch}`,
    seed: "0",
    limit: `${n}`,
    "test-limit": `${nTest}`,
  };
  await b.eval(`(() => { for (const [id, v] of Object.entries(${JSON.stringify(fields)})) {
    const el = document.getElementById(id); el.value = v; el.dispatchEvent(new Event("change"));
  } document.getElementById("start").click(); })()`);
  await b.waitFor("document.body.dataset.state === 'finished'", 3_600_000);
  const run = parseRunLog(await b.eval<string>("trainingPage.metrics()"), "page");
  const adapter = await b.eval<string>("document.getElementById('adapter').textContent");
  console.log(
    `Chromium (${adapter}): ${
      run.epochs.map((e) => `epoch ${e.epoch} ${e.imagesPerSecond.toFixed(1)} images/s`).join(", ")
    }; load average ${load()}`,
  );
} finally {
  await b.close();
  await server.close();
  await removeProfileDir(tmp);
}
