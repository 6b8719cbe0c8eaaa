// CIFAR-10 data module: loading, validation, archives, CPU transforms, the GPU batch kernel.
import { assert, assertEquals, assertRejects } from "./assert.ts";
import { assertClose, gpuTest, rng } from "./helpers.ts";
import { cifar10, IMAGE_BYTES, RECORD_BYTES } from "../data/cifar10.ts";
import { FILES, FOLDER } from "../data/archive.ts";
import { readTar, writeTar } from "../data/tar.ts";
import { cropFlip, flip, makeBatch, meanStd, zscore } from "../data/transforms.ts";
import { augmentDraw, epochKey, epochOrder } from "../data/random.ts";
import { GpuCifar } from "../data/gpu_dataset.ts";
import {
  batchReference,
  cropFlipReference,
  flipReference,
  meanStdReference,
} from "./reference/augment.ts";

const NAMES = "airplane automobile bird cat deer dog frog horse ship truck".split(" ");
const R = 7; // records per synthetic batch file

interface Synth {
  files: Map<string, Uint8Array>;
  x: Uint8Array;
  y: Uint8Array;
  X: Uint8Array;
  Y: Uint8Array;
}

/** Random batch files of `records` records each, plus the meta file. */
function synth(records: number, seed: number): Synth {
  const r = rng(seed);
  const files = new Map<string, Uint8Array>();
  const x = new Uint8Array(5 * records * IMAGE_BYTES);
  const y = new Uint8Array(5 * records);
  const X = new Uint8Array(records * IMAGE_BYTES);
  const Y = new Uint8Array(records);
  FILES.slice(0, 6).forEach((f, i) => {
    const bytes = new Uint8Array(records * RECORD_BYTES);
    for (let k = 0; k < bytes.length; k++) bytes[k] = Math.floor(r() * 256);
    for (let rec = 0; rec < records; rec++) {
      const label = Math.floor(r() * 10);
      bytes[rec * RECORD_BYTES] = label;
      const img = bytes.subarray(rec * RECORD_BYTES + 1, (rec + 1) * RECORD_BYTES);
      if (i < 5) {
        y[i * records + rec] = label;
        x.set(img, (i * records + rec) * IMAGE_BYTES);
      } else {
        Y[rec] = label;
        X.set(img, rec * IMAGE_BYTES);
      }
    }
    files.set(f, bytes);
  });
  files.set("batches.meta.txt", new TextEncoder().encode(NAMES.join("\n") + "\n\n"));
  return { files, x, y, X, Y };
}

async function writeFolder(dir: string, files: Map<string, Uint8Array>): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  for (const [f, bytes] of files) await Deno.writeFile(`${dir}/${f}`, bytes);
}

