/// <reference lib="dom" />
// CIFAR-10 in the page: the official archive chosen, dropped, or fetched from `deno task serve
// --data`, read in memory with the loader's own checks (data/cifar_files.ts).
import { type CifarArrays, cifarFromArchive } from "../data/cifar_files.ts";

/** The data set and where it came from (for the page's line and the metrics header). */
export interface PageData extends CifarArrays {
  /** The archive's name as the user gave it, or its URL. */
  source: string;
  /** Its size in bytes. */
  bytes: number;
}

/**
 * Records per batch file the page expects: 10,000 (the official archive) unless the page's
 * address says `?records=N` (the end-to-end test's small archive made from the real data).
 */
export function expectedRecords(search: string): number {
  const v = new URLSearchParams(search).get("records");
  if (v === null) return 10000;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) {
    throw new RangeError(`?records=${v} in the page's address is not a whole number ≥ 1`);
  }
  return n;
}

/** Reads an archive the user chose or dropped. */
export async function dataFromFile(file: File, records: number): Promise<PageData> {
  const d = await cifarFromArchive(file, file.name, records);
  return { ...d, source: file.name, bytes: file.size };
}

/** What `deno task serve` says about itself (GET /config.json). */
export interface ServeConfig {
  /** URL path of the archive given with --data, or null. */
  data: string | null;
  /** The archive's file name. */
  dataName?: string;
}

/** Fetches the archive the server offers. */
export async function dataFromServer(config: ServeConfig, records: number): Promise<PageData> {
  const url = config.data!;
  const name = config.dataName ?? url;
  const r = await fetch(url);
  if (!r.ok) {
    throw new Error(`Cannot fetch ${name} from the server: HTTP ${r.status} ${r.statusText}`);
  }
  const blob = await r.blob();
  const d = await cifarFromArchive(blob, name, records);
  return { ...d, source: `${name} (from the server)`, bytes: blob.size };
}
