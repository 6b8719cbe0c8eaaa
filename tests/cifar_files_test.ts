// The file-system-free CIFAR-10 path the browser page uses (cifarFromArchive): the same data and
// the same errors as the Deno loader on the same archives, compared case by case.
import { assert, assertEquals, assertRejects } from "./assert.ts";
import { cifar10, RECORD_BYTES } from "../data/cifar10.ts";
import { cifarFromArchive, FOLDER } from "../data/cifar_files.ts";
import {
  gzip,
  members,
  NAMES,
  R,
  synth,
  type TarMember,
  withTemp,
  writeTar,
} from "./cifar_fixture.ts";

/** The error message of a rejected promise ("" when it resolves). */
async function failure(p: () => Promise<unknown>): Promise<string> {
  try {
    await p();
    return "";
  } catch (e) {
    return (e as Error).message;
  }
}

Deno.test("cifarFromArchive reads an archive's bytes like cifar10 reads the file", async () => {
  await withTemp(async (tmp) => {
    const s = synth(R, 3);
    const gz = await gzip(writeTar(members(s.files)));
    await Deno.writeFile(`${tmp}/c.tar.gz`, gz);
    const disk = await cifar10({
      dir: `${tmp}/c.tar.gz`,
      extractTo: `${tmp}/out`,
      recordsPerFile: R,
      log: () => {},
    });
    const mem = await cifarFromArchive(new Blob([gz]), "c.tar.gz", R);
    assertEquals([mem.n, mem.nTest, mem.s], [5 * R, R, NAMES]);
    for (const k of ["x", "y", "X", "Y"] as const) {
      assertEquals(mem[k].length, disk[k].length, k);
      assert(mem[k].every((v, i) => v === disk[k][i] && v === s[k][i]), `${k} differs`);
    }
  });
});

Deno.test("cifarFromArchive refuses what the Deno loader refuses, with the same message", async () => {
  await withTemp(async (tmp) => {
    const s = synth(R, 4);
    const tar = writeTar(members(s.files));
    const gz = await gzip(tar);
    const edited = (file: string, edit: (b: Uint8Array) => Uint8Array) => {
      const files = new Map(s.files);
      files.set(file, edit(files.get(file)!.slice()));
      return gzip(writeTar(members(files)));
    };
    const lacking = new Map(s.files);
    lacking.delete("data_batch_5.bin");
    const hostile: TarMember[] = [
      { name: `${FOLDER}/../evil`, data: new Uint8Array(3) },
      { name: "/abs/evil", data: new Uint8Array(3) },
      { name: `${FOLDER}/data_batch_1.bin`, type: "2", linkName: "/etc/passwd" },
    ];
    const cases: [string, Uint8Array<ArrayBuffer>, string][] = [
      ["truncated", gz.slice(0, gz.length >> 1), "unreadable or corrupt"],
      ["garbage", new Uint8Array(5000).fill(7), "does not start with the gzip signature"],
      ["flipped", gz.map((b, i) => (i === 600 ? b ^ 0xff : b)), "unreadable or corrupt"],
      ["plain-tar", tar, "neither a CIFAR-10 folder nor a .tar.gz archive"],
      ["empty", new Uint8Array(0), "neither a CIFAR-10 folder nor a .tar.gz archive"],
      ["lacking", await gzip(writeTar(members(lacking))), "it lacks cifar-10-batches-bin/data_"],
      [
        "short",
        await edited("test_batch.bin", (b) => b.slice(0, -RECORD_BYTES)),
        "holds 6 records",
      ],
      ["ragged", await edited("data_batch_2.bin", (b) => b.slice(0, -5)), "not a whole number"],
      [
        "label",
        await edited("data_batch_4.bin", (b) => {
          b[3 * RECORD_BYTES] = 10;
          return b;
        }),
        "record 3 has label 10",
      ],
      [
        "names",
        await edited("batches.meta.txt", () => new TextEncoder().encode("a\nb")),
        "lists 2",
      ],
      ...await Promise.all(
        hostile.map(async (m, i): Promise<[string, Uint8Array<ArrayBuffer>, string]> => [
          `hostile${i}`,
          await gzip(writeTar(members(s.files, [m]))),
          "refusing this archive",
        ]),
      ),
    ];
    for (const [name, bytes, why] of cases) {
      const path = `${tmp}/${name}.tar.gz`;
      await Deno.writeFile(path, bytes);
      const deno = await failure(() =>
        cifar10({ dir: path, extractTo: `${tmp}/out-${name}`, recordsPerFile: R, log: () => {} })
      );
      // The page names the file as the user chose it; the loader its path (and, once extracted,
      // the folder). Past the name the messages are the same.
      const page = await failure(() => cifarFromArchive(new Blob([bytes]), path, R));
      assert(page.includes(why), `${name}: page says "${page}"`);
      assert(deno.includes(why), `${name}: loader says "${deno}"`);
      const tail = (m: string) => m.slice(m.indexOf(why));
      assertEquals(tail(page), tail(deno), name);
    }
    await assertRejects(
      () => cifarFromArchive(new Blob([gz]), "c.tar.gz"),
      RangeError,
      "expected 10000",
    );
  });
});
