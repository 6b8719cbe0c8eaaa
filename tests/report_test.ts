// The metrics file (run headers, epochs, resumes, errors) and the report page's structure.
import { assert, assertEquals, assertThrows } from "./assert.ts";
import { rng } from "./helpers.ts";
import { parsePage } from "./dom.ts";
import {
  type EpochRecord,
  foldRun,
  logLine,
  parseRunLog,
  type RunHeader,
} from "../tasks/run_log.ts";
import { CURVES, reportPage } from "../tasks/report_page.ts";
import { pagePath } from "../tasks/report.ts";
import { besideCheckpoint, RunRecorder } from "../tasks/run_recorder.ts";

const NAMES = "airplane automobile bird cat deer dog frog horse ship truck".split(" ");

function header(resumedAt: number): RunHeader {
  return {
    run: { task: "train:wide", model: "wrn-10-1", epochs: 9, batch: 50 },
    adapter: "WebGPU: test adapter",
    classes: NAMES,
    started: "2026-12-02T10:00:00.000Z",
    resumedAt,
  };
}

function epoch(e: number, seed: number): EpochRecord {
  const r = rng(seed * 100 + e);
  const confusion = Array.from({ length: 100 }, () => Math.floor(r() * 60));
  return {
    epoch: e,
    lr: 0.08 * r(),
    loss: 2 * r(),
    testLoss: 2 * r(),
    accuracy: 100 * r(),
    seconds: 10 * r(),
    imagesPerSecond: 100 * r(),
    confusion,
  };
}

Deno.test("metrics file: a resume keeps the epochs before it, a new run drops the old ones", () => {
  const a = [1, 2, 3].map((e) => epoch(e, 1));
  const b = [3, 4].map((e) => epoch(e, 2));
  const resumed = foldRun([header(0), ...a, header(2), ...b]);
  assertEquals(resumed.epochs, [a[0], a[1], b[0], b[1]]);
  assertEquals(resumed.header?.resumedAt, 2);
  const fresh = foldRun([header(0), ...a, header(0), epoch(1, 3)]);
  assertEquals(fresh.epochs, [epoch(1, 3)]);
  // Text round trip, with an older epoch line (no confusion, no header) first.
  const { confusion: _c, ...old } = epoch(1, 4);
  const text = [old, ...a].map(logLine).join("");
  assertEquals(parseRunLog(text, "m.jsonl").epochs, a);
  assertEquals(pagePath("runs/res.jsonl"), "runs/res.html");
});

Deno.test("metrics file: bad lines are one-line errors naming the file and the line", () => {
  const good = logLine(header(0)) + logLine(epoch(1, 1));
  const cases: [string, string][] = [
    [good + '{"epoch": 2, "lr"', "line 3 is not JSON (a truncated last line?)"],
    [good + "[1, 2]\n", "line 3 is not a JSON object"],
    [good + '{"step": 1}\n', "line 3 is neither a run header"],
    [good + JSON.stringify({ ...epoch(2, 1), loss: "x" }) + "\n", `line 3 has no number "loss"`],
    [
      good + JSON.stringify({ ...epoch(2, 1), confusion: [1, 2, 3] }) + "\n",
      'line 3 has a "confusion" that is not a square matrix',
    ],
    [logLine(header(0)), "it holds no epoch records"],
    ["", "it holds no epoch records"],
  ];
  for (const [text, message] of cases) {
    const e = assertThrows(() => parseRunLog(text, "runs/x.jsonl"), Error, message);
    assert(e.message.startsWith("Cannot read metrics runs/x.jsonl: "), e.message);
    assert(!e.message.includes("\n"), `one line: ${e.message}`);
  }
});

Deno.test("report page: four curves with one titled dot per epoch, a 100-cell heat map, nothing fetched", () => {
  const epochs = [1, 2, 3, 4, 5, 6, 7].map((e) => epoch(e, 5));
  const html = reportPage({ header: header(0), epochs });
  const document = parsePage(html);
  for (const c of CURVES) {
    const fig = document.querySelector(`figure[data-curve="${c.key}"]`);
    assert(fig, `no figure for ${c.key}`);
    const titles = [...fig.querySelectorAll('g[aria-label="dot"] circle title')].map((t) =>
      t.textContent
    );
    const digits = c.key === "lr" ? 6 : c.key === "accuracy" ? 2 : 4;
    assertEquals(titles, epochs.map((e) => `epoch ${e.epoch}: ${e[c.key].toFixed(digits)}`));
    assertEquals(fig.querySelectorAll('g[aria-label="line"] path').length, 1);
  }
  const heat = document.querySelector("figure.heatmap");
  assert(heat);
  const last = epochs.at(-1)!.confusion!;
  const cells = [...heat.querySelectorAll('g[aria-label="cell"] rect title')].map((t) =>
    t.textContent
  );
  assertEquals(cells, last.map((n, i) => `${NAMES[Math.floor(i / 10)]} → ${NAMES[i % 10]}: ${n}`));
  const counts = [...heat.querySelectorAll('g[aria-label="text"] text')].map((t) => t.textContent);
  assertEquals(counts, last.map(String));
  // Class names on both axes, the settings and the adapter on the page.
  const ticks = [...heat.querySelectorAll('g[aria-label$="tick label"] text')].map((t) =>
    t.textContent
  );
  assertEquals(ticks.sort(), [...NAMES, ...NAMES].sort());
  assert(html.includes("WebGPU: test adapter") && html.includes("wrn-10-1"));
  // Self-contained: no scripts, no external resources.
  assert(!/<script|<link|<img|src=|url\(|@import/i.test(html), "the page references something");
  assert(!/https?:\/\/(?!www\.w3\.org\/)/.test(html), "the page has a non-namespace URL");
});

Deno.test("run recorder: the page is rewritten each epoch; a resumed run continues the same file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const metrics = `${dir}/sub/run.jsonl`, page = `${dir}/sub/run.html`;
    const { resumedAt: _r, ...h } = header(0);
    const first = new RunRecorder(metrics, page, h, { resumed: false });
    const dots = async () =>
      [
        ...parsePage(await Deno.readTextFile(page)).querySelectorAll(
          'figure[data-curve="loss"] g[aria-label="dot"] circle title',
        ),
      ].map((t) => t.textContent);
    const a = [1, 2, 3].map((e) => ({ ...epoch(e, 7), confusion: new Uint32Array(100) }));
    await first.epoch(a[0]);
    assertEquals(await dots(), [`epoch 1: ${a[0].loss.toFixed(4)}`]);
    await first.epoch(a[1]); // then interrupted during epoch 3, resumed from epoch 2's checkpoint
    const again = new RunRecorder(metrics, page, h, { resumed: true });
    const b3 = { ...epoch(3, 8), confusion: new Uint32Array(100).fill(2) };
    await again.epoch(b3);
    assertEquals(
      await dots(),
      [a[0], a[1], b3].map((e) => `epoch ${e.epoch}: ${e.loss.toFixed(4)}`),
    );
    const log = parseRunLog(await Deno.readTextFile(metrics), metrics);
    assertEquals(log.header?.resumedAt, 2);
    assertEquals(log.epochs.at(-1)?.confusion, Array(100).fill(2));
    assertEquals(besideCheckpoint("runs/res.safetensors", ".html"), "runs/res.html");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
