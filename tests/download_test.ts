// Downloads against a real HTTP server on 127.0.0.1: good, wrong, dropped, refused; the first run.
import { assert, assertEquals, assertRejects } from "./assert.ts";
import { cifar10 } from "../data/cifar10.ts";
import { ARCHIVE, FOLDER } from "../data/archive.ts";
import { downloadArchive } from "../data/download.ts";
import { archiveOf, inDir, R, withEnv, withTemp } from "./cifar_fixture.ts";

function names(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).sort();
}

/** Serves `good` in 8 chunks at /good/…, other bytes at /wrong/…, half of it then a closed
 * connection at /drop/…, 1000 bytes then silence at /stall/…, and 404 elsewhere. */
function serve(good: Uint8Array<ArrayBuffer>) {
  const chunked = (bytes: Uint8Array<ArrayBuffer>, upTo: number) => {
    const step = Math.ceil(bytes.length / 8);
    let at = 0;
    return new ReadableStream<Uint8Array>({
      pull(c) {
        if (at >= upTo) return c.close();
        c.enqueue(bytes.slice(at, Math.min(at + step, upTo)));
        at += step;
      },
    });
  };
  const wrong = good.map((v) => v ^ 0x5a);
  const length = { "content-length": String(good.length) };
  return Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, (req) => {
    const path = new URL(req.url).pathname;
    if (path.startsWith("/good/")) {
      return new Response(chunked(good, good.length), { headers: length });
    }
    if (path.startsWith("/wrong/")) return new Response(wrong, { headers: length });
    if (path.startsWith("/drop/")) {
      return new Response(chunked(good, good.length >> 1), { headers: length });
    }
    if (path.startsWith("/stall/")) { // one chunk, then silence
      return new Response(
        new ReadableStream({ start: (c) => c.enqueue(good.slice(0, 1000)) }),
        { headers: length },
      );
    }
    return new Response("no such file", { status: 404, statusText: "Not Found" });
  });
}

function closedPort(): number {
  const l = Deno.listen({ port: 0, hostname: "127.0.0.1" });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

Deno.test({
  name:
    "downloads: a good archive, a wrong file, a dropped or stalled connection, 404, refused; retry",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const a = await archiveOf(21);
    const server = serve(a.gz);
    const base = `http://127.0.0.1:${server.addr.port}`;
    try {
      await withTemp(async (tmp) => {
        const lines: string[] = [];
        const get = (path: string) =>
          downloadArchive(`${base}${path}`, {
            dir: `${tmp}/dl`,
            md5: a.md5,
            terminal: false,
            log: (l) => lines.push(l),
          });
        const failures: [string, string][] = [
          [`/wrong/${ARCHIVE}`, `does not match the expected ${a.md5}`],
          [`/drop/${ARCHIVE}`, `of ${a.gz.length} bytes`],
          [`/none/${ARCHIVE}`, "HTTP 404 Not Found"],
        ];
        for (const [path, why] of failures) {
          const e = await assertRejects(() => get(path), Error, why);
          assert(e.message.startsWith(`Cannot download ${base}${path}: `), e.message);
          assert(e.message.endsWith("nothing was kept"), e.message);
          assertEquals(names(`${tmp}/dl`), [], `${path}: nothing half-downloaded kept`);
        }
        const stalled = downloadArchive(`${base}/stall/${ARCHIVE}`, {
          dir: `${tmp}/dl`,
          md5: a.md5,
          idleTimeoutMs: 300,
          log: () => {},
        });
        await assertRejects(() => stalled, Error, "after 1000 of");
        await assertRejects(() => stalled, Error, "no data for 0.3 s");
        assertEquals(names(`${tmp}/dl`), []);
        const port = closedPort();
        await assertRejects(
          () => downloadArchive(`http://127.0.0.1:${port}/${ARCHIVE}`, { dir: `${tmp}/dl` }),
          Error,
          "Connection refused",
        );
        // The retry starts cleanly and succeeds, with plain progress lines (no terminal).
        const path = await get(`/good/${ARCHIVE}`);
        assertEquals(path, `${tmp}/dl/${ARCHIVE}`);
        assertEquals(Array.from(await Deno.readFile(path)), Array.from(a.gz));
        assertEquals(names(`${tmp}/dl`), [ARCHIVE]);
        assert(
          lines.some((l) => /downloading cifar-10-binary.tar.gz: 50% /.test(l)),
          lines.join("\n"),
        );
        assert(lines.at(-1)!.includes("MD5 verified"), lines.at(-1));
        // A verified copy is reused; a different file in its place is refused, not replaced.
        assertEquals(await get(`/good/${ARCHIVE}`), path);
        await Deno.writeTextFile(path, "someone else's file");
        await assertRejects(() => get(`/good/${ARCHIVE}`), Error, "is already there");
        assertEquals(await Deno.readTextFile(path), "someone else's file");
      });
    } finally {
      await server.shutdown();
    }
  },
});

