// End to end as a user runs it: a short real training run, its report page rendered in headless
// Chromium (curves and heat map measured from the rendered DOM, a screenshot saved), then eval,
// predict on PNG files and report from the command line, and their errors on bad input.
import { assert, assertEquals } from "./assert.ts";
import { realCifarSource } from "./helpers.ts";
import { parsePage } from "./dom.ts";
import { decode as decodePng, encode as encodePng } from "fast-png";
import { readRunLog } from "../tasks/run_log.ts";
import { CURVES } from "../tasks/report_page.ts";
import { cifar10 } from "../data/cifar10.ts";

const source = realCifarSource();
const ROOT = new URL("..", import.meta.url).pathname;
const EPOCHS = 3;
const TEST = 500;

interface Ran {
  code: number;
  out: string;
  err: string;
}

/** Runs one of the task entry points the way `deno task` does, from the project root. */
async function task(file: string, args: string[]): Promise<Ran> {
  const cmd = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--config", `${ROOT}deno.json`, `${ROOT}tasks/${file}`, ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1", XDG_RUNTIME_DIR: Deno.env.get("XDG_RUNTIME_DIR") ?? "/tmp" },
    stdout: "piped",
    stderr: "piped",
  });
  const r = await cmd.output();
  const dec = new TextDecoder();
  return { code: r.code, out: dec.decode(r.stdout), err: dec.decode(r.stderr) };
}

/** Debian's chromium (or $CHROMIUM); a missing browser fails the test, it never skips it. */
function chromium(): string {
  const candidates = [Deno.env.get("CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"]
    .filter((p): p is string => !!p);
  for (const p of candidates) {
    try {
      if (Deno.statSync(p).isFile) return p;
    } catch { /* the next one */ }
  }
  throw new Error(
    `headless browser test: chromium not found (tried ${candidates.join(", ")}); ` +
      "install it with apt-get install chromium (.ci/run does)",
  );
}

async function browse(args: string[], profile: string): Promise<string> {
  const cmd = new Deno.Command(chromium(), {
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--hide-scrollbars",
      `--user-data-dir=${profile}`,
      ...args,
    ],
    stdout: "piped",
    stderr: "piped",
  });
  const r = await cmd.output();
  const out = new TextDecoder().decode(r.stdout);
  if (r.code !== 0) {
    throw new Error(
      `chromium exited with ${r.code}: ${new TextDecoder().decode(r.stderr).slice(-500)}`,
    );
  }
  return out;
}

/** Runs in the rendered page: positions and contents of the dots and heat-map cells, as JSON. */
const MEASURE = `<script>
const box = (el) => { const r = el.getBoundingClientRect(); return { x: r.x, y: r.y, w: r.width, h: r.height }; };
const inside = (a, b) => a.x >= b.x - 0.5 && a.y >= b.y - 0.5 && a.x + a.w <= b.x + b.w + 0.5 && a.y + a.h <= b.y + b.h + 0.5;
const out = { curves: {}, cells: [], texts: [] };
for (const fig of document.querySelectorAll("figure.curve")) {
  const svg = box(fig.querySelector("svg"));
  out.curves[fig.dataset.curve] = [...fig.querySelectorAll('g[aria-label="dot"] circle')].map((c) => {
    const b = box(c);
    return { ...b, inside: inside(b, svg), title: c.querySelector("title").textContent };
  });
}
const heat = document.querySelector("figure.heatmap");
for (const r of heat.querySelectorAll('g[aria-label="cell"] rect')) {
  out.cells.push({ ...box(r), fill: getComputedStyle(r).fill, title: r.querySelector("title").textContent });
}
for (const t of heat.querySelectorAll('g[aria-label="text"] text')) out.texts.push({ ...box(t), text: t.textContent });
const pre = document.createElement("pre");
pre.id = "measured";
pre.textContent = JSON.stringify(out);
document.body.append(pre);
</script>`;

interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

