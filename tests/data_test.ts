// CIFAR-10 loader: folders, archives (extraction, hostile members), downloads, validation, real data.
import { assert, assertEquals, assertRejects } from "./assert.ts";
import { realCifarSource } from "./helpers.ts";
import { cifar10, RECORD_BYTES } from "../data/cifar10.ts";
import { FILES, FOLDER } from "../data/archive.ts";
import { readTar } from "../data/tar.ts";
import { meanStd } from "../data/transforms.ts";
import {
  gzip,
  members,
  NAMES,
  R,
  synth,
  type TarMember,
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