Deno.test({
  name: "the first run finds its data: $CIFAR10_DIR, ./data, else a download; --no-download",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const a = await archiveOf(22);
    const server = serve(a.gz);
    const url = `http://127.0.0.1:${server.addr.port}/good/${ARCHIVE}`;
    try {
      await withTemp((tmp) =>
        withEnv({ CIFAR10_DIR: undefined, XDG_CACHE_HOME: `${tmp}/cache` }, async () => {
          await Deno.mkdir(`${tmp}/run`);
          await inDir(`${tmp}/run`, async () => {
            const lines: string[] = [];
            const opts = { url, md5: a.md5, recordsPerFile: R, log: (l: string) => lines.push(l) };
            // Offline: the error names the URL and the flags, and nothing is created.
            const e = await assertRejects(
              () => cifar10({ ...opts, noDownload: true }),
              Error,
              "downloading is off (--no-download)",
            );
            for (const part of [url, "--data", "CIFAR10_DIR"]) assert(e.message.includes(part));
            const e1 = cifar10({ ...opts, dir: url, noDownload: true });
            await assertRejects(() => e1, Error, `Cannot download ${url}: downloading is off`);
            assertEquals(names("."), []);
            // A failed download keeps its cause and says how to use a local copy.
            const bad = { ...opts, url: url.replace("/good/", "/drop/") };
            const e2 = await assertRejects(() => cifar10(bad), Error, "Cannot download");
            assert(e2.message.includes("--data PATH"), e2.message);
            assertEquals(names("."), [], "not even an empty ./data is left");
            // Online: downloaded into ./data, checked, extracted, read; then found there.
            const d = await cifar10(opts);
            assertEquals([d.dir, Array.from(d.y)], [`data/${FOLDER}`, Array.from(a.s.y)]);
            assertEquals(names("data"), [FOLDER, ARCHIVE]);
            assert(lines.some((l) => l.startsWith(`CIFAR-10: downloaded ${url} to data/`)));
            assert(lines.at(-1)!.startsWith(`CIFAR-10: extracted data/${ARCHIVE}`), lines.at(-1));
            const n = lines.length;
            assertEquals((await cifar10({ ...opts, noDownload: true })).dir, `data/${FOLDER}`);
            assertEquals(lines.length, n + 1);
            assert(lines[n].startsWith(`CIFAR-10: using data/${FOLDER}, extracted from`), lines[n]);
            // $CIFAR10_DIR wins over ./data.
            await withEnv({ CIFAR10_DIR: `${tmp}/nowhere` }, async () => {
              await assertRejects(() => cifar10(opts), Error, `${tmp}/nowhere does not exist`);
            });
          });
          // ./data not writable (a regular file here): the download goes to the cache folder.
          await Deno.mkdir(`${tmp}/ro`);
          await inDir(`${tmp}/ro`, async () => {
            await Deno.writeTextFile("data", "a file, not a folder");
            const d = await cifar10({ url, md5: a.md5, recordsPerFile: R, log: () => {} });
            assertEquals(d.dir, `${tmp}/cache/resnet-webgpu/${FOLDER}`);
            assertEquals(names(`${tmp}/cache/resnet-webgpu`), [FOLDER, ARCHIVE]);
          });
        })
      );
    } finally {
      await server.shutdown();
    }
  },
});
