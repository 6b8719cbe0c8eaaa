// Data provenance: extractions record their archive; nothing else is silently used instead.
import { assert, assertEquals, assertRejects } from "./assert.ts";
import { cifar10 } from "../data/cifar10.ts";
import { ARCHIVE, FOLDER, MANIFEST, readManifest } from "../data/archive.ts";
import { archiveOf, inDir, R, synth, withEnv, withTemp, writeFolder } from "./cifar_fixture.ts";

function names(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).sort();
}

/** The labels the loaded training set holds (identifies which archive it came from). */
async function labels(dir: string, lines: string[] = []): Promise<number[]> {
  const d = await cifar10({ dir, extractTo: "data", recordsPerFile: R, log: (l) => lines.push(l) });
  return Array.from(d.y);
}

Deno.test("an extraction records its archive; another archive replaces it, a bad one is refused", async () => {
  await withTemp((tmp) =>
    inDir(tmp, async () => {
      const a = await archiveOf(11);
      const b = await archiveOf(12);
      await Deno.mkdir("a");
      await Deno.writeFile(`a/${ARCHIVE}`, a.gz);
      await Deno.writeFile("b.tar.gz", b.gz);
      const lines: string[] = [];
      assertEquals(await labels(`a/${ARCHIVE}`, lines), Array.from(a.s.y));
      const m = await readManifest(`data/${FOLDER}`);
      assertEquals(
        [m?.archive, m?.size, m?.md5],
        [await Deno.realPath(`a/${ARCHIVE}`), a.gz.length, a.md5],
      );
      assertEquals(m?.files["data_batch_1.bin"], R * 3073);
      assert(lines[0].includes(`MD5 ${a.md5}`), lines[0]);
      // Another archive: extracted anew, replacing the old extraction, and said so.
      assertEquals(await labels("b.tar.gz", lines), Array.from(b.s.y));
      assert(lines[1].includes(`replacing its extraction of ${m?.archive}`), lines[1]);
      // The same bytes elsewhere are the same archive: reused, not extracted.
      await Deno.writeFile("b-copy.tar.gz", b.gz);
      assertEquals(await labels("b-copy.tar.gz", lines), Array.from(b.s.y));
      assert(lines[2].startsWith(`CIFAR-10: using data/${FOLDER}, extracted from`), lines[2]);
      // Not archives (a text file, an empty one, a truncated or same-size altered archive):
      // refused, whatever ./data holds; the good extraction stays, and no litter.
      await Deno.writeTextFile("notes.txt", "not CIFAR-10\n");
      await Deno.writeFile("empty.tar.gz", new Uint8Array(0));
      await Deno.writeFile("trunc.tar.gz", b.gz.slice(0, b.gz.length >> 1));
      await Deno.writeFile("altered.tar.gz", b.gz.map((v, i) => i === b.gz.length >> 1 ? ~v : v));
      const refused: [string, string][] = [
        ["notes.txt", "neither a CIFAR-10 folder nor a .tar.gz archive"],
        ["empty.tar.gz", "neither a CIFAR-10 folder nor a .tar.gz archive"],
        ["trunc.tar.gz", "unreadable or corrupt"],
        ["altered.tar.gz", "unreadable or corrupt"],
      ];
      try {
        if (Deno.statSync("/etc/hostname").size > 0) {
          refused.push(["/etc/hostname", "neither a CIFAR-10 folder nor a .tar.gz archive"]);
        }
      } catch { /* no such file here */ }
      for (const [file, why] of refused) {
        const e = await assertRejects(() => labels(file), Error, why);
        assert(e.message.includes(file), e.message);
        assertEquals(names("data"), [FOLDER], `${file}: no litter`);
        assertEquals((await readManifest(`data/${FOLDER}`))?.md5, b.md5, `${file}: data kept`);
      }
      // A damaged extraction (a file cut short) is not reused: it is extracted again.
      const f = `data/${FOLDER}/data_batch_2.bin`;
      await Deno.writeFile(f, (await Deno.readFile(f)).slice(0, 3073));
      assertEquals(await labels("b.tar.gz", lines), Array.from(b.s.y));
      assert(lines.at(-1)!.includes("extracted b.tar.gz"), lines.at(-1));
    })
  );
});

