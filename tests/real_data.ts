// Where the tests find the real CIFAR-10, as the tasks do, and the one line a run without it prints.
import { ARCHIVE, cacheDir, FILES, FOLDER, join } from "../data/archive.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
/** Set to this process's id once the line is printed: every test file runs in its own worker. */
const NOTED = "RESNET_WEBGPU_TESTS_NO_DATA_NOTED";

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/** `--data PATH` or `--data=PATH` among the arguments after `deno test … --`. */
export function dataArgument(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--data") {
      if (i + 1 >= args.length) throw new Error("tests: --data needs a path (a folder or archive)");
      return args[i + 1];
    }
    if (args[i].startsWith("--data=")) return args[i].slice("--data=".length);
  }
  return undefined;
}

/**
 * The places a test run looks in, in order, as the training tasks do: `--data` after `--`,
 * `$CIFAR10_DIR` (both used as given: a wrong path fails the tests, it does not skip them), then
 * the checkout's `data/` (the extracted folder or the archive `deno task train:res` downloads) and
 * the folder the library extracts into (`$XDG_CACHE_HOME/resnet-webgpu`, else `~/.cache/…`).
 */
export function findRealCifar(where: {
  args?: readonly string[];
  env?: (name: string) => string | undefined;
  /** The checkout (default: this one). */
  root?: string;
  /** The library's cache folder (default: the user's). */
  cache?: string;
} = {}): string | undefined {
  const { args = Deno.args, env = (n: string) => Deno.env.get(n), root = ROOT } = where;
  const given = dataArgument(args) ?? env("CIFAR10_DIR");
  if (given) return given;
  for (const dir of [join(root, "data", FOLDER), join(where.cache ?? cacheDir(), FOLDER)]) {
    if (FILES.every((f) => isFile(join(dir, f)))) return dir;
  }
  const archive = join(root, "data", ARCHIVE);
  return isFile(archive) ? archive : undefined;
}

/** The names of the tests that need the real data: registered with `ignore: !<source>`. */
export function testsNeedingData(dir = join(ROOT, "tests")): string[] {
  const names: string[] = [];
  for (const e of [...Deno.readDirSync(dir)].sort((a, b) => a.name < b.name ? -1 : 1)) {
    if (!e.name.endsWith("_test.ts")) continue;
    const text = Deno.readTextFileSync(join(dir, e.name));
    const v = text.match(/const (\w+) = realCifarSource\(\)/)?.[1];
    if (!v) continue;
    // Each registration up to the next; the test's name is its first string literal.
    for (const chunk of text.split(/(?=\b(?:Deno\.test|gpuTest)\()/).slice(1)) {
      if (!new RegExp(`ignore: !${v}\\b`).test(chunk)) continue;
      const name = chunk.match(/^[^"]*"((?:[^"\\]|\\.)*)"/)?.[1];
      if (name) names.push(`${e.name}: ${name}`);
    }
  }
  return names;
}

/**
 * Where the real CIFAR-10 is (see {@linkcode findRealCifar}), or undefined. Without it, the first
 * test file of a run prints one line naming every test that is ignored for it and how to run them.
 */
export function realCifarSource(): string | undefined {
  const found = findRealCifar();
  if (!found && Deno.env.get(NOTED) !== String(Deno.pid)) {
    Deno.env.set(NOTED, String(Deno.pid));
    const names = testsNeedingData();
    console.log(
      `real CIFAR-10 not found, so ${names.length} tests are ignored (${names.join("; ")}); ` +
        `to run them: deno task test -- --data PATH, or set CIFAR10_DIR, or put ${FOLDER}/ or ` +
        `${ARCHIVE} in ./data (deno task train:res downloads it there)`,
    );
  }
  return found;
}
