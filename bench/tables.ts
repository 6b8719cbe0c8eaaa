// Bench results: sections of rows, fixed-width tables, the JSON file and the ratio comparison.

/** A table column: the row key it shows, its heading, and which way is better (for --compare). */
export interface Column {
  key: string;
  label: string;
  /** Decimals; default: about three significant digits. */
  digits?: number;
  /** "lower" for times, "higher" for rates; figures without it are not compared. */
  better?: "lower" | "higher";
}

/** One row: a unique `name` plus figures by column key (null: not measured). */
export type Row = { name: string } & Record<string, number | string | null>;

/** One table of the report. */
export interface Section {
  /** Short stable id used in JSON keys ("ceilings", "conv", …). */
  id: string;
  title: string;
  columns: Column[];
  rows: Row[];
  /** Lines printed under the table (what was left out, how it was measured). */
  notes: string[];
}

/** The JSON file written by --json and read by --compare. */
export interface BenchFile {
  version: 1;
  date: string;
  command: string;
  adapter: string;
  sections: Section[];
}

/** Formats a figure: fixed decimals when given, else about three significant digits. */
export function formatNumber(v: number | string | null | undefined, digits?: number): string {
  if (v === null || v === undefined) return "—";
  if (typeof v === "string") return v;
  if (!Number.isFinite(v)) return String(v);
  if (digits !== undefined) return v.toFixed(digits);
  const a = Math.abs(v);
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  if (a === 0) return "0";
  return v.toPrecision(2);
}

/** A fixed-width text table: the name column left-aligned, figures right-aligned. */
export function formatTable(section: Section): string {
  const head = ["name", ...section.columns.map((c) => c.label)];
  const body = section.rows.map((r) => [
    r.name,
    ...section.columns.map((c) => formatNumber(r[c.key], c.digits)),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  // Text columns (every value a string) are left-aligned like the name; figures right-aligned.
  const left = head.map((_, i) =>
    i === 0 || section.rows.every((r) => typeof r[section.columns[i - 1].key] === "string")
  );
  const line = (cells: string[]) =>
    cells.map((s, i) => (left[i] ? s.padEnd(widths[i]) : s.padStart(widths[i]))).join("  ")
      .trimEnd();
  const rule = "-".repeat(widths.reduce((a, b) => a + b + 2, -2));
  const out = [`== ${section.title}`];
  if (section.rows.length) out.push(line(head), rule, ...body.map(line));
  out.push(...section.notes.map((n) => `  note: ${n}`));
  return out.join("\n");
}

/** Every compared figure as "section/row/column" → value, with its direction. */
export function figures(
  file: Pick<BenchFile, "sections">,
): Map<string, { v: number; better: string }> {
  const out = new Map<string, { v: number; better: string }>();
  for (const s of file.sections) {
    for (const r of s.rows) {
      for (const c of s.columns) {
        const v = r[c.key];
        if (c.better && typeof v === "number" && Number.isFinite(v)) {
          out.set(`${s.id}/${r.name}/${c.key}`, { v, better: c.better });
        }
      }
    }
  }
  return out;
}

/**
 * A section comparing this run with an earlier file: each figure's before, now and ratio
 * (now / before), marked "better" or "worse" when it moved more than 5%.
 */
export function compareSection(
  now: Pick<BenchFile, "sections">,
  before: BenchFile,
  path: string,
): Section {
  const a = figures(before);
  const b = figures(now);
  const rows: Row[] = [];
  for (const [key, { v, better }] of b) {
    const old = a.get(key);
    if (!old) continue;
    const ratio = old.v === 0 ? null : v / old.v;
    let verdict = "";
    if (ratio !== null && Math.abs(ratio - 1) > 0.05) {
      verdict = (ratio > 1) === (better === "higher") ? "better" : "worse";
    }
    rows.push({ name: key, before: old.v, now: v, ratio, verdict });
  }
  const missing = [...a.keys()].filter((k) => !b.has(k)).length;
  const added = [...b.keys()].filter((k) => !a.has(k)).length;
  return {
    id: "compare",
    title: `Compared with ${path} (${before.date}, ${before.adapter})`,
    columns: [
      { key: "before", label: "before" },
      { key: "now", label: "now" },
      { key: "ratio", label: "now/before", digits: 3 },
      { key: "verdict", label: "" },
    ],
    rows,
    notes: [
      `${rows.length} figures in both runs; ${missing} only before, ${added} only now` +
      " (a ratio within ±5% is noise on a shared CPU)",
    ],
  };
}

/** Reads and checks a file written by --json. */
export async function readBenchFile(path: string): Promise<BenchFile> {
  let parsed: BenchFile;
  try {
    parsed = JSON.parse(await Deno.readTextFile(path));
  } catch (e) {
    throw new Error(`Cannot read bench results ${path}: ${(e as Error).message}`);
  }
  if (parsed?.version !== 1 || !Array.isArray(parsed.sections)) {
    throw new Error(`Cannot compare with ${path}: it is not a bench --json file (version 1)`);
  }
  return parsed;
}
