// The published runs' printed output: per-epoch lines, the mistakes table, per-class accuracy.

function fixed(v: number, width: number, decimals: number): string {
  return v.toFixed(decimals).padStart(width);
}

/** hh:mm:ss of a date, local time, as the published runs print it. */
export function clock(d: Date): string {
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((v) => String(v).padStart(2, "0")).join(
    ":",
  );
}

/** One epoch's figures. */
export interface EpochFigures {
  epoch: number;
  lr: number;
  loss: number;
  testLoss: number;
  /** Percent, 0–100. */
  accuracy: number;
  time: Date;
}

/**
 * The published runs' epoch line: epoch 4 wide; lr and loss 9 wide with 6 decimals; test loss 7 wide with 4;
 * accuracy 6 wide with 2; each width counting the space after the label.
 * `   1. lr: 0.080000 loss: 1.395746 test: 1.0029 accuracy: 64.97% 19:00:52`
 */
export function epochLine(f: EpochFigures): string {
  return `${String(f.epoch).padStart(4)}. lr:${fixed(f.lr, 9, 6)} loss:${fixed(f.loss, 9, 6)} ` +
    `test:${fixed(f.testLoss, 7, 4)} accuracy:${fixed(f.accuracy, 6, 2)}% ${clock(f.time)}`;
}

/** A duration as "1h 02m 03s", "2m 03s" or "4.2s". */
export function duration(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = Math.floor(seconds % 60);
  const mm = String(m).padStart(2, "0"), ss = String(s).padStart(2, "0");
  return h > 0 ? `${h}h ${mm}m ${ss}s` : `${m}m ${ss}s`;
}

/** (true, predicted) pairs with counts, most frequent first; ties by true then predicted class. */
export function topMistakes(
  confusion: ArrayLike<number>,
  classes: number,
  top = 10,
): { y: number; yhat: number; n: number }[] {
  const rows: { y: number; yhat: number; n: number }[] = [];
  for (let y = 0; y < classes; y++) {
    for (let p = 0; p < classes; p++) {
      const n = confusion[y * classes + p];
      if (y !== p && n > 0) rows.push({ y, yhat: p, n });
    }
  }
  rows.sort((a, b) => b.n - a.n || a.y - b.y || a.yhat - b.yhat);
  return rows.slice(0, top);
}

/** The published runs' table of the most frequent mistakes, with class names. */
export function mistakesTable(
  confusion: ArrayLike<number>,
  names: readonly string[],
  top = 10,
): string {
  const rows = topMistakes(confusion, names.length, top);
  const wy = Math.max(1, ...rows.map((r) => names[r.y].length));
  const wp = Math.max(4, ...rows.map((r) => names[r.yhat].length));
  const wn = Math.max(1, ...rows.map((r) => String(r.n).length));
  const head = `${"y".padEnd(wy)} ${"yhat".padEnd(wp)}| n`;
  const rule = `${"-".repeat(wy + wp + 1)}| ${"-".repeat(wn)}`;
  const body = rows.map((r) => `${names[r.y].padEnd(wy)} ${names[r.yhat].padEnd(wp)}| ${r.n}`);
  return [head, rule, ...body].join("\n");
}

/** One class's test figures. */
export interface ClassAccuracy {
  name: string;
  right: number;
  total: number;
  /** Percent, 0–100 (0 when the class has no images). */
  accuracy: number;
}

/** Right / total / percent for every true class of a [K·K] confusion matrix (row = true class). */
export function perClass(confusion: ArrayLike<number>, names: readonly string[]): ClassAccuracy[] {
  const k = names.length;
  return names.map((name, y) => {
    let total = 0;
    for (let p = 0; p < k; p++) total += confusion[y * k + p];
    const right = confusion[y * k + y];
    return { name, right, total, accuracy: total ? (100 * right) / total : 0 };
  });
}

/** Accuracy per true class, one line each: name, correct / total, percent. */
export function perClassTable(confusion: ArrayLike<number>, names: readonly string[]): string {
  const w = Math.max(...names.map((s) => s.length));
  const lines = perClass(confusion, names).map(({ name, right, total, accuracy }) =>
    `${name.padEnd(w)} ${String(right).padStart(5)} / ${String(total).padStart(5)} ${
      accuracy.toFixed(2).padStart(6)
    }%`
  );
  return [`${"class".padEnd(w)} right / total accuracy`, ...lines].join("\n");
}
