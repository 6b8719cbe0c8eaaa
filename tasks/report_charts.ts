// The report's charts, drawn by Observable Plot into any document: linkedom's when the report
// page is built in Deno (report_page.ts), the browser's own on the training page.
import * as Plot from "@observablehq/plot";
import type { EpochRecord } from "./run_log.ts";

/** The four curves, as the page names and orders them. */
export const CURVES = [
  { key: "loss", title: "Training loss", unit: "mean cross-entropy" },
  { key: "testLoss", title: "Test loss", unit: "mean cross-entropy" },
  { key: "accuracy", title: "Test accuracy", unit: "%" },
  { key: "lr", title: "Learning rate", unit: "set at the start of the epoch" },
] as const;

/** The document type Plot draws into (Deno has no DOM types; linkedom or a browser gives one). */
export type PlotDocument = NonNullable<Plot.PlotOptions["document"]>;
/** What Plot draws: an `<svg>` element of the document it was given. */
export type Chart = ReturnType<typeof Plot.plot>;

/** One curve of a run: a line with a dot per epoch (its value in the dot's title). */
export function curveChart(
  doc: PlotDocument,
  epochs: EpochRecord[],
  key: typeof CURVES[number]["key"],
): Chart {
  const data = epochs.map((e) => ({ epoch: e.epoch, value: e[key] }));
  const digits = key === "lr" ? 6 : key === "accuracy" ? 2 : 4;
  const last = epochs.at(-1)!.epoch;
  const svg = Plot.plot({
    document: doc,
    width: 540,
    height: 240,
    marginLeft: 56,
    grid: true,
    x: {
      label: "epoch",
      domain: [1, Math.max(2, last)],
      // Whole epochs only: every epoch up to 12, else Plot's round ticks.
      ticks: last <= 12 ? Array.from({ length: Math.max(2, last) }, (_, i) => i + 1) : 8,
      tickFormat: "d",
    },
    y: { label: null, nice: true, zero: key === "lr" || key === "accuracy" },
    marks: [
      Plot.line(data, { x: "epoch", y: "value", stroke: "#2563eb", strokeWidth: 2 }),
      Plot.dot(data, {
        x: "epoch",
        y: "value",
        fill: "#2563eb",
        r: 3.5,
        title: (d: { epoch: number; value: number }) =>
          `epoch ${d.epoch}: ${d.value.toFixed(digits)}`,
      }),
    ],
  });
  return svg;
}

/** A confusion matrix as a heat map: class names, a cell per (true, predicted), every count. */
export function confusionHeatmap(
  doc: PlotDocument,
  confusion: number[],
  names: string[],
): Chart {
  const k = names.length;
  const cells = confusion.map((n, i) => ({
    y: names[Math.floor(i / k)],
    p: names[i % k],
    n,
    diagonal: Math.floor(i / k) === i % k,
  }));
  const max = Math.max(1, ...confusion);
  const svg = Plot.plot({
    document: doc,
    width: 620,
    height: 520,
    marginLeft: 90,
    marginBottom: 70,
    padding: 0.04,
    x: { domain: names, label: "predicted class", tickRotate: -35 },
    y: { domain: names, label: "true class" },
    color: { type: "sqrt", scheme: "blues", domain: [0, max], legend: false },
    marks: [
      Plot.cell(cells, {
        x: "p",
        y: "y",
        fill: "n",
        stroke: (d: { diagonal: boolean }) => (d.diagonal ? "#1e3a8a" : "none"),
        title: (d: { y: string; p: string; n: number }) => `${d.y} → ${d.p}: ${d.n}`,
      }),
      Plot.text(cells, {
        x: "p",
        y: "y",
        text: (d: { n: number }) => String(d.n),
        fill: (d: { n: number }) => (Math.sqrt(d.n / max) > 0.6 ? "white" : "#111827"),
        fontSize: 11,
      }),
    ],
  });
  return svg;
}
