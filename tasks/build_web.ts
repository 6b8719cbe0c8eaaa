// `deno task build:web`: the library as one browser ES module, dist/web/mod.js, from web/mod.ts.
// The modules that need Deno (files, the environment, checkpoint files) are swapped for their
// web/ counterparts through an import map, and the output is checked to hold no `node:` import
// and no `Deno.` reference: a page loads it as it is.

const ROOT = new URL("..", import.meta.url);

/** Deno module → its browser counterpart (same exports; tests/web_build_test.ts checks). */
export const WEB_SWAPS: Record<string, string> = {
  "engine/files.ts": "web/files.ts",
  "engine/host.ts": "web/host.ts",
  "models/checkpoint_file.ts": "web/checkpoint_file.ts",
};

/** Options for {@linkcode buildWeb}. */
export interface BuildWebOptions {
  /** Entry module, relative to the repository (default web/mod.ts). */
  entry?: string;
  /** Output file (default dist/web/mod.js under the repository). */
  out?: string;
  /** Minify (default false: the module stays readable). */
  minify?: boolean;
}

/** One host-only reference left in a bundle: what it is and which source module it came from. */
export interface HostReference {
  text: string;
  module: string;
  line: number;
}

/** `node:` imports and `Deno.` references in bundled code, with the module each came from. */
export function hostReferences(code: string): HostReference[] {
  const found: HostReference[] = [];
  let module = "(bundle)";
  for (const [i, line] of code.split("\n").entries()) {
    const header = /^\/\/ (\S+\.(?:ts|js|mjs|wgsl))$/.exec(line);
    if (header) module = header[1];
    for (const m of line.matchAll(/\bDeno\.\w+|["']node:[\w/]+["']|\brequire\(\s*["'][^"']+/g)) {
      found.push({ text: m[0], module, line: i + 1 });
    }
  }
  return found;
}

/** The import map for the browser build: deno.json's imports plus {@linkcode WEB_SWAPS}. */
export async function webImportMap(): Promise<{ imports: Record<string, string> }> {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  const imports: Record<string, string> = { ...config.imports };
  for (const [from, to] of Object.entries(WEB_SWAPS)) {
    imports[new URL(from, ROOT).href] = new URL(to, ROOT).href;
  }
  return { imports };
}

/**
 * Bundles `entry` for the browser into `out` and checks it; returns the output path and size.
 * Throws naming each `node:` import or `Deno.` reference left, and the module it came from.
 */
export async function buildWeb(
  options: BuildWebOptions = {},
): Promise<{ out: string; bytes: number }> {
  const entry = new URL(options.entry ?? "web/mod.ts", ROOT).pathname;
  const out = options.out ?? new URL("dist/web/mod.js", ROOT).pathname;
  const map = await Deno.makeTempFile({ prefix: "web-import-map-", suffix: ".json" });
  try {
    await Deno.writeTextFile(map, JSON.stringify(await webImportMap()));
    const args = ["bundle", "--quiet", "--platform", "browser", "--format", "esm"];
    args.push("--import-map", map, "-o", out, ...(options.minify ? ["--minify"] : []), entry);
    const r = await new Deno.Command(Deno.execPath(), {
      args,
      cwd: ROOT.pathname,
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!r.success) {
      const err = new TextDecoder().decode(r.stderr).trim();
      throw new Error(`build:web: deno bundle ${entry} failed (exit ${r.code}):\n${err}`);
    }
  } finally {
    await Deno.remove(map).catch(() => {});
  }
  const code = await Deno.readTextFile(out);
  const left = hostReferences(code);
  if (left.length) {
    const list = left.slice(0, 20).map((h) => `  ${h.text} from ${h.module} (line ${h.line})`);
    throw new Error(
      `build:web: ${out} still needs Deno or Node (${left.length} references); give these ` +
        `modules a browser counterpart in WEB_SWAPS (tasks/build_web.ts):\n${list.join("\n")}`,
    );
  }
  return { out, bytes: new TextEncoder().encode(code).length };
}

if (import.meta.main) {
  const minify = Deno.args.includes("--minify");
  const unknown = Deno.args.filter((a) => a !== "--minify");
  if (unknown.length) {
    console.error(
      `build:web: unknown argument ${unknown[0]} (usage: deno task build:web [--minify])`,
    );
    Deno.exit(2);
  }
  try {
    const { out, bytes } = await buildWeb({ minify });
    console.log(`wrote ${out} (${(bytes / 1024).toFixed(0)} KiB), no node: or Deno. references`);
  } catch (e) {
    console.error((e as Error).message);
    Deno.exit(1);
  }
}
