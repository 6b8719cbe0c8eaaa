// Confusion-matrix views for the eval task: the matrix as rows and as a printed table.

/** The matrix as rows of counts (row = true class, column = predicted class). */
export function confusionRows(confusion: ArrayLike<number>, classes: number): number[][] {
  return Array.from(
    { length: classes },
    (_, y) => Array.from({ length: classes }, (_, p) => confusion[y * classes + p]),
  );
}

/**
 * The matrix as text: one row a true class (full name), one column a predicted class (the
 * name's first five letters), counts right-aligned, the diagonal in the same table.
 */
export function confusionTable(confusion: ArrayLike<number>, names: readonly string[]): string {
  const k = names.length;
  const heads = names.map((n) => n.slice(0, 5));
  const max = Math.max(0, ...Array.from({ length: k * k }, (_, i) => confusion[i]));
  const w = Math.max(5, String(max).length);
  const rowW = Math.max("true \\ predicted".length, ...names.map((n) => n.length));
  const head = `${"true \\ predicted".padEnd(rowW)} ${heads.map((h) => h.padStart(w)).join(" ")}`;
  const rows = names.map((name, y) =>
    `${name.padEnd(rowW)} ${
      Array.from({ length: k }, (_, p) => String(confusion[y * k + p]).padStart(w)).join(" ")
    }`
  );
  return [head, ...rows].join("\n");
}
