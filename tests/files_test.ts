// Atomic writes and stale-litter removal, with real child processes (one SIGKILLed mid-write).
import { assert, assertEquals, assertRejects } from "./assert.ts";
import { rng } from "./helpers.ts";
import { processAlive, removeStale, tempPath, writeFileAtomic } from "../engine/files.ts";

async function withTemp(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "files_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function names(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).sort();
}

function randomBytes(n: number, seed: number): Uint8Array<ArrayBuffer> {
  const r = rng(seed);
  return Uint8Array.from({ length: n }, () => Math.floor(r() * 256));
}

/** The pid of a process that has exited (and been reaped): a dead writer. */
async function deadPid(): Promise<number> {
  const child = new Deno.Command(Deno.execPath(), { args: ["--version"], stdout: "null" }).spawn();
  await child.status;
  return child.pid;
}

const FILES_URL = new URL("../engine/files.ts", import.meta.url).href;

/** A child deno that writes 3 chunks of `target` through writeFileAtomic, then hangs mid-write. */
function hangingWriter(target: string): Deno.ChildProcess {
  const code = `import { writeFileAtomic } from ${JSON.stringify(FILES_URL)};
    async function* chunks() {
      for (let i = 0; i < 3; i++) yield new Uint8Array(100000).fill(i + 1);
      await new Promise(() => setInterval(() => {}, 1000));
    }
    await writeFileAtomic(${JSON.stringify(target)}, chunks());`;
  return new Deno.Command(Deno.execPath(), {
    args: ["eval", "--quiet", code],
    stdout: "null",
    stderr: "null",
  }).spawn();
}

async function waitForSize(path: string, size: number): Promise<void> {
  for (let i = 0; i < 600; i++) {
    try {
      if ((await Deno.stat(path)).size >= size) return;
    } catch { /* not there yet */ }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${path} never reached ${size} bytes`);
}

Deno.test("writeFileAtomic writes bytes and streams, replaces, leaves no temp file", async () => {
  await withTemp(async (dir) => {
    const path = `${dir}/a.bin`;
    const first = randomBytes(12345, 1);
    await writeFileAtomic(path, first);
    assertEquals(Array.from(await Deno.readFile(path)), Array.from(first));
    const parts = [randomBytes(7, 2), randomBytes(0, 3), randomBytes(70001, 4)];
    async function* stream() {
      for (const p of parts) yield p;
    }
    await writeFileAtomic(path, stream());
    const want = [...parts[0], ...parts[1], ...parts[2]];
    assertEquals(Array.from(await Deno.readFile(path)), want);
    assertEquals(names(dir), ["a.bin"]);
  });
});

Deno.test("writeFileAtomic failures keep the old file, remove the temp file, name the path", async () => {
  await withTemp(async (dir) => {
    const path = `${dir}/keep.bin`;
    const old = randomBytes(999, 5);
    await writeFileAtomic(path, old);
    // A check that refuses (as a checksum mismatch does): the old contents stay.
    const e1 = await assertRejects(
      () =>
        writeFileAtomic(path, randomBytes(50, 6), {
          check: () => {
            throw new Error("MD5 mismatch");
          },
        }),
      Error,
      `Cannot write ${path}: MD5 mismatch`,
    );
    assertEquals((e1.cause as Error).message, "MD5 mismatch");
    // A source that breaks half-way.
    async function* broken() {
      yield randomBytes(4096, 7);
      throw new Error("connection reset");
    }
    await assertRejects(() => writeFileAtomic(path, broken()), Error, "connection reset");
    assertEquals(Array.from(await Deno.readFile(path)), Array.from(old));
    // The path is a folder; the parent is missing; the parent is a regular file.
    await Deno.mkdir(`${dir}/folder`);
    await assertRejects(() => writeFileAtomic(`${dir}/folder`, old), Error, `${dir}/folder:`);
    await assertRejects(() => writeFileAtomic(`${dir}/no/x`, old), Error, `${dir}/no/x:`);
    await assertRejects(() => writeFileAtomic(`${path}/x`, old), Error, `${path}/x:`);
    assertEquals(names(dir), ["folder", "keep.bin"]);
  });
});

Deno.test("removeStale removes dead writers' temp files and staging folders, nothing else", async () => {
  await withTemp(async (dir) => {
    const dead = await deadPid();
    assert(!(await processAlive(dead)), `pid ${dead} is dead`);
    assert(await processAlive(Deno.pid), "this process is alive");
    const stale = [`a.bin.tmp-${dead}`, `b.tmp-${dead}-x7k2`, `c.partial-${dead}-ab12`];
    const kept = [
      `mine.tmp-${Deno.pid}`, // this process's: alive
      `folder.tmp-${dead}`, // a folder, not a temp file
      `file.partial-${dead}`, // a file, not a staging folder
      "notes.tmp-", // no pid
      `x.tmp-${dead}.bak`, // not the pattern
      `z.partial-${Deno.pid}-q`, // this process's staging folder
      "plain.bin",
    ];
    for (const f of [stale[0], stale[1], kept[0], kept[2], kept[3], kept[4], kept[6]]) {
      await Deno.writeTextFile(`${dir}/${f}`, "x");
    }
    for (const d of [stale[2], kept[1], kept[5]]) {
      await Deno.mkdir(`${dir}/${d}/inner`, { recursive: true });
      await Deno.writeTextFile(`${dir}/${d}/inner/f`, "x");
    }
    await Deno.symlink(`${dir}/plain.bin`, `${dir}/link.tmp-${dead}`); // a link: never touched
    kept.push(`link.tmp-${dead}`);
    const removed = await removeStale(dir);
    assertEquals(removed.sort(), stale.map((f) => `${dir}/${f}`).sort());
    assertEquals(names(dir), kept.sort());
    assertEquals(await removeStale(`${dir}/missing`), []);
  });
});

Deno.test({
  name: "a writer killed with SIGKILL mid-write: its temp file is removed at the next start",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    await withTemp(async (dir) => {
      const target = `${dir}/ckpt.bin`;
      await Deno.writeTextFile(target, "old");
      const live = hangingWriter(`${dir}/live.bin`);
      const killed = hangingWriter(target);
      try {
        await waitForSize(`${dir}/live.bin.tmp-${live.pid}`, 300000);
        await waitForSize(`${target}.tmp-${killed.pid}`, 300000);
        killed.kill("SIGKILL");
        assertEquals((await killed.status).signal, "SIGKILL");
        assertEquals(await Deno.readTextFile(target), "old"); // the killed write changed nothing
        for (const method of ["auto", "tools"] as const) { // /proc, and kill -0 as on macOS
          assert(await processAlive(live.pid, method), `${method}: the live writer is alive`);
          assert(!(await processAlive(killed.pid, method)), `${method}: the killed one is dead`);
        }
        const removed = await removeStale(dir);
        assertEquals(removed, [`${target}.tmp-${killed.pid}`]);
        assertEquals(names(dir), ["ckpt.bin", `live.bin.tmp-${live.pid}`]); // live one kept
      } finally {
        for (const child of [live, killed]) {
          try {
            child.kill("SIGKILL");
          } catch { /* already ended */ }
          await child.status;
        }
      }
      // Once that writer is dead too, its file goes.
      assertEquals(await removeStale(dir), [`${dir}/live.bin.tmp-${live.pid}`]);
      assertEquals(tempPath(target), `${target}.tmp-${Deno.pid}`);
    });
  },
});