function luminance(css: string): number {
  const [r, g, b] = (css.match(/[\d.]+/g) ?? []).map(Number);
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

// The GPU work runs in the task subprocesses; this process needs no engine of its own.
Deno.test({
  name:
    "a short real run's report in headless Chromium; eval, predict and report from the command line",
  ignore: !source,
  fn: async () => {
    const bin = chromium(); // fail first, loudly, when the browser is missing
    const tmp = await Deno.makeTempDir({ prefix: "report_test_" });
    try {
      const ckpt = `${tmp}/run.safetensors`;
      const train = await task("train.ts", [
        "wide",
        ...["--depth", "10", "--width", "1", "--dropout", "0", "--epochs", String(EPOCHS)],
        ...["--limit", "400", "--test-limit", String(TEST), "--batch", "40"],
        ...["--data", source!, "--checkpoint", ckpt, "--quiet"],
      ]);
      assertEquals(train.code, 0, `train failed: ${train.err}`);
      const log = await readRunLog(`${tmp}/run.jsonl`);
      assertEquals(log.epochs.map((e) => e.epoch), [1, 2, 3]);
      const last = log.epochs.at(-1)!;
      assertEquals(last.confusion!.reduce((a, b) => a + b, 0), TEST);

      // The report task rebuilds the page the run wrote (up to its time stamp).
      const rebuilt = await task("report.ts", [`${tmp}/run.jsonl`, "--out", `${tmp}/again.html`]);
      assertEquals(rebuilt.code, 0, rebuilt.err);
      const page = await Deno.readTextFile(`${tmp}/run.html`);
      const stamp = (s: string) => s.replace(/written [\d-]+ [\d:]+ UTC/, "written …");
      assertEquals(stamp(await Deno.readTextFile(`${tmp}/again.html`)), stamp(page));

      // Rendered by a real browser: measure what it laid out.
      await Deno.writeTextFile(`${tmp}/measure.html`, page.replace("</body>", `${MEASURE}</body>`));
      const dom = await browse(
        ["--virtual-time-budget=5000", "--dump-dom", `file://${tmp}/measure.html`],
        `${tmp}/profile`,
      );
      const measured = JSON.parse(parsePage(dom).querySelector("#measured")!.textContent!);
      for (const c of CURVES) {
        const dots = measured.curves[c.key] as (Box & { inside: boolean; title: string })[];
        assertEquals(dots.length, EPOCHS, `${c.key}: one point per epoch`);
        const digits = c.key === "lr" ? 6 : c.key === "accuracy" ? 2 : 4;
        assertEquals(
          dots.map((d) => d.title),
          log.epochs.map((e) => `epoch ${e.epoch}: ${e[c.key].toFixed(digits)}`),
        );
        for (const [i, d] of dots.entries()) {
          assert(d.w > 2 && d.inside, `${c.key}: dot ${i + 1} not visible inside its chart`);
          if (i > 0) assert(d.x > dots[i - 1].x + 10, `${c.key}: epochs not left to right`);
        }
        // Higher values are drawn higher up.
        const v = log.epochs.map((e) => e[c.key]);
        for (let i = 1; i < EPOCHS; i++) {
          if (Math.abs(v[i] - v[i - 1]) > 1e-9) {
            assertEquals(
              dots[i].y < dots[i - 1].y,
              v[i] > v[i - 1],
              `${c.key}: dot ${i + 1} height`,
            );
          }
        }
      }
      const cells = measured.cells as (Box & { fill: string; title: string })[];
      const texts = measured.texts as (Box & { text: string })[];
      assertEquals(cells.length, 100);
      assertEquals(texts.length, 100);
      const names = log.header!.classes;
      for (const [i, cell] of cells.entries()) {
        const [y, p] = [Math.floor(i / 10), i % 10];
        const n = last.confusion![i];
        assertEquals(cell.title, `${names[y]} → ${names[p]}: ${n}`);
        assert(cell.w > 10 && cell.h > 10, `cell ${names[y]} → ${names[p]} too small to read`);
        // The count drawn inside this cell is the run's count.
        const drawn = texts.filter((t) =>
          t.x + t.w / 2 > cell.x && t.x + t.w / 2 < cell.x + cell.w &&
          t.y + t.h / 2 > cell.y && t.y + t.h / 2 < cell.y + cell.h
        );
        assertEquals(drawn.map((t) => t.text), [String(n)], `count in ${names[y]} → ${names[p]}`);
        if (p > 0) assert(cell.x > cells[i - 1].x, "predicted classes left to right");
        if (y > 0) assert(cell.y > cells[i - 10].y, "true classes top to bottom");
      }
      // More images, darker cell.
      const byCount = cells.map((c, i) => ({ n: last.confusion![i], l: luminance(c.fill) }))
        .sort((a, b) => a.n - b.n);
      for (let i = 1; i < byCount.length; i++) {
        if (byCount[i].n > byCount[i - 1].n) {
          assert(byCount[i].l <= byCount[i - 1].l + 1e-6, "a larger count drawn lighter");
        }
      }

      // A screenshot, where CI keeps artifacts.
      const dir = Deno.env.get("REPORT_ARTIFACTS") ?? `${ROOT}runs/artifacts`;
      await Deno.mkdir(dir, { recursive: true });
      const shot = `${dir}/report.png`;
      await browse(
        ["--window-size=1200,1400", `--screenshot=${shot}`, `file://${tmp}/run.html`],
        `${tmp}/profile`,
      );
      const png = decodePng(await Deno.readFile(shot));
      assertEquals([png.width, png.height], [1200, 1400]);
      console.log(`report screenshot: ${shot} (${bin})`);

      // eval from the checkpoint alone gives the run's last test figures exactly.
      const ev = await task("eval.ts", [
        ...["--checkpoint", ckpt, "--data", source!, "--test-limit", String(TEST)],
        ...["--json", `${tmp}/eval.json`, "--quiet"],
      ]);
      assertEquals(ev.code, 0, ev.err);
      assert(
        /^test: *\d+\.\d{4} accuracy: *\d+\.\d{2}% \(500 test images, label smoothing 0\.1\)$/m
          .test(ev.out),
        ev.out,
      );
      assert(ev.out.includes("most frequent mistakes") && ev.out.includes("true \\ predicted"));
      const evj = JSON.parse(await Deno.readTextFile(`${tmp}/eval.json`));
      assert(Math.abs(evj.testLoss - last.testLoss) < 1e-5, `${evj.testLoss} vs ${last.testLoss}`);
      assertEquals(evj.accuracy, last.accuracy);
      assertEquals(evj.confusion.flat(), last.confusion);

      // predict on test images saved as PNG: eval's class for each, at most 2 per class.
      const d = await cifar10({ dir: source, extractTo: `${ROOT}data`, log: () => {} });
      const picked: number[] = [];
      for (let i = 0; i < TEST && picked.length < 12; i++) {
        if (picked.filter((j) => evj.predictions[j] === evj.predictions[i]).length < 2) {
          picked.push(i);
        }
      }
      const files: string[] = [];
      for (const i of picked) {
        const rgb = new Uint8Array(3072);
        for (let q = 0; q < 1024; q++) {
          for (let c = 0; c < 3; c++) rgb[q * 3 + c] = d.X[i * 3072 + c * 1024 + q];
        }
        files.push(`${tmp}/test_${i}.png`);
        await Deno.writeFile(
          files.at(-1)!,
          encodePng({ width: 32, height: 32, data: rgb, channels: 3 }),
        );
      }
      const pr = await task("predict.ts", [
        "--checkpoint",
        ckpt,
        "--json",
        `${tmp}/p.json`,
        ...files,
      ]);
      assertEquals(pr.code, 0, pr.err);
      const rows = JSON.parse(await Deno.readTextFile(`${tmp}/p.json`));
      for (const [k, i] of picked.entries()) {
        const p = Object.values(rows[k].probabilities) as number[];
        assertEquals(p.indexOf(Math.max(...p)), evj.predictions[i], `test image ${i}`);
        const line = pr.out.split("\n").find((l) => l.startsWith(`${files[k]} `)) ?? "";
        assertEquals(line.slice(files[k].length).trim().split(" ")[0], names[evj.predictions[i]]);
      }

      // Bad input: one line naming the problem; usage errors exit 2, others 1.
      await Deno.writeTextFile(`${tmp}/notes.png`, "not an image");
      await Deno.writeFile(
        `${tmp}/cut.safetensors`,
        (await Deno.readFile(ckpt)).subarray(0, 20000),
      );
      await Deno.writeTextFile(`${tmp}/bad.jsonl`, '{"epoch": 1}\n');
      const bad: [string, string[], number, string][] = [
        ["eval.ts", [], 2, "error: --checkpoint F is required"],
        [
          "eval.ts",
          ["--checkpoint", ckpt, "--batch", "0"],
          2,
          "error: --batch must be an integer ≥ 1",
        ],
        ["eval.ts", ["--checkpoint", ckpt, "--bogus"], 2, "error: Unknown option '--bogus'"],
        ["eval.ts", ["--checkpoint", `${tmp}/none.safetensors`], 1, "no such file"],
        [
          "eval.ts",
          ["--checkpoint", `${tmp}/cut.safetensors`],
          1,
          "the file is truncated at byte 20000 of ",
        ],
        ["eval.ts", ["--checkpoint", files[0]], 1, "it is not a checkpoint"],
        ["eval.ts", ["--checkpoint", ckpt, "--data", `${tmp}/nowhere`], 1, "Cannot read CIFAR-10"],
        ["eval.ts", ["--checkpoint", ckpt, "--json", tmp], 2, `error: --json ${tmp}: is a folder`],
        [
          "eval.ts",
          ["--checkpoint", ckpt, "--data", source!, "--test-limit", "20000"],
          2,
          "error: --test-limit 20000 is more than the 10,000 test images",
        ],
        ["predict.ts", ["--checkpoint", ckpt], 2, "error: give at least one PNG or JPEG image"],
        [
          "predict.ts",
          ["--checkpoint", ckpt, `${tmp}/none.png`],
          1,
          `${tmp}/none.png: no such file`,
        ],
        ["predict.ts", ["--checkpoint", ckpt, `${tmp}/notes.png`], 1, "not a PNG or JPEG file"],
        ["report.ts", [], 2, "error: give one metrics file, got 0"],
        ["report.ts", [`${tmp}/none.jsonl`], 1, "no such file"],
        ["report.ts", [`${tmp}/run.jsonl`, "--out", tmp], 2, `error: --out ${tmp}: is a folder`],
        ["report.ts", [`${tmp}/bad.jsonl`], 1, 'line 1 has no number "lr"'],
      ];
      for (const [file, args, code, message] of bad) {
        const r = await task(file, args);
        const first = r.err.split("\n")[0];
        assertEquals(r.code, code, `${file} ${args.join(" ")}: ${r.err}`);
        assert(first.includes(message), `${file} ${args.join(" ")}: "${first}"`);
        if (code === 1) assertEquals(r.err.trim().split("\n").length, 1, r.err);
      }
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});
