// The conv tune cache key: a hash of exactly the sources the conv family compiles from.
import { assert, assertEquals } from "./assert.ts";
import { gpuTest } from "./helpers.ts";
import { autotune, CACHE_FORMAT, kernelVersion } from "../engine/ops/conv2d/tune_cache.ts";
import { CONV2D_ENTRY, conv2dSourceHash, conv2dSources } from "../engine/ops/conv2d/sources.ts";

const ROOT = new URL("../", import.meta.url);
const CONV_TS = new URL("engine/ops/conv2d/", ROOT);
const CONV_WGSL = new URL("kernels/conv2d/", ROOT);

/** Names of the files in a folder with an extension. */
function names(dir: URL, ext: string): string[] {
  return [...Deno.readDirSync(dir)].map((f) => f.name).filter((n) => n.endsWith(ext)).sort();
}

/** engine/ops/conv2d and kernels/conv2d copied into a temporary repository layout. */
async function copyFamily(): Promise<{ root: string; entry: URL }> {
  const root = await Deno.makeTempDir();
  for (const [from, to] of [[CONV_TS, "engine/ops/conv2d"], [CONV_WGSL, "kernels/conv2d"]]) {
    await Deno.mkdir(`${root}/${to}`, { recursive: true });
    for (const n of names(from as URL, "")) {
      await Deno.copyFile(new URL(n, from), `${root}/${to}/${n}`);
    }
  }
  return { root, entry: new URL(`file://${root}/engine/ops/conv2d/mod.ts`) };
}

async function flipByte(path: string): Promise<void> {
  const bytes = await Deno.readFile(path);
  const at = bytes.length >> 1;
  bytes[at] = bytes[at] === 0x20 ? 0x09 : 0x20; // a space ↔ a tab (or a char → space)
  await Deno.writeFile(path, bytes);
}

Deno.test("tune cache key: every WGSL file of the family and its code generators", async () => {
  const found = [...(await conv2dSources()).keys()];
  const wgsl = found.filter((h) => h.endsWith(".wgsl")).map((h) => h.split("/").pop()).sort();
  // Every kernel in kernels/conv2d (util.wgsl included) is reached through the imports.
  assertEquals(wgsl, names(CONV_WGSL, ".wgsl"));
  for (const ts of ["codegen.ts", "winograd_codegen.ts", "winograd_matrices.ts", "dispatch.ts"]) {
    assert(found.includes(new URL(ts, CONV_TS).href), `${ts} is not among the sources`);
  }
  // Only the family: no engine-wide module (engine.ts, grid.ts) and no other kernel.
  assert(
    found.every((h) => h.startsWith(CONV_TS.href) || h.startsWith(CONV_WGSL.href)),
    found.join("\n"),
  );
  assertEquals(await kernelVersion(), await conv2dSourceHash(CACHE_FORMAT, CONV2D_ENTRY));
  assert(await conv2dSourceHash("another format") !== await kernelVersion(), "format");
});

Deno.test("tune cache key: a copy hashes the same, one changed byte does not", async () => {
  for (const file of ["kernels/conv2d/util.wgsl", "engine/ops/conv2d/winograd_codegen.ts"]) {
    const { root, entry } = await copyFamily();
    try {
      assertEquals(await conv2dSourceHash(CACHE_FORMAT, entry), await kernelVersion());
      await flipByte(`${root}/${file}`);
      assert(await conv2dSourceHash(CACHE_FORMAT, entry) !== await kernelVersion(), file);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  }
});

gpuTest("tune cache: a choice measured with other sources is refused as stale", async (e) => {
  const { root, entry } = await copyFamily();
  try {
    const cache = `${root}/tune.json`;
    const shapes = [{ x: [2, 8, 6, 6], w: [8, 8, 3, 3], stride: 1, padding: 1 }];
    const lines: string[] = [];
    const log = (l: string) => lines.push(l);
    const first = await autotune(e, shapes, { cache, log, directions: ["forward"] });
    assertEquals(first.measured + first.cached, 1);
    const same = await autotune(e, shapes, { cache, log, directions: ["forward"], sources: entry });
    assertEquals([same.measured, same.cached], [0, 1], "an identical copy keys the same");
    await flipByte(`${root}/kernels/conv2d/util.wgsl`);
    const stale = await autotune(e, shapes, {
      cache,
      log,
      directions: ["forward"],
      sources: entry,
    });
    assertEquals([stale.measured, stale.cached], [1, 0]);
    assert(lines.some((l) => l.includes("was measured with other kernels")), lines.join("\n"));
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
