// The browser build: dist/web/mod.js has mod.ts's exports and no node:/Deno. reference, its
// browser counterparts match the modules they replace and say what a page should do instead,
// and a page in headless Chromium (Dawn) imports it and trains, matching the same steps in Deno.
import { assert, assertEquals, assertRejects } from "./assert.ts";
import { buildWeb, hostReferences, WEB_SWAPS } from "../tasks/build_web.ts";
import { chromiumPath, NO_CHROMIUM, runInChromium } from "../tasks/chromium.ts";

const ROOT = new URL("..", import.meta.url);
const dir = await Deno.makeTempDir({ prefix: "web-build-" });
const out = `${dir}/mod.js`;
let built: Promise<{ out: string; bytes: number }> | null = null;
const build = () => built ??= buildWeb({ out });

Deno.test("build:web: one ES module without node: or Deno., with mod.ts's exports", async () => {
  const { bytes } = await build();
  const code = await Deno.readTextFile(out);
  assertEquals(bytes, new TextEncoder().encode(code).length);
  assertEquals(hostReferences(code), []);
  // The checker finds what it looks for (a checker that matched nothing would pass anything).
  const planted = '// engine/x.ts\nimport { a } from "node:fs";\nconst e = Deno.env.get("A");\n';
  assertEquals(hostReferences(planted).map((h) => `${h.module} ${h.text}`), [
    'engine/x.ts "node:fs"',
    "engine/x.ts Deno.env",
  ]);
  assert(!/^\s*import\s/m.test(code), "the bundle imports nothing: a page loads it as it is");
  const web = Object.keys(await import(out)).sort();
  const deno = Object.keys(await import("../mod.ts")).sort();
  assertEquals(web.filter((k) => !deno.includes(k)), ["NotInBrowserError", "encodeCheckpoint"]);
  assertEquals(deno.filter((k) => !web.includes(k)), []);
});

Deno.test("build:web: each browser counterpart exports what the module it replaces does", async () => {
  assert(Object.keys(WEB_SWAPS).length >= 3);
  for (const [from, to] of Object.entries(WEB_SWAPS)) {
    const a = Object.keys(await import(new URL(from, ROOT).href)).sort();
    const b = Object.keys(await import(new URL(to, ROOT).href)).sort();
    assertEquals(b, a, `${to} against ${from}`);
  }
});

Deno.test("build:web: what needs a file system says so in the browser build", async () => {
  await build();
  const web = await import(out);
  await assertRejects(() => web.cifar10(), web.NotInBrowserError, "not available in a browser");
  await assertRejects(
    () => web.openCheckpoint(null, "runs/res.safetensors"),
    web.NotInBrowserError,
    "pass its bytes",
  );
});

/** One case, run as it is in the page (on /mod.js) and in Deno (on mod.ts): L is the library. */
const TRAIN_LINEAR = `
  const engine = await L.Engine.create();
  let s = 12345;
  const rand = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32) - 0.5;
  const store = new L.ParamStore(engine, [{ name: "w", shape: [10, 37], init: 0.1 }, { name: "b", shape: [10], init: 0 }]);
  engine.write(store.get("w"), Float32Array.from({ length: 370 }, rand));
  const x = engine.upload(Float32Array.from({ length: 13 * 37 }, rand), [13, 37]);
  const y = engine.upload(Uint32Array.from({ length: 13 }, (_, i) => (i * 7) % 10), [13], "u32");
  const opt = new L.SGD(store, { lr: 0.5, momentum: 0.9, nesterov: true, weightDecay: 5e-4 });
  const losses = [];
  for (let i = 0; i < 4; i++) {
    const loss = engine.scope(() => {
      const l = L.softmaxCrossEntropy(L.linear(x, store.get("w"), store.get("b")), y);
      engine.tape.backward(l);
      opt.step();
      return engine.keep(l);
    });
    losses.push((await engine.read(loss))[0]);
  }
  const adapter = L.describeGpu(engine.gpu);
  await engine.close();
  return { losses, adapter };`;

/** The first conv2d (2×3×8×8, 3×3, padding 1, bias) forward and backward, by default. */
const CONV_SMALL = `
  const engine = await L.Engine.create();
  let s = 777;
  const rand = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32) - 0.5;
  const up = (shape) => {
    const t = engine.upload(Float32Array.from({ length: shape.reduce((a, b) => a * b) }, rand), shape);
    t.requiresGrad = true;
    return t;
  };
  const x = up([2, 3, 8, 8]), w = up([4, 3, 3, 3]), b = up([4]), seed = up([2, 4, 8, 8]);
  const y = L.conv2d(x, w, { padding: 1, bias: b });
  engine.tape.backward(y, seed);
  const out = {};
  for (const [k, t] of Object.entries({ y, gx: x.grad, gw: w.grad, gb: b.grad })) {
    out[k] = Array.from(await engine.read(t));
  }
  await engine.close();
  return out;`;

async function inDeno(body: string): Promise<unknown> {
  const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor;
  return await new AsyncFunction("L", body)(await import("../mod.ts"));
}

function pageModule(body: string): string {
  return `import * as L from "/mod.js";\npost(await (async () => {${body}\n})());`;
}

Deno.test({
  name: "build:web: a page in headless Chromium imports the build and trains as Deno does",
  ignore: chromiumPath() === null,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await build();
    const page = await runInChromium<{ losses: number[]; adapter: string }>(
      pageModule(TRAIN_LINEAR),
      { files: { "/mod.js": await Deno.readFile(out) } },
    );
    const deno = await inDeno(TRAIN_LINEAR) as { losses: number[] };
    console.log(`Chromium: ${page.result.adapter}; losses ${page.result.losses.join(", ")}`);
    assertEquals(page.result.losses.length, 4);
    assert(page.result.losses[3] < page.result.losses[0], "the loss falls");
    // Two f32 implementations (Tint/SwiftShader vs Naga/lavapipe) order sums differently; four
    // steps of a 13×37 linear model stay within 1e-4 of each other.
    for (const [i, l] of page.result.losses.entries()) {
      assert(
        Math.abs(l - deno.losses[i]) < 1e-4,
        `step ${i}: Chromium ${l}, Deno ${deno.losses[i]}`,
      );
    }
  },
});

Deno.test({
  name: "build:web: the first conv2d, forward and backward, runs in Chromium as in Deno",
  ignore: chromiumPath() === null,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    // Until Tint's lowering of && in the unrolled gather kernels was avoided, this hung (or
    // killed) Chromium's GPU process on SwiftShader.
    await build();
    const page = await runInChromium<Record<string, number[]>>(pageModule(CONV_SMALL), {
      files: { "/mod.js": await Deno.readFile(out) },
      timeoutMs: 120_000,
    });
    const deno = await inDeno(CONV_SMALL) as Record<string, number[]>;
    for (const k of ["y", "gx", "gw", "gb"]) {
      assertEquals(page.result[k].length, deno[k].length, k);
      // Sums of ≤ 128 products of values in [-0.5, 0.5) in f32, added in another order.
      const worst = Math.max(...page.result[k].map((v, i) => Math.abs(v - deno[k][i])));
      assert(worst < 1e-5, `${k}: Chromium and Deno differ by ${worst}`);
    }
  },
});

if (chromiumPath() === null) console.error(NO_CHROMIUM);
globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