async function gzip(bytes: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

function members(files: Map<string, Uint8Array>, extra: Parameters<typeof writeTar>[0] = []) {
  return [
    { name: `${FOLDER}/`, type: "5" },
    ...extra,
    ...[...files].map(([f, data]) => ({ name: `${FOLDER}/${f}`, data })),
    { name: `${FOLDER}/readme.html`, data: new TextEncoder().encode("<html></html>") },
  ];
}

async function withTemp(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "cifar_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const quiet = { log: () => {}, recordsPerFile: R };

Deno.test("cifar10 reads a folder round trip (images, labels, class names, counts)", async () => {
  await withTemp(async (tmp) => {
    const s = synth(R, 1);
    await writeFolder(`${tmp}/${FOLDER}`, s.files);
    for (const dir of [`${tmp}/${FOLDER}`, tmp]) { // the folder, or one holding it
      const d = await cifar10({ ...quiet, dir });
      assertEquals([d.n, d.nTest, d.x.length, d.X.length], [5 * R, R, 5 * R * 3072, R * 3072]);
      assert(d.x.every((v, i) => v === s.x[i]) && d.X.every((v, i) => v === s.X[i]), "images");
      assertEquals([Array.from(d.y), Array.from(d.Y)], [Array.from(s.y), Array.from(s.Y)]);
      assertEquals(d.s, NAMES);
    }
    Deno.env.set("CIFAR10_DIR", `${tmp}/${FOLDER}`);
    try {
      assertEquals((await cifar10(quiet)).dir, `${tmp}/${FOLDER}`);
    } finally {
      Deno.env.delete("CIFAR10_DIR");
    }
  });
});

Deno.test("cifar10 validation errors name the file and the problem", async () => {
  await withTemp(async (tmp) => {
    const dir = `${tmp}/${FOLDER}`;
    const s = synth(R, 2);
    const load = () => cifar10({ ...quiet, dir });
    const reset = () => writeFolder(dir, s.files);
    await reset();
    await Deno.remove(`${dir}/data_batch_3.bin`);
    await Deno.remove(`${dir}/test_batch.bin`);
    const e1 = await assertRejects(load, Error, "data_batch_3.bin, test_batch.bin are missing in");
    assert(e1.message.includes(dir), e1.message);
    await assertRejects(
      () => cifar10({ ...quiet, dir: `${tmp}/nowhere` }),
      Error,
      `${tmp}/nowhere does not exist`,
    );
    await reset();
    await Deno.writeFile(`${dir}/data_batch_2.bin`, s.files.get("data_batch_2.bin")!.slice(0, -5));
    await assertRejects(load, RangeError, "data_batch_2.bin in");
    await assertRejects(load, RangeError, "not a whole number of 3073-byte records");
    await reset();
    await Deno.writeFile(`${dir}/test_batch.bin`, s.files.get("test_batch.bin")!.slice(0, -3073));
    await assertRejects(
      load,
      RangeError,
      "test_batch.bin in " + dir + " holds 6 records, expected 7",
    );
    await reset();
    const bad = s.files.get("data_batch_4.bin")!.slice();
    bad[3 * RECORD_BYTES] = 10;
    await Deno.writeFile(`${dir}/data_batch_4.bin`, bad);
    await assertRejects(load, RangeError, "data_batch_4.bin in " + dir + ": record 3 has label 10");
    await reset();
    await Deno.writeTextFile(`${dir}/batches.meta.txt`, NAMES.slice(0, 9).join("\n"));
    await assertRejects(load, RangeError, "lists 9 class names, expected 10");
  });
});

Deno.test("cifar10 extracts an archive once next to it, atomically, and reuses it", async () => {
  await withTemp(async (tmp) => {
    const s = synth(R, 3);
    const archive = `${tmp}/cifar-10-binary.tar.gz`;
    await Deno.writeFile(archive, await gzip(writeTar(members(s.files))));
    const lines: string[] = [];
    const log = (l: string) => lines.push(l);
    const d = await cifar10({ ...quiet, log, archive });
    assertEquals(d.dir, `${tmp}/${FOLDER}`);
    assert(d.x.every((v, i) => v === s.x[i]), "images from the archive");
    assertEquals(Array.from(d.Y), Array.from(s.Y));
    assertEquals(lines.length, 1);
    assert(lines[0].includes(`extracted ${archive} to ${tmp}/${FOLDER}`), lines[0]);
    const left = [...Deno.readDirSync(`${tmp}/${FOLDER}`)].map((e) => e.name).sort();
    assertEquals(left, [...FILES, ".extracted-from"].sort()); // no readme.html, no temp files
    await cifar10({ ...quiet, log, dir: archive }); // second load: no extraction
    assertEquals(lines.length, 1);
    // An explicit target, and a folder holding only the archive.
    const d2 = await cifar10({ ...quiet, log, dir: tmp, extractTo: `${tmp}/other` });
    assertEquals(d2.dir, `${tmp}/${FOLDER}`); // the folder already holds the extracted set
    const d3 = await cifar10({ ...quiet, log, archive, extractTo: `${tmp}/other` });
    assertEquals([d3.dir, lines.length], [`${tmp}/other/${FOLDER}`, 2]);
  });
});

Deno.test("cifar10 falls back to a cache when the archive's folder is not writable", {
  ignore: Deno.uid() === 0, // root writes anywhere: nothing to test
}, async () => {
  await withTemp(async (tmp) => {
    const s = synth(R, 4);
    await Deno.mkdir(`${tmp}/ro`);
    await Deno.mkdir(`${tmp}/cwd`);
    await Deno.writeFile(`${tmp}/ro/c.tar.gz`, await gzip(writeTar(members(s.files))));
    await Deno.chmod(`${tmp}/ro`, 0o555);
    const cwd = Deno.cwd();
    const lines: string[] = [];
    Deno.chdir(`${tmp}/cwd`);
    try {
      const d = await cifar10({ ...quiet, log: (l) => lines.push(l), dir: `${tmp}/ro/c.tar.gz` });
      assertEquals(d.dir, `data/${FOLDER}`);
      assert(lines[0].includes(`${tmp}/ro is not writable`), lines[0]);
    } finally {
      Deno.chdir(cwd);
      await Deno.chmod(`${tmp}/ro`, 0o755);
    }
  });
});

Deno.test("cifar10 refuses corrupt and hostile archives without writing outside", async () => {
  await withTemp(async (tmp) => {
    const s = synth(R, 5);
    const tar = writeTar(members(s.files));
    const gz = await gzip(tar);
    const cases: [string, Uint8Array, string][] = [
      ["truncated.tar.gz", gz.slice(0, gz.length >> 1), "unreadable or corrupt"],
      ["garbage.tar.gz", new Uint8Array(5000).fill(7), "unreadable or corrupt"],
      ["flipped.tar.gz", gz.map((b, i) => (i === 600 ? b ^ 0xff : b)), "unreadable or corrupt"],
      ["nogz.tar.gz", tar, "unreadable or corrupt"],
    ];
    const hostile: [string, Parameters<typeof writeTar>[0][0], string][] = [
      ["dotdot", { name: `${FOLDER}/../evil`, data: new Uint8Array(3) }, `".." path component`],
      ["dotdot2", { name: `../evil`, data: new Uint8Array(3) }, `".." path component`],
      ["abs", { name: `${tmp}/evil`, data: new Uint8Array(3) }, "has an absolute path"],
      [
        "symlink",
        { name: `${FOLDER}/data_batch_1.bin`, type: "2", linkName: "/etc/passwd" },
        "is a symbolic link",
      ],
      ["hardlink", { name: `${FOLDER}/x`, type: "1", linkName: "/etc/passwd" }, "is a hard link"],
    ];
    for (const [name, member, why] of hostile) {
      cases.push([`${name}.tar.gz`, await gzip(writeTar(members(s.files, [member]))), why]);
    }
    const lacking = new Map(s.files);
    lacking.delete("data_batch_5.bin");
    cases.push(["lacking.tar.gz", await gzip(writeTar(members(lacking))), "lacks"]);
    for (const [name, bytes, why] of cases) {
      const dir = `${tmp}/${name.split(".")[0]}`;
      await Deno.mkdir(dir);
      await Deno.writeFile(`${dir}/${name}`, bytes);
      const e = await assertRejects(() => cifar10({ ...quiet, dir: `${dir}/${name}` }), Error, why);
      assert(e.message.includes(`${dir}/${name}`), `${name}: ${e.message}`);
      const left = [...Deno.readDirSync(dir)].map((x) => x.name);
      assertEquals(left, [name], `${name} leaves nothing behind`);
    }
    assert([...Deno.readDirSync(tmp)].every((e) => e.name !== "evil"), "nothing written outside");
  });
});

Deno.test("readTar applies long names and checks header checksums", async () => {
  const long = "a/".repeat(80) + "f.bin";
  const gnu = writeTar([
    { name: "././@LongLink", type: "L", data: new TextEncoder().encode(long + "\0") },
    { name: "short", data: new Uint8Array([1, 2, 3]) },
  ]);
  const got: string[] = [];
  for await (const m of readTar(new Blob([gnu]).stream())) got.push(`${m.name}:${m.size}`);
  assertEquals(got, [`${long}:3`]);
  const bad = writeTar([{ name: "x", data: new Uint8Array(1) }]);
  bad[10] ^= 1;
  await assertRejects(
    async () => {
      for await (const _ of readTar(new Blob([bad]).stream()));
    },
    SyntaxError,
    "checksum",
  );
});

Deno.test({
  name: "cifar10 downloads a URL with an MD5 check",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await withTemp(async (tmp) => {
      const s = synth(R, 6);
      const gz = await gzip(writeTar(members(s.files)));
      const { createHash } = await import("node:crypto");
      const md5 = createHash("md5").update(gz).digest("hex");
      const server = Deno.serve(
        { port: 0, hostname: "127.0.0.1", onListen: () => {} },
        () => new Response(gz, { headers: { "content-length": String(gz.length) } }),
      );
      try {
        const url = `http://127.0.0.1:${server.addr.port}/cifar-10-binary.tar.gz`;
        await assertRejects(
          () => cifar10({ ...quiet, dir: url, extractTo: `${tmp}/bad` }),
          Error,
          `does not match the expected c32a1d4ab5d03f1284b67883e8d87530`,
        );
        const lines: string[] = [];
        const d = await cifar10({
          ...quiet,
          dir: url,
          md5,
          extractTo: tmp,
          log: (l) => lines.push(l),
        });
        assertEquals([d.dir, Array.from(d.y)], [`${tmp}/${FOLDER}`, Array.from(s.y)]);
        assert(lines.some((l) => l.includes("MD5 verified")), lines.join("\n"));
      } finally {
        await server.shutdown();
      }
    });
  },
});

Deno.test("meanStd, zscore and flip match float64 references", () => {
  const s = synth(R, 7);
  const n = 5 * R;
  const got = meanStd(s.x, n);
  const want = meanStdReference(s.x, n);
  assertClose(got.mean, want.mean, { atol: 1e-9, rtol: 1e-12 }, "mean");
  assertClose(got.std, want.std, { atol: 1e-9, rtol: 1e-12 }, "std");
  const z = zscore(s.x, n, got);
  const zr = Array.from(
    s.x,
    (v, i) => (v - want.mean[Math.floor(i / 1024) % 3]) / want.std[Math.floor(i / 1024) % 3],
  );
  assertClose(z, zr, { atol: 1e-5, rtol: 1e-6 }, "zscore");
  const f = flip(s.x, n);
  for (let i = 0; i < n; i++) {
    const img = s.x.subarray(i * 3072, (i + 1) * 3072);
    assertClose(f.subarray(i * 3072, (i + 1) * 3072), flipReference(img), { atol: 0 }, `flip ${i}`);
  }
  assertEquals(Array.from(flip(f, n)), Array.from(s.x));
});

Deno.test("cropFlip matches pad-then-crop for every crop origin and both flips", () => {
  const img = synth(1, 8).x.subarray(0, 3072);
  for (let cy = 0; cy <= 8; cy++) {
    for (let cx = 0; cx <= 8; cx++) {
      for (const f of [false, true]) {
        const got = cropFlip(img, { cy, cx, flip: f });
        assertClose(got, cropFlipReference(img, cy, cx, f), { atol: 0 }, `crop ${cy},${cx},${f}`);
      }
    }
  }
});

Deno.test("epoch orders are seeded permutations; draws cover every crop and flip", () => {
  const a = epochOrder(1001, 42, 3);
  assertEquals(Array.from(a), Array.from(epochOrder(1001, 42, 3)));
  assertEquals(Array.from(a).sort((p, q) => p - q), Array.from({ length: 1001 }, (_, i) => i));
  assert(a.some((v, i) => v !== epochOrder(1001, 42, 4)[i]), "epochs differ");
  assert(a.some((v, i) => v !== epochOrder(1001, 43, 3)[i]), "seeds differ");
  assert(a.some((v, i) => v !== i), "shuffled");
  assertEquals(Array.from(epochOrder(9, 42, 3, false)), [0, 1, 2, 3, 4, 5, 6, 7, 8]);
  const seen = { cy: new Set<number>(), cx: new Set<number>(), flips: 0 };
  for (let p = 0; p < 2000; p++) {
    const d = augmentDraw(epochKey(1, 0), p);
    seen.cy.add(d.cy);
    seen.cx.add(d.cx);
    seen.flips += d.flip ? 1 : 0;
  }
  assertEquals([seen.cy.size, seen.cx.size], [9, 9]);
  assert(seen.flips > 900 && seen.flips < 1100, `flips ${seen.flips} of 2000`);
});

Deno.test("makeBatch (CPU twin of the kernel) matches the float64 reference", () => {
  const s = synth(R, 9);
  const n = 5 * R;
  const stats = meanStd(s.x, n);
  const order = epochOrder(2 * n, 5, 1);
  const key = epochKey(5, 1);
  const got = makeBatch({ images: s.x, labels: s.y, n }, order, {
    offset: 11,
    size: 13,
    stats,
    augment: true,
    key,
  });
  const want = batchReference(s.x, s.y, n, order, 11, 13, stats, (p) => augmentDraw(key, p));
  assertClose(got.x, want.x, { atol: 1e-5, rtol: 1e-6 }, "x");
  assertEquals(Array.from(got.y), want.y);
});

/** Checks every batch of an epoch against the float64 reference. */
async function checkEpoch(
  ds: GpuCifar,
  s: { images: Uint8Array; labels: Uint8Array; n: number },
  stats: ReturnType<typeof meanStd>,
  key: number,
): Promise<number[]> {
  const sizes: number[] = [];
  for (let i = 0; i < ds.batches; i++) {
    const { x, y, size } = ds.batch(i);
    const want = batchReference(
      s.images,
      s.labels,
      s.n,
      ds.order,
      i * ds.batchSize,
      size,
      stats,
      ds.augment ? (p) => augmentDraw(key, p) : null,
    );
    assertEquals(x.shape, [size, 3, 32, 32]);
    assertClose(await x.read(), want.x, { atol: 2e-5, rtol: 1e-5 }, `batch ${i} x`);
    assertEquals(Array.from(await y.read()), want.y, `batch ${i} y`);
    x.dispose();
    y.dispose();
    sizes.push(size);
  }
  return sizes;
}

gpuTest("GPU batches: crop + flip over two buffer parts, partial last batch", async (e) => {
  const s = synth(R, 10);
  const set = { images: s.x, labels: s.y, n: 5 * R };
  const stats = meanStd(s.x, set.n);
  const ds = GpuCifar.upload(e, set, { stats, batchSize: 8, augment: true, partImages: 20 });
  ds.beginEpoch(2, 77);
  assertEquals(await checkEpoch(ds, set, stats, epochKey(77, 2)), [8, 8, 8, 8, 3]);
  const first = Array.from(ds.order);
  ds.beginEpoch(3, 77);
  assert(first.some((v, i) => v !== ds.order[i]), "a new epoch reshuffles");
  await checkEpoch(ds, set, stats, epochKey(77, 3));
  ds.dispose();
});

gpuTest(
  "GPU batches: flip-doubled set (indices ≥ n mirrored), shuffled and in order",
  async (e) => {
    const s = synth(R, 11);
    const set = { images: s.x, labels: s.y, n: 5 * R };
    const stats = meanStd(s.x, set.n);
    const ds = GpuCifar.upload(e, set, { stats, batchSize: 16, mirror: true, partImages: 30 });
    assertEquals([ds.length, ds.batches], [70, 5]);
    assertEquals(await checkEpoch(ds, set, stats, 0), [16, 16, 16, 16, 6]); // identity order
    ds.beginEpoch(0, 9);
    assert(Array.from(ds.order).some((v) => v >= set.n), "mirrored indices in the order");
    await checkEpoch(ds, set, stats, 0);
    ds.dispose();
    const test = { images: s.X, labels: s.Y, n: R };
    const ts = GpuCifar.upload(e, test, { stats, batchSize: 1000 });
    assertEquals(await checkEpoch(ts, test, stats, 0), [R]);
    ts.dispose();
  },
);

const REAL_ARCHIVES = [
  new URL("../../shared/data/cifar-10-binary.tar.gz", import.meta.url).pathname,
  "/work/shared/data/cifar-10-binary.tar.gz",
];
const realSource = Deno.env.get("CIFAR10_DIR") ??
  REAL_ARCHIVES.find((p) => {
    try {
      return Deno.statSync(p).isFile;
    } catch {
      return false;
    }
  });

Deno.test({
  name: "real CIFAR-10: counts, classes, per-channel mean and std",
  ignore: !realSource,
  fn: async () => {
    await withTemp(async (tmp) => {
      const d = await cifar10({ dir: realSource, extractTo: tmp, log: () => {} });
      assertEquals([d.n, d.nTest, d.x.length, d.X.length], [
        50000,
        10000,
        50000 * 3072,
        10000 * 3072,
      ]);
      assertEquals(d.s, NAMES);
      const count = (labels: Uint8Array) => {
        const c = new Array(10).fill(0);
        for (const l of labels) c[l]++;
        return c;
      };
      assertEquals(count(d.y), new Array(10).fill(5000));
      assertEquals(count(d.Y), new Array(10).fill(1000));
      const { mean, std } = meanStd(d.x, d.n);
      const round = (v: number[]) => v.map((m) => m.toFixed(2));
      assertEquals(round(mean), ["125.27", "122.93", "113.86"]);
      assertEquals(round(std), ["62.53", "61.91", "66.46"]);
    });
  },
});
