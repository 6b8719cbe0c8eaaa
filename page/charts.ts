/// <reference lib="dom" />
// The report's curves and confusion heat map (tasks/report_charts.ts), drawn into this page.
import { confusionHeatmap, curveChart, CURVES } from "../tasks/report_charts.ts";
import type { EpochRecord } from "../tasks/run_log.ts";

function figure(cls: string, caption: string, note: string, chart: Node): HTMLElement {
  const f = document.createElement("figure");
  f.className = cls;
  const c = document.createElement("figcaption");
  c.textContent = `${caption} `;
  const small = document.createElement("small");
  small.textContent = note;
  c.append(small);
  f.append(c, chart);
  return f;
}

/** Redraws the four curves (one dot per epoch) into `box`. */
export function drawCurves(box: HTMLElement, epochs: EpochRecord[]): void {
  box.replaceChildren(...CURVES.map((c) => {
    const f = figure("curve", c.title, c.unit, curveChart(document, epochs, c.key) as Node);
    f.dataset.curve = c.key;
    return f;
  }));
}

/** Draws the confusion matrix of `record` (rows: true class) into `box`. */
export function drawConfusion(box: HTMLElement, record: EpochRecord, names: string[]): void {
  const f = figure(
    "heatmap",
    `Confusion matrix, epoch ${record.epoch}`,
    "rows: true class, columns: predicted; counts of test images",
    confusionHeatmap(document, record.confusion!, names) as Node,
  );
  f.dataset.epoch = String(record.epoch);
  box.replaceChildren(f);
}
