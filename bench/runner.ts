// The bench's section runner: filters sections and rows, times each section, prints it at once.
import { formatTable, type Section } from "./tables.ts";

/** Runs one section, printing it (or its failure) at once; a failure does not stop the run. */
export class Runner {
  readonly sections: Section[] = [];
  failures = 0;
  #filter: string;

  constructor(filter: string) {
    this.#filter = filter;
  }

  /**
   * Whether a section is wanted whole (no filter, or the filter is in its id), partly (one of
   * the row names it can produce contains the filter: rows are then filtered by name), or not.
   * `names` null: the section measures only the rows its predicate wants (it costs nothing when
   * none is) and is left out when it has none.
   */
  wants(id: string, names: readonly string[] | null): "all" | "rows" | "none" {
    const f = this.#filter;
    if (!f || id.includes(f)) return "all";
    if (!names) return "rows";
    return names.some((n) => n.toLowerCase().includes(f)) ? "rows" : "none";
  }

  /** A row-name predicate for a section wanted partly. */
  rowFilter(scope: "all" | "rows" | "none"): (name: string) => boolean {
    const f = this.#filter;
    return scope === "all" ? () => true : (name) => name.toLowerCase().includes(f);
  }

  /** Runs `make` and prints its section, or the failure. */
  async section(make: () => Promise<Section | null>): Promise<void> {
    let s: Section | null;
    const t0 = performance.now();
    try {
      s = await make();
    } catch (e) {
      this.failures++;
      console.log(`== failed: ${(e as Error).stack ?? e}\n`);
      return;
    }
    if (!s || (this.#filter && s.rows.length === 0)) return;
    const seconds = (performance.now() - t0) / 1000;
    if (seconds >= 0.05) s.title += ` [${seconds.toFixed(1)} s]`;
    this.sections.push(s);
    console.log(formatTable(s) + "\n");
  }
}

/** value / ceiling, or null when either is missing. */
export function frac(value: unknown, ceiling: number | null | undefined): number | null {
  return typeof value === "number" && ceiling ? value / ceiling : null;
}
