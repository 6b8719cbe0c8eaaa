// The conv family's sources, found by following its imports, and a hash of them: the tune cache's key.

/** The conv family's entry module: conv2d and everything it dispatches are reached from it. */
export const CONV2D_ENTRY: URL = new URL("./mod.ts", import.meta.url);

/** Static import and re-export specifiers that start with "." (relative files). */
const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^;"]*?\bfrom\s*"(\.[^"]+)"/g;

/**
 * Every file the conv family compiles from, by URL: the TypeScript modules reached by relative
 * imports from `entry` that lie in its folder or below (dispatch, the code generators, the
 * Winograd matrices; the engine's shared modules outside it are left out), and every WGSL file
 * any of them imports. Read with fetch, so file: and https: sources both work.
 */
export async function conv2dSources(entry: URL = CONV2D_ENTRY): Promise<Map<string, string>> {
  const folder = new URL("./", entry).href;
  const found = new Map<string, string>();
  const todo = [entry.href];
  while (todo.length) {
    const href = todo.pop()!;
    if (found.has(href)) continue;
    const res = await fetch(href);
    if (!res.ok) throw new Error(`conv2d sources: cannot read ${href} (${res.status})`);
    const text = await res.text();
    found.set(href, text);
    if (!href.endsWith(".ts")) continue;
    for (const m of text.matchAll(IMPORT)) {
      const next = new URL(m[1], href).href;
      if (next.endsWith(".wgsl") || (next.endsWith(".ts") && next.startsWith(folder))) {
        todo.push(next);
      }
    }
  }
  return found;
}

/** FNV-1a of strings, as 8 hex digits. */
export function fnv(...parts: string[]): string {
  let h = 0x811c9dc5;
  for (const s of parts) {
    for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, "0");
}

/**
 * A hash of `format` and the contents of every source of the conv family (in a fixed order, by
 * path relative to the entry's folder, so a copy elsewhere hashes the same): a stored choice made
 * with other kernels, code generators or tile rules is stale.
 */
export async function conv2dSourceHash(format: string, entry: URL = CONV2D_ENTRY): Promise<string> {
  const sources = await conv2dSources(entry);
  const root = new URL("../../../", entry).href; // the repository root above engine/ops/conv2d
  const parts = [...sources].map(([href, text]) => [href.replace(root, ""), text]);
  parts.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return fnv(format, ...parts.flat());
}
