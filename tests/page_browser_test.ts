// The training page end to end in headless Chromium (Dawn's WebGPU), as a user drives it: a
// wrong file, then a small archive cut from the real CIFAR-10 chosen with the file picker, a
// tiny WRN for one short epoch paused and resumed, the DOM checked against the run's metrics,
// the checkpoint and metrics downloaded, the checkpoint's logits in Deno against the page's,
// and the paused checkpoint given back to the page.
// Waits are long: on a loaded 2-core machine SwiftShader compiles the first epoch's kernels for
// minutes (the first batches of a page run crawl; later ones go at full speed).
import { assert, assertEquals } from "./assert.ts";
import { gpuTest, realCifarSource } from "./helpers.ts";
import { realSubsetArchive } from "./cifar_subset.ts";
import { Browser, removeProfileDir } from "./cdp.ts";
import { servePage } from "../tasks/serve.ts";
import { parseRunLog } from "../tasks/run_log.ts";
import { CURVES } from "../tasks/report_charts.ts";
import { openCheckpoint } from "../models/checkpoint.ts";
import { parseTrainFlags, runSettings } from "../tasks/train.ts";
import { vetResume } from "../tasks/checkpoint_guard.ts";
import { decode as decodePng } from "fast-png";

const source = realCifarSource();
const ROOT = new URL("..", import.meta.url).pathname;
const RECORDS = 100; // per batch file of the small archive: 500 training, 100 test images
const LIMIT = 300; // training images: 6 steps of 50
const LOGITS = 20; // test images whose logits are compared

/** Sets the form's fields as a user types them. */
const fill = (fields: Record<string, string>) =>
  `(() => { for (const [id, v] of Object.entries(${JSON.stringify(fields)})) {
    const el = document.getElementById(id); el.value = v; el.dispatchEvent(new Event("change"));
  } })()`;
const text = (id: string) => `document.getElementById(${JSON.stringify(id)}).textContent`;
const STATE = `[document.body.dataset.state, ${text("progress-text")}, ${
  text("message")
}].join(" | ")`;

