// `deno task report`: a run's metrics file (JSON lines) to its self-contained HTML report page.
import { writeFileAtomic } from "../engine/files.ts";
import { parseFlags, runTask, UsageError } from "./cli.ts";
import { checkOutputPath } from "./output_paths.ts";
import { readRunLog } from "./run_log.ts";
import { reportPage } from "./report_page.ts";

/** The usage text of `deno task report`. */
export const REPORT_USAGE = `Usage: deno task report METRICS.jsonl [--out PAGE.html]
Builds the training report (curves, confusion heat map, settings; one HTML file with inline SVG
and CSS, nothing fetched) from the metrics file a training run writes next to its checkpoint.

  --out F    the page to write (default: the metrics file's name with .html)
  --help     this text`;

/** The default page of a metrics file: same name, `.html` instead of `.jsonl`/`.json`. */
export function pagePath(metrics: string): string {
  return metrics.replace(/\.jsonl?$/i, "") + ".html";
}

/** Writes a text file atomically, so a watcher never sees half a page. */
export async function writeAtomic(path: string, text: string): Promise<void> {
  await writeFileAtomic(path, new TextEncoder().encode(text));
}

if (import.meta.main) {
  await runTask(REPORT_USAGE, async () => {
    const { values, positionals } = parseFlags(Deno.args, {
      out: { type: "string" },
      help: { type: "boolean" },
    }, true);
    if (values.help) {
      console.log(REPORT_USAGE);
      return 0;
    }
    if (positionals.length !== 1) {
      throw new UsageError(`give one metrics file, got ${positionals.length}`);
    }
    const metrics = positionals[0];
    const out = values.out ?? pagePath(metrics);
    if (out === metrics) throw new UsageError(`--out ${out} would overwrite the metrics file`);
    await checkOutputPath("--out", out);
    // Broken lines are skipped with a warning naming each (a cut line, a resumed run after it).
    const log = await readRunLog(metrics, { warn: (line) => console.error(line) });
    await writeAtomic(out, reportPage(log));
    console.log(`wrote ${out} (${log.epochs.length} epochs)`);
    return 0;
  });
}
