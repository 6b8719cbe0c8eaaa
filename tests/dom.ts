// A typed handle on linkedom's DOM for tests (Deno has no DOM types): query, text, attributes.
import { parseHTML } from "linkedom";

/** The few element members the tests read. */
export interface El {
  querySelector(selector: string): El | null;
  querySelectorAll(selector: string): ArrayLike<El> & Iterable<El>;
  getAttribute(name: string): string | null;
  readonly textContent: string | null;
}

/** Parses an HTML page into linkedom's document. */
export function parsePage(html: string): El {
  return (parseHTML(html) as unknown as { document: El }).document;
}
