// A sweep's report page: every run's curves overlaid (a colour per setting), the table per
// setting and per run. One self-contained HTML file, drawn like the per-run report.
import * as Plot from "@observablehq/plot";
import { CSS, esc, html, newDocument, table } from "./report_page.ts";
import { CURVES, type PlotDocument } from "./report_charts.ts";
import { RUN_HEAD, runCells, SETTING_HEAD, settingCells, type SettingRow } from "./sweep_report.ts";

/** Colours of settings in order (Observable's "observable10"), repeated past ten settings. */
const PALETTE = [
  "#4269d0",
  "#efb118",
  "#ff725c",
  "#6cc5b0",
  "#3ca951",
  "#ff8ab7",
  "#a463f2",
  "#97bbf5",
  "#9c6b4e",
  "#9498a0",
];

interface Point {
  run: string;
  setting: string;
  epoch: number;
  value: number;
}

function overlay(
  doc: PlotDocument,
  points: Point[],
  key: typeof CURVES[number]["key"],
  colours: Map<string, string>,
): string {
  const last = Math.max(2, ...points.map((p) => p.epoch));
  const digits = key === "lr" ? 6 : key === "accuracy" ? 2 : 4;
  const stroke = (p: Point) => colours.get(p.setting)!;
  return html(Plot.plot({
    document: doc,
    width: 540,
    height: 240,
    marginLeft: 56,
    grid: true,
    x: {
      label: "epoch",
      domain: [1, last],
      ticks: last <= 12 ? Array.from({ length: last }, (_, i) => i + 1) : 8,
      tickFormat: "d",
    },
    y: { label: null, nice: true, zero: key === "lr" || key === "accuracy" },
    marks: [
      Plot.line(points, { x: "epoch", y: "value", z: "run", stroke, strokeWidth: 1.5 }),
      Plot.dot(points, {
        x: "epoch",
        y: "value",
        fill: stroke,
        r: 2.5,
        title: (p: Point) => `${p.run}, epoch ${p.epoch}: ${p.value.toFixed(digits)}`,
      }),
    ],
  }));
}

const PAGE_CSS = `${CSS}
.legend { display: flex; flex-wrap: wrap; gap: 14px; margin: 0 0 10px; font-size: 13px; }
.legend i { display: inline-block; width: 14px; height: 4px; margin-right: 6px; vertical-align: middle; }
.runs td:first-child, .summary td:first-child { text-align: left; }
`;

/** The sweep's page: its name, the setting table, the overlaid curves and the run table. */
export function sweepPage(
  name: string,
  rows: SettingRow[],
  options: { written?: Date } = {},
): string {
  const doc = newDocument();
  const colours = new Map(rows.map((s, i) => [s.label, PALETTE[i % PALETTE.length]]));
  const runs = rows.flatMap((s) => s.runs.map((r) => ({ ...r, setting: s.label })));
  const figures = CURVES.map((c) => {
    const points = runs.flatMap((r) =>
      r.log.epochs.map((e) => ({
        run: r.name,
        setting: r.setting,
        epoch: e.epoch,
        value: e[c.key],
      }))
    );
    return `<figure class="curve" data-curve="${c.key}"><figcaption>${esc(c.title)} <small>${
      esc(c.unit)
    }</small></figcaption>${overlay(doc, points, c.key, colours)}</figure>`;
  }).join("");
  const legend = rows.map((s) =>
    `<span><i style="background:${colours.get(s.label)}"></i>${esc(s.label)} (${s.runs.length} run${
      s.runs.length === 1 ? "" : "s"
    })</span>`
  ).join("");
  const done = runs.filter((r) => r.finished).length;
  const written = (options.written ?? new Date()).toISOString().replace("T", " ").slice(0, 19);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sweep ${esc(name)}: ${done} of ${runs.length} runs done</title>
<style>${PAGE_CSS}</style></head>
<body>
<h1>Sweep ${esc(name)} on CIFAR-10</h1>
<p class="sub">${done} of ${runs.length} runs done · ${rows.length} setting${
    rows.length === 1 ? "" : "s"
  } · written ${esc(written)} UTC</p>
${table(SETTING_HEAD, rows.map(settingCells), "summary")}
<h2>Curves <small>(one line a run, a colour a setting)</small></h2>
<div class="legend">${legend}</div>
<div class="curves">${figures}</div>
<h2>Runs</h2>
${table(RUN_HEAD, runs.map(runCells), "runs")}
</body></html>
`;
}