gpuTest(
  "the training page in headless Chromium: data, a paused and resumed epoch, DOM, downloads",
  async (engine) => {
    const tmp = await Deno.makeTempDir({ prefix: "page_test_" });
    const server = await servePage({ port: 0 }, () => {});
    let browser: Browser | null = null;
    try {
      const { gz, data: d } = await realSubsetArchive(source!, RECORDS);
      await Deno.writeFile(`${tmp}/small.tar.gz`, gz);
      await Deno.writeTextFile(`${tmp}/notes.txt`, "not an archive");
      browser = await Browser.launch(`${server.url}?records=${RECORDS}`, `${tmp}/profile`);
      const b = browser;
      assertEquals(await b.waitFor("document.body?.dataset.state", 120_000, STATE), "ready");
      const adapter = await b.eval<string>(text("adapter"));
      assert(adapter.startsWith("WebGPU: "), adapter);

      // A wrong file: a message on the page that names it and the problem.
      await b.setFile("#file", `${tmp}/notes.txt`);
      const wrong = await b.waitFor<string>(
        `!document.getElementById("message").hidden && ${text("message")}`,
        30_000,
        STATE,
      );
      assertEquals(
        wrong,
        "Cannot read CIFAR-10: notes.txt is neither a CIFAR-10 folder nor a .tar.gz archive " +
          "(it does not start with the gzip signature)",
      );
      assert(await b.eval("document.getElementById('start').disabled"), "no data, no start");

      // The small archive, read in the page.
      await b.setFile("#file", `${tmp}/small.tar.gz`);
      await b.waitFor("document.body.dataset.data === 'ready'", 60_000, STATE);
      const status = await b.eval<string>(text("data-status"));
      assert(status.includes("500 training and 100 test images"), status);
      assert(await b.eval("document.getElementById('message').hidden"), "the message is cleared");

      await b.eval(fill({ preset: "tiny" }));
      assert((await b.eval<string>(text("model-info"))).startsWith("wrn-10-1 "));
      await b.eval(
        fill({ epochs: "1", batch: "50", seed: "3", limit: `${LIMIT}`, "test-limit": "100" }),
      );
      await b.eval("document.getElementById('start').click()");
      // Progress shows while the epoch runs; pause at once, then resume.
      const seen = await b.waitFor<string>(
        `/batch \\d+\\/6 · [\\d.]+ images\\/s/.test(${text("progress-text")}) && ${
          text("progress-text")
        }`,
        600_000,
        STATE,
      );
      assert(/^epoch 1 of 1 · batch \d\/6 · /.test(seen), seen);
      await b.eval("document.getElementById('pause').click()");
      await b.waitFor("document.body.dataset.state === 'paused'", 600_000, STATE);
      const paused = await b.eval<string>(text("log"));
      // Chromium's adapter has subgroups: the page measured both variants of each reduction before training.
      assert(
        /^reductions: sum (tree|subgroups) \(tree [\d.]+ ms, subgroups [\d.]+ ms\); batchNorm (tree|subgroups) \(tree [\d.]+ ms, subgroups [\d.]+ ms\)$/m
          .test(paused),
        paused,
      );
      const stop =
        /interrupted at epoch 1, batch (\d); checkpoint written to wrn-10-1\.safetensors$/m
          .exec(paused);
      assert(stop, paused);
      assert(!(await b.eval("document.getElementById('resume').disabled")), "resume offered");
      // The paused run's checkpoint, given back to the page at the end.
      await Deno.mkdir(`${tmp}/paused`);
      await b.download("#download-checkpoint", `${tmp}/paused`, "wrn-10-1.safetensors");
      // The command line would resume it: the same settings as train:wide with these flags.
      const flags = parseTrainFlags("wide", [
        ...["--depth", "10", "--width", "1", "--dropout", "0", "--epochs", "1", "--batch", "50"],
        ...["--seed", "3", "--limit", `${LIMIT}`, "--test-limit", "100"],
      ]);
      assert(flags !== "help");
      const vetted = await vetResume(
        `${tmp}/paused/wrn-10-1.safetensors`,
        runSettings(flags, LIMIT, 100),
      );
      // The log counts batches from 1, the position from 0.
      assertEquals([vetted.finished, vetted.position.batch], [false, Number(stop[1]) - 1]);
      await b.eval("document.getElementById('resume').click()");
      await b.waitFor("document.body.dataset.state === 'finished'", 900_000, STATE);
      const log = await b.eval<string>(text("log"));
      assert(log.includes(`resuming from wrn-10-1.safetensors: epoch 1, batch ${stop[1]}`), log);

      // The downloads: the metrics file `deno task report` reads, and the checkpoint.
      const metrics = new TextDecoder().decode(
        await b.download("#download-metrics", tmp, "wrn-10-1.jsonl"),
      );
      const run = parseRunLog(metrics, "wrn-10-1.jsonl");
      assertEquals(run.epochs.map((e) => e.epoch), [1]);
      assertEquals([run.header?.resumedAt, run.header?.run.model], [
        0,
        "wrn-10-1 = widenet(10, 1, 0, 10)",
      ]);
      const e1 = run.epochs[0];
      const confusion = e1.confusion!;
      assertEquals(confusion.reduce((a, n) => a + n, 0), 100);
      const ckpt = await b.download("#download-checkpoint", tmp, "wrn-10-1.safetensors");

      // The DOM: the epoch line, the progress, one dot per epoch, the confusion matrix's counts.
      const line = log.split("\n").find((l) => /^ *1\. lr: /.test(l)) ?? "";
      assert(
        new RegExp(
          `^ +1\\. lr: 0\\.080000 loss: ${e1.loss.toFixed(6)} test: ${e1.testLoss.toFixed(4)} ` +
            `accuracy: +${e1.accuracy.toFixed(2)}% \\d\\d:\\d\\d:\\d\\d$`,
        ).test(line),
        `epoch line "${line}" vs ${JSON.stringify(e1)}`,
      );
      assertEquals(await b.eval("document.getElementById('progress').value"), 1);
      assert((await b.eval<string>(text("progress-text"))).startsWith("epoch 1 of 1 done: "));
      const dots = await b.eval<Record<string, string[]>>(`Object.fromEntries([...document
        .querySelectorAll("figure.curve")].map((f) => [f.dataset.curve,
        [...f.querySelectorAll('g[aria-label="dot"] circle')].map((c) => c.textContent)]))`);
      for (const c of CURVES) {
        const digits = c.key === "lr" ? 6 : c.key === "accuracy" ? 2 : 4;
        assertEquals(dots[c.key], [`epoch 1: ${e1[c.key].toFixed(digits)}`], c.key);
      }
      const cells = await b.eval<string[]>(`[...document.querySelectorAll(
        'figure.heatmap g[aria-label="cell"] rect')].map((r) => r.textContent)`);
      const counts = await b.eval<string[]>(`[...document.querySelectorAll(
        'figure.heatmap g[aria-label="text"] text')].map((t) => t.textContent)`);
      const names = run.header!.classes;
      assertEquals(cells.length, 100);
      assertEquals(
        cells,
        confusion.map((n, i) => `${names[Math.floor(i / 10)]} → ${names[i % 10]}: ${n}`),
      );
      assertEquals(counts, confusion.map(String));

      // The checkpoint opens in Deno; its logits match the page's.
      const page = await b.eval<number[][]>(`trainingPage.logits(${LOGITS})`);
      const opened = await openCheckpoint(engine, ckpt);
      assertEquals(opened.position?.epoch, 1);
      assertEquals(opened.settings?.limit, LIMIT);
      const x = new Float32Array(LOGITS * 3072);
      for (let i = 0; i < x.length; i++) {
        const c = Math.floor(i / 1024) % 3;
        x[i] = (d.X[i] - opened.stats!.mean[c]) / opened.stats!.std[c];
      }
      const out = engine.noGrad(() =>
        engine.scope(() => {
          const t = engine.tensor([LOGITS, 3, 32, 32]);
          engine.write(t, x);
          return opened.module.forward(t, { training: false });
        })
      );
      const deno = (await engine.read(out)) as Float32Array;
      out.dispose();
      opened.module.dispose();
      let worst = 0;
      for (let i = 0; i < LOGITS; i++) {
        for (let k = 0; k < 10; k++) {
          worst = Math.max(worst, Math.abs(deno[i * 10 + k] - page[i][k]));
        }
      }
      // Two WebGPU implementations (Dawn/SwiftShader, wgpu/lavapipe) and maybe other kernels
      // for the same f32 forward: sums in another order, nothing more (logits are O(1)).
      assert(worst <= 1e-4, `logits differ by up to ${worst} between the page and Deno`);

      // The screenshot the docs show (a copy where CI keeps artifacts).
      const dir = Deno.env.get("REPORT_ARTIFACTS") ?? `${ROOT}runs/artifacts`;
      await Deno.mkdir(dir, { recursive: true });
      const png = await b.screenshot(1200);
      await Deno.writeFile(`${dir}/page.png`, png);
      assertEquals(decodePng(png).width, 1200);
      console.log(`page screenshot: ${dir}/page.png; logits within ${worst.toExponential(1)}`);
      // The paused checkpoint given back: a new run from it ends where the resumed one did.
      await b.eval("document.body.dataset.state = 'given back'");
      await b.setFile("#resume-file", `${tmp}/paused/wrn-10-1.safetensors`);
      await b.waitFor("document.body.dataset.state === 'finished'", 600_000, STATE);
      const again = parseRunLog(await b.eval<string>("trainingPage.metrics()"), "again");
      assertEquals(again.header?.resumedAt, 0);
      const a1 = again.epochs[0];
      // The same steps from the same state on the same adapter: equal up to the order in which
      // the GPU sums a batch (the trainer's own resume test allows 1e-6 on the loss).
      assert(Math.abs(a1.loss - e1.loss) <= 1e-6, `loss ${a1.loss} after resuming vs ${e1.loss}`);
      // One image near a decision boundary may go the other way: 1% of the 100 test images.
      assert(Math.abs(a1.accuracy - e1.accuracy) <= 1, `accuracy ${a1.accuracy} vs ${e1.accuracy}`);
      const againLog = await b.eval<string>(text("log"));
      assert(againLog.includes(`resuming from wrn-10-1.safetensors: epoch 1, batch ${stop[1]}`));

      // A lost device: a message that says what to do, and nothing left to start.
      await b.eval("trainingPage.loseDevice()");
      await b.waitFor("document.body.dataset.state === 'lost'", 30_000, STATE);
      const lostText = await b.eval<string>(text("message"));
      assert(
        lostText.startsWith("The GPU device was lost (") &&
          lostText.includes("Download the checkpoint first") &&
          lostText.includes("Resume from a checkpoint…"),
        lostText,
      );
      assert(await b.eval("document.getElementById('start').disabled"), "no start after a loss");
    } catch (e) {
      if (browser) (e as Error).message += `\n${browser.diagnostics()}`;
      throw e;
    } finally {
      await browser?.close();
      await server.close();
      await removeProfileDir(tmp);
    }
  },
  { ignore: !source },
);

