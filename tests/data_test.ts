// CIFAR-10 loader: folders, archives (extraction, hostile members), downloads, validation, real data.
import { assert, assertEquals, assertRejects } from "./assert.ts";
import { realCifarSource } from "./helpers.ts";
import { cifar10, RECORD_BYTES } from "../data/cifar10.ts";
import { ARCHIVE, FILES, FOLDER, MANIFEST } from "../data/archive.ts";
import { readTar } from "../data/tar.ts";
import { meanStd } from "../data/transforms.ts";
import {
  gzip,
  members,
  NAMES,
  R,
  synth,
  type TarMember,
  withEnv,
  withTemp,
  writeFolder,
  writeTar,
} from "./cifar_fixture.ts";

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

Deno.test("cifar10 extracts an archive once into the cache folder or extractTo, reuses it", async () => {
  await withTemp(async (tmp) => {
    const s = synth(R, 3);
    await Deno.mkdir(`${tmp}/archives`);
    const archive = `${tmp}/archives/cifar-10-binary.tar.gz`;
    await Deno.writeFile(archive, await gzip(writeTar(members(s.files))));
    const lines: string[] = [];
    const log = (l: string) => lines.push(l);
    const cache = `${tmp}/cache/resnet-webgpu/${FOLDER}`;
    await withEnv({ XDG_CACHE_HOME: `${tmp}/cache` }, async () => {
      const d = await cifar10({ ...quiet, log, archive });
      assertEquals(d.dir, cache); // not beside the archive, whose folder may be read-only
      assert(d.x.every((v, i) => v === s.x[i]), "images from the archive");
      assertEquals(Array.from(d.Y), Array.from(s.Y));
      assertEquals(lines.length, 1);
      assert(
        lines[0].includes(`extracted ${archive} (`) && lines[0].includes(`to ${cache}`),
        lines[0],
      );
      assertEquals([...Deno.readDirSync(`${tmp}/archives`)].map((e) => e.name), [ARCHIVE]);
      const left = [...Deno.readDirSync(cache)].map((e) => e.name).sort();
      assertEquals(left, [...FILES, MANIFEST].sort()); // no readme.html, no temp files
      await cifar10({ ...quiet, log, dir: archive }); // second load: no extraction
      assertEquals(lines.length, 2);
      assert(lines[1].startsWith(`CIFAR-10: using ${cache}, extracted from ${archive}`), lines[1]);
      // An explicit target; a folder holding only the archive extracts it too.
      const d2 = await cifar10({ ...quiet, log, archive, extractTo: `${tmp}/other` });
      assertEquals([d2.dir, lines.length], [`${tmp}/other/${FOLDER}`, 3]);
      assert(lines[2].includes("extracted"), lines[2]);
      const d3 = await cifar10({ ...quiet, log, dir: `${tmp}/archives` });
      assertEquals([d3.dir, lines.length], [cache, 4]);
      assert(lines[3].includes("using"), lines[3]);
    });
  });
});

Deno.test("cifar10 refuses corrupt and hostile archives without writing outside", async () => {
  await withTemp(async (tmp) => {
    const s = synth(R, 5);
    const tar = writeTar(members(s.files));
    const gz = await gzip(tar);
    const cases: [string, Uint8Array, string][] = [
      ["truncated.tar.gz", gz.slice(0, gz.length >> 1), "unreadable or corrupt"],
      ["garbage.tar.gz", new Uint8Array(5000).fill(7), "does not start with the gzip signature"],
      ["flipped.tar.gz", gz.map((b, i) => (i === 600 ? b ^ 0xff : b)), "unreadable or corrupt"],
      ["nogz.tar.gz", tar, "neither a CIFAR-10 folder nor a .tar.gz archive"],
      ["empty.tar.gz", new Uint8Array(0), "neither a CIFAR-10 folder nor a .tar.gz archive"],
    ];
    const hostile: [string, TarMember, string][] = [
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
      const load = () => cifar10({ ...quiet, dir: `${dir}/${name}`, extractTo: `${tmp}/out` });
      const e = await assertRejects(load, Error, why);
      assert(e.message.includes(`${dir}/${name}`), `${name}: ${e.message}`);
      const left = [...Deno.readDirSync(dir)].map((x) => x.name);
      assertEquals(left, [name], `${name} leaves nothing behind`);
    }
    assert([...Deno.readDirSync(tmp)].every((e) => e.name !== "evil"), "nothing written outside");
    assertEquals([...Deno.readDirSync(`${tmp}/out`)].map((e) => e.name), [], "no litter");
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

const realSource = realCifarSource();

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
