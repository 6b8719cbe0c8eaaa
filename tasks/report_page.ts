// The training report: one self-contained HTML page (inline SVG and CSS) from a run's metrics.
//
// Charts are drawn by Observable Plot into linkedom's small DOM (no browser, no canvas); the
// page fetches nothing and runs no script.
import { parseHTML } from "linkedom";
import type { RunLog } from "./run_log.ts";
import { confusionHeatmap, curveChart, CURVES, type PlotDocument } from "./report_charts.ts";

export { CURVES };

/** Text escaped for HTML. */
export function esc(s: unknown): string {
  return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** An empty linkedom document for Plot to draw into. */
export function newDocument(): PlotDocument {
  const window = parseHTML("<!doctype html><html><body></body></html>") as unknown;
  return (window as { document: PlotDocument }).document;
}

/** The markup of a node Plot drew. */
export function html(node: unknown): string {
  return (node as { outerHTML: string }).outerHTML;
}

/** An HTML table of escaped cells. */
export function table(head: string[], rows: (string | number)[][], cls = ""): string {
  const th = head.map((h) => `<th>${esc(h)}</th>`).join("");
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join("")}</tr>`);
  return `<table class="${cls}"><thead><tr>${th}</tr></thead><tbody>${
    body.join("")
  }</tbody></table>`;
}

/** The report pages' style sheet. */
export const CSS = `
:root { color-scheme: light; font-family: system-ui, sans-serif; color: #111827; }
body { margin: 24px auto; max-width: 1180px; padding: 0 16px; background: #f8fafc; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 16px; margin: 28px 0 8px; }
.sub { color: #4b5563; margin: 0 0 16px; }
.tiles { display: flex; flex-wrap: wrap; gap: 10px; }
.tile { background: white; border: 1px solid #e5e7eb; border-radius: 8px; padding: 8px 14px; }
.tile b { display: block; font-size: 20px; } .tile span { color: #4b5563; font-size: 12px; }
.curves { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 12px; }
figure { margin: 0; background: white; border: 1px solid #e5e7eb; border-radius: 8px; padding: 10px; }
figcaption { font-weight: 600; font-size: 14px; } figcaption small { color: #6b7280; font-weight: 400; }
.lower { display: grid; grid-template-columns: minmax(0, 640px) minmax(0, 1fr); gap: 12px; align-items: start; }
table { border-collapse: collapse; background: white; font-size: 12px; font-variant-numeric: tabular-nums; }
td, th { border: 1px solid #e5e7eb; padding: 3px 8px; text-align: right; }
th { background: #f1f5f9; } .settings td, .settings th { text-align: left; } .settings td:first-child { color: #4b5563; white-space: nowrap; }
`;

/** A number with `digits` fraction digits and thousands separators. */
export function fmt(n: number, digits: number): string {
  return n.toLocaleString("en-US", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

/**
 * The report page of a run: headline figures, the four curves (one dot per epoch), the last
 * epoch's confusion matrix as a heat map with class names and counts, the per-epoch table, the
 * settings and the adapter. `written` is the time stamped on the page (default now).
 */
export function reportPage(log: RunLog, options: { written?: Date } = {}): string {
  const doc = newDocument();
  const { header, epochs } = log;
  const last = epochs.at(-1)!;
  const names = header?.classes ?? [];
  const best = epochs.reduce((a, b) => (b.accuracy > a.accuracy ? b : a));
  const meanSeconds = epochs.reduce((s, e) => s + e.seconds, 0) / epochs.length;
  const meanRate = epochs.reduce((s, e) => s + e.imagesPerSecond, 0) / epochs.length;
  const total = header?.run.epochs;
  const model = header?.run.model ?? "model";
  const tiles = [
    [`${fmt(last.accuracy, 2)}%`, `test accuracy, epoch ${last.epoch}`],
    [`${fmt(best.accuracy, 2)}%`, `best, epoch ${best.epoch}`],
    [fmt(last.testLoss, 4), "test loss"],
    [fmt(last.loss, 4), "training loss"],
    [`${fmt(meanSeconds, 1)} s`, "per epoch (mean)"],
    [fmt(meanRate, 1), "training images/s (mean)"],
  ].map(([v, l]) => `<div class="tile"><b>${esc(v)}</b><span>${esc(l)}</span></div>`).join("");
  const figures = CURVES.map((c) =>
    `<figure class="curve" data-curve="${c.key}"><figcaption>${esc(c.title)} <small>${
      esc(c.unit)
    }</small></figcaption>${html(curveChart(doc, epochs, c.key))}</figure>`
  ).join("");
  const k = names.length;
  const heat = last.confusion && k * k === last.confusion.length
    ? `<figure class="heatmap" data-epoch="${last.epoch}"><figcaption>Confusion matrix, epoch ${last.epoch} <small>rows: true class, columns: predicted; counts of test images</small></figcaption>${
      html(confusionHeatmap(doc, last.confusion, names))
    }</figure>`
    : `<figure class="heatmap"><figcaption>Confusion matrix</figcaption><p>This metrics file has no confusion matrix.</p></figure>`;
  const perEpoch = table(
    ["epoch", "lr", "loss", "test loss", "accuracy", "seconds", "images/s"],
    epochs.map((e) => [
      e.epoch,
      e.lr.toFixed(6),
      e.loss.toFixed(6),
      e.testLoss.toFixed(4),
      `${e.accuracy.toFixed(2)}%`,
      e.seconds.toFixed(1),
      e.imagesPerSecond.toFixed(1),
    ]),
    "epochs",
  );
  const settings = table(
    ["setting", "value"],
    [
      ...Object.entries(header?.run ?? {}).map(([key, v]) => [
        key,
        typeof v === "number" ? v.toLocaleString("en-US", { maximumFractionDigits: 6 }) : String(v),
      ]),
      ["adapter", header?.adapter ?? "not recorded"],
      ["started", header?.started ?? "not recorded"],
    ],
    "settings",
  );
  const written = (options.written ?? new Date()).toISOString().replace("T", " ").slice(0, 19);
  const progress = total ? `epoch ${last.epoch} of ${total}` : `${epochs.length} epochs`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(model)}: ${fmt(last.accuracy, 2)}% after epoch ${last.epoch}</title>
<style>${CSS}</style></head>
<body>
<h1>Training report: ${esc(model)} on CIFAR-10</h1>
<p class="sub">${esc(progress)} · written ${esc(written)} UTC · ${esc(header?.adapter ?? "")}</p>
<div class="tiles">${tiles}</div>
<h2>Curves</h2>
<div class="curves">${figures}</div>
<h2>Test results and settings</h2>
<div class="lower">${heat}<div>${settings}<h2>Epochs</h2>${perEpoch}</div></div>
</body></html>
`;
}
