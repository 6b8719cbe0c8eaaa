// The training page's script: page/main.ts and the library it imports, bundled for the browser
// into dist/page/app.js (one ES module; nothing fetched from elsewhere when the page runs).
import { buildWeb } from "./build_web.ts";

const ROOT = new URL("..", import.meta.url).pathname;

/** Where the page's files are: its HTML and CSS as written, its script as built. */
export const PAGE_FILES = {
  html: `${ROOT}page/index.html`,
  css: `${ROOT}page/style.css`,
  script: `${ROOT}dist/page/app.js`,
};

/**
 * Bundles the page's script with the browser build's swaps (tasks/build_web.ts), so it holds no
 * `node:` import and no `Deno.` reference; returns its size in bytes.
 */
export async function buildPage(out = PAGE_FILES.script): Promise<number> {
  const { bytes } = await buildWeb({ entry: "page/main.ts", out, minify: true });
  return bytes;
}