Deno.test("the training page without a WebGPU adapter says so and what to do", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "page_test_" });
  const server = await servePage({ port: 0 }, () => {});
  // Chromium on Linux without --enable-unsafe-webgpu: navigator.gpu, but no adapter.
  const b = await Browser.launch(server.url, `${tmp}/profile`, false);
  try {
    const state = await b.waitFor<string>(
      "document.body?.dataset.state",
      120_000,
      STATE,
    );
    assert(state === "no-adapter" || state === "no-webgpu", state);
    assertEquals(await b.eval("document.getElementById('message').hidden"), false);
    const message = await b.eval<string>(text("message"));
    assert(
      /^(No WebGPU adapter was found|This browser offers no WebGPU)/.test(message),
      message,
    );
    assert(/Chrome|hardware acceleration/.test(message), `says what to do: ${message}`);
    assert(await b.eval("document.getElementById('start').disabled"), "nothing to start");
  } finally {
    await b.close();
    await server.close();
    await removeProfileDir(tmp);
  }
});

Deno.test({
  name: "the training page fetches the archive `deno task serve --data` offers",
  ignore: !source,
  fn: async () => {
    const tmp = await Deno.makeTempDir({ prefix: "page_test_" });
    const { gz } = await realSubsetArchive(source!, 20);
    await Deno.writeFile(`${tmp}/cifar-10-binary.tar.gz`, gz);
    const server = await servePage({ port: 0, data: `${tmp}/cifar-10-binary.tar.gz` }, () => {});
    const b = await Browser.launch(`${server.url}?records=20`, `${tmp}/profile`);
    try {
      await b.waitFor("document.body?.dataset.data === 'ready'", 120_000, STATE);
      assertEquals(
        (await b.eval<string>(text("data-status"))).replace(/read in [\d.]+ s$/, "read in … s"),
        `CIFAR-10 from cifar-10-binary.tar.gz (from the server) (${
          gz.length.toLocaleString("en-US")
        } ` +
          "bytes): 100 training and 20 test images, read in … s",
      );
      assertEquals(await b.eval(`document.getElementById("limit").value`), "100");
      assert(
        !(await b.eval<boolean>("document.getElementById('start').disabled")),
        "ready to start",
      );
    } catch (e) {
      (e as Error).message += `\n${b.diagnostics()}`;
      throw e;
    } finally {
      await b.close();
      await server.close();
      await removeProfileDir(tmp);
    }
  },
});