Deno.test("a folder the loader did not write is never replaced; a folder lacking one file is named", async () => {
  await withTemp((tmp) =>
    inDir(tmp, async () => {
      const a = await archiveOf(13);
      await Deno.writeFile("a.tar.gz", a.gz);
      const mine = synth(R, 14);
      await writeFolder(`data/${FOLDER}`, mine.files);
      const e = await assertRejects(
        () => labels("a.tar.gz"),
        Error,
        "not extracted by this loader",
      );
      assert(e.message.includes(`data/${FOLDER}`), e.message);
      assertEquals(await labels(`data/${FOLDER}`), Array.from(mine.y)); // still the user's
      assertEquals(names(`data/${FOLDER}`).includes(MANIFEST), false);
      // A parent folder whose cifar-10-batches-bin/ lacks one file: that file is named.
      await writeFolder(`p/${FOLDER}`, mine.files);
      await Deno.remove(`p/${FOLDER}/data_batch_4.bin`);
      await assertRejects(() => labels("p"), Error, `data_batch_4.bin is missing in p/${FOLDER}`);
      await Deno.mkdir("empty");
      await assertRejects(() => labels("empty"), Error, "empty holds neither the CIFAR-10 files");
      // A folder with an archive and an extraction of another archive: checked, extracted anew.
      const b = await archiveOf(15);
      await Deno.mkdir("q");
      await Deno.writeFile(`q/${ARCHIVE}`, a.gz);
      const lines: string[] = [];
      await cifar10({ dir: "q", extractTo: "q", recordsPerFile: R, log: (l) => lines.push(l) });
      await Deno.writeFile(`q/${ARCHIVE}`, b.gz); // the archive is replaced by another
      const d = await cifar10({ dir: "q", extractTo: "q", recordsPerFile: R, log: () => {} });
      assertEquals([d.dir, Array.from(d.y)], [`q/${FOLDER}`, Array.from(b.s.y)]);
    })
  );
});

Deno.test("extraction removes dead processes' staging folders and temp files first", async () => {
  await withTemp((tmp) =>
    inDir(tmp, async () => {
      const a = await archiveOf(16);
      await Deno.writeFile("a.tar.gz", a.gz);
      const cmd = new Deno.Command(Deno.execPath(), { args: ["--version"], stdout: "null" });
      const dead = cmd.spawn(); // a writer that has ended
      await dead.status;
      const partial = `data/${FOLDER}.partial-${dead.pid}-k3`;
      await Deno.mkdir(partial, { recursive: true });
      await Deno.writeTextFile(`${partial}/data_batch_1.bin`, "half");
      await Deno.writeTextFile(`data/${ARCHIVE}.tmp-${dead.pid}`, "half a download");
      await Deno.writeTextFile(`data/${ARCHIVE}.tmp-${Deno.pid}`, "a live download");
      await withEnv({ CIFAR10_DIR: undefined }, async () => {
        assertEquals(await labels("a.tar.gz"), Array.from(a.s.y));
      });
      assertEquals(names("data"), [FOLDER, `${ARCHIVE}.tmp-${Deno.pid}`].sort());
      // Reusing the extraction (or the default ./data) cleans up too.
      await Deno.writeTextFile(`data/x.tmp-${dead.pid}`, "half");
      await labels("a.tar.gz");
      await Deno.writeTextFile(`data/y.tmp-${dead.pid}`, "half");
      await withEnv({ CIFAR10_DIR: undefined }, async () => {
        await cifar10({ recordsPerFile: R, noDownload: true, log: () => {} });
      });
      assertEquals(names("data"), [FOLDER, `${ARCHIVE}.tmp-${Deno.pid}`].sort());
      // Two extractions of one archive at once into one folder: both get the data, no litter.
      await Deno.remove(`data/${FOLDER}`, { recursive: true });
      const both = await Promise.all([labels("a.tar.gz"), labels("a.tar.gz")]);
      assertEquals(both, [Array.from(a.s.y), Array.from(a.s.y)]);
      assertEquals(names("data"), [FOLDER, `${ARCHIVE}.tmp-${Deno.pid}`].sort());
    })
  );
});
