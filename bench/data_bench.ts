// Data pipeline bench: load (archive, folder), upload, and the GPU batch kernel's images/s.
// Run: XDG_RUNTIME_DIR=/tmp deno run -A bench/data_bench.ts [--quick] [--data PATH]
import { Engine } from "../engine/engine.ts";
import { describeGpu } from "../engine/device.ts";
import { type Cifar10, cifar10, IMAGE_BYTES } from "../data/cifar10.ts";
import { GpuCifar } from "../data/gpu_dataset.ts";
import { meanStd } from "../data/transforms.ts";
import { ARCHIVE, FOLDER, join } from "../data/archive.ts";

/** What {@linkcode benchData} measured (seconds, images per second). */
export interface DataBench {
  source: string;
  loadArchiveS: number | null;
  loadFolderS: number | null;
  meanStdS: number;
  uploadS: number;
  trainImagesPerS: number;
  mirrorImagesPerS: number;
  testImagesPerS: number;
}

/** $CIFAR10_DIR, else ./data's archive or extracted folder (as the tasks look), else null. */
function findSource(): string | null {
  const env = Deno.env.get("CIFAR10_DIR");
  if (env) return env;
  for (const p of [join("data", ARCHIVE), join("data", FOLDER)]) {
    try {
      Deno.statSync(p);
      return p;
    } catch { /* try the next */ }
  }
  return null;
}

/** Random bytes in the CIFAR-10 shapes, for machines without the data. */
function synthetic(): Cifar10 {
  const fill = (n: number, mod: number) => {
    const a = new Uint8Array(n);
    let s = 12345;
    for (let i = 0; i < n; i++) {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      a[i] = (s >>> 16) % mod;
    }
    return a;
  };
  return {
    x: fill(50000 * IMAGE_BYTES, 256),
    y: fill(50000, 10),
    X: fill(10000 * IMAGE_BYTES, 256),
    Y: fill(10000, 10),
    s: "airplane automobile bird cat deer dog frog horse ship truck".split(" "),
    n: 50000,
    nTest: 10000,
    dir: "(synthetic)",
  };
}

async function seconds<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const v = await fn();
  return [v, (performance.now() - t0) / 1000];
}

/** Images per second building `count` batches of `ds` (one epoch unless quick). */
async function throughput(engine: Engine, ds: GpuCifar, count: number): Promise<number> {
  ds.beginEpoch(1, 7);
  engine.scope(() => ds.batch(0)); // compile the pipeline outside the timing
  await engine.sync();
  const n = Math.min(count, ds.batches);
  let images = 0;
  const [, s] = await seconds(async () => {
    for (let i = 0; i < n; i++) images += engine.scope(() => ds.batch(i).size);
    await engine.sync();
  });
  return images / s;
}

/**
 * Measures the data pipeline: seconds to load CIFAR-10 from the archive (extracted to a temp
 * folder) and from the extracted folder, to compute mean/std, to upload train + test, and
 * images/s of the batch kernel (train 125 crop+flip, flip-doubled 125, test 1,000).
 */
export async function benchData(
  engine: Engine,
  options: { quick?: boolean; source?: string | null } = {},
): Promise<DataBench> {
  const source = options.source === undefined ? findSource() : options.source;
  let data: Cifar10;
  let loadArchiveS: number | null = null;
  let loadFolderS: number | null = null;
  const tmp = await Deno.makeTempDir({ prefix: "cifar_bench_" });
  try {
    if (source) {
      const isFile = Deno.statSync(source).isFile;
      const log = () => {};
      if (isFile) {
        [, loadArchiveS] = await seconds(() => cifar10({ dir: source, extractTo: tmp, log }));
      }
      const folder = isFile ? `${tmp}/cifar-10-batches-bin` : source;
      [data, loadFolderS] = await seconds(() => cifar10({ dir: folder, log }));
    } else {
      data = synthetic();
    }
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
  const [stats, meanStdS] = await seconds(() => Promise.resolve(meanStd(data.x, data.n)));
  const [sets, uploadS] = await seconds(async () => {
    const train = GpuCifar.upload(engine, { images: data.x, labels: data.y, n: data.n }, {
      stats,
      batchSize: 125,
      augment: true,
    });
    const test = GpuCifar.upload(engine, { images: data.X, labels: data.Y, n: data.nTest }, {
      stats,
      batchSize: 1000,
    });
    await engine.sync();
    return { train, test };
  });
  const mirror = GpuCifar.upload(engine, { images: data.x, labels: data.y, n: data.n }, {
    stats,
    batchSize: 125,
    mirror: true,
  });
  const quick = options.quick ?? false;
  const trainImagesPerS = await throughput(engine, sets.train, quick ? 40 : Infinity);
  const mirrorImagesPerS = await throughput(engine, mirror, quick ? 40 : Infinity);
  const testImagesPerS = await throughput(engine, sets.test, quick ? 3 : Infinity);
  sets.train.dispose();
  sets.test.dispose();
  mirror.dispose();
  return {
    source: source ?? "(synthetic)",
    loadArchiveS,
    loadFolderS,
    meanStdS,
    uploadS,
    trainImagesPerS,
    mirrorImagesPerS,
    testImagesPerS,
  };
}

if (import.meta.main) {
  const quick = Deno.args.includes("--quick");
  const at = Deno.args.indexOf("--data");
  const engine = await Engine.create();
  console.log(describeGpu(engine.gpu));
  const r = await benchData(engine, { quick, source: at >= 0 ? Deno.args[at + 1] : undefined });
  const f = (v: number | null, d = 2) => (v === null ? "-" : v.toFixed(d));
  console.log(`data: ${r.source}${quick ? " (quick: part of an epoch)" : ""}`);
  console.log(
    `load from archive ${f(r.loadArchiveS)} s, from folder ${f(r.loadFolderS)} s, ` +
      `mean/std ${f(r.meanStdS)} s, upload train+test ${f(r.uploadS)} s`,
  );
  console.log(
    `batch kernel: train 125 crop+flip ${f(r.trainImagesPerS, 0)} images/s, ` +
      `flip-doubled 125 ${f(r.mirrorImagesPerS, 0)} images/s, test 1000 ${
        f(r.testImagesPerS, 0)
      } images/s`,
  );
  await engine.close();
}
