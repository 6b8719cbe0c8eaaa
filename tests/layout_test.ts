// The architecture as a test: folder-level imports flow one way, and no file imports itself back.
import { assert, assertEquals } from "./assert.ts";

const ROOT = new URL("..", import.meta.url).pathname;
/** Who may import whom, by top-level entry (a folder, or mod.ts). */
const ALLOWED: Record<string, string[]> = {
  kernels: [],
  engine: ["kernels"],
  data: ["engine", "kernels"],
  models: ["engine", "kernels"],
  tasks: ["engine", "models", "data", "kernels"],
  // doctor checks the kernels against the float64 references the tests use.
  bench: ["engine", "models", "data", "kernels", "tasks", "tests/reference"],
  "mod.ts": ["engine", "models", "data", "tasks"],
  // The browser build's entry and the counterparts it swaps in (tasks/build_web.ts).
  web: ["engine", "models", "data", "mod.ts"],
  // The training page (bundled by tasks/build_page.ts): the library and the report's charts.
  page: ["engine", "models", "data", "tasks"],
  tests: ["engine", "models", "data", "kernels", "tasks", "bench", "mod.ts", "web", "page"],
};
/** Files allowed more than their folder, and why. */
const FILE_ALLOWED: Record<string, string[]> = {
  // `deno task doctor` runs the bench's kernel checks, ceilings and step timing.
  "tasks/doctor.ts": ["bench"],
};

interface Edge {
  from: string;
  to: string;
  typeOnly: boolean;
}

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync(ROOT + dir)) {
    const rel = dir ? `${dir}/${e.name}` : e.name;
    if (e.isDirectory && !e.name.startsWith(".") && e.name !== "fixtures") {
      out.push(...sources(rel));
    } else if (e.isFile && rel.endsWith(".ts") && (dir || e.name === "mod.ts")) out.push(rel);
  }
  return out;
}

/** Every relative import and re-export of every .ts file, resolved to a repo path. */
function edges(): Edge[] {
  const all: Edge[] = [];
  const re =
    /^\s*(import|export)\s+(type\s+)?(?:[\s\S]*?\s+from\s+)?["'](\.{1,2}\/[^"']+)["']|import\(\s*["'](\.{1,2}\/[^"']+)["']\s*\)|new URL\(\s*["'](\.{1,2}\/[^"']+\.ts)["']/gm;
  for (const file of Object.keys(ALLOWED).flatMap((d) => d.endsWith(".ts") ? [d] : sources(d))) {
    const text = Deno.readTextFileSync(ROOT + file);
    for (const m of text.matchAll(re)) {
      const spec = m[3] ?? m[4] ?? m[5];
      const to = new URL(spec, `file://${ROOT}${file}`).pathname.slice(ROOT.length);
      all.push({ from: file, to, typeOnly: m[2] !== undefined });
    }
  }
  return all;
}

const top = (path: string) => path.includes("/") ? path.slice(0, path.indexOf("/")) : path;

Deno.test("layout: folders import one way (tasks → models, data → engine → kernels)", () => {
  const all = edges();
  // The parser sees the imports (a regex that matched nothing would pass anything).
  assert(all.length > 300, `only ${all.length} imports found`);
  assert(all.some((e) => e.from === "tasks/train.ts" && e.to === "engine/train/trainer.ts"));
  const bad = all.filter((e) => {
    const [a, b] = [top(e.from), top(e.to)];
    const allowed = [...(ALLOWED[a] ?? []), ...(FILE_ALLOWED[e.from] ?? [])];
    return a !== b && !allowed.some((p) => p === b || e.to.startsWith(p + "/"));
  }).map((e) => `${e.from} → ${e.to}`);
  assertEquals(bad, [], `imports against the layout:\n${bad.join("\n")}`);
});

Deno.test("layout: no import cycle between files (type-only imports aside)", () => {
  const graph = new Map<string, string[]>();
  for (const e of edges()) {
    if (!e.typeOnly && e.to.endsWith(".ts")) {
      graph.set(e.from, [...(graph.get(e.from) ?? []), e.to]);
    }
  }
  const state = new Map<string, "open" | "done">();
  const cycles: string[] = [];
  const visit = (f: string, path: string[]) => {
    if (state.get(f) === "done") return;
    if (state.get(f) === "open") {
      cycles.push([...path.slice(path.indexOf(f)), f].join(" → "));
      return;
    }
    state.set(f, "open");
    for (const t of graph.get(f) ?? []) visit(t, [...path, f]);
    state.set(f, "done");
  };
  for (const f of graph.keys()) visit(f, []);
  assertEquals(cycles, [], `import cycles:\n${cycles.join("\n")}`);
});

Deno.test("layout: every op family with more than two files is one folder, kernels beside", () => {
  const ops = [...Deno.readDirSync(`${ROOT}engine/ops`)].filter((e) => e.isFile).map((e) =>
    e.name.replace(/\.ts$/, "")
  );
  const stems = new Map<string, number>();
  for (const n of ops) stems.set(n.split("_")[0], (stems.get(n.split("_")[0]) ?? 0) + 1);
  const crowded = [...stems].filter(([, n]) => n > 2).map(([s]) => s);
  assertEquals(crowded, [], `engine/ops files sharing a stem (make a folder): ${crowded}`);
  for (const folder of ["engine/ops/conv2d", "kernels/conv2d"]) {
    assertEquals(Deno.statSync(`${ROOT}${folder}`).isDirectory, true, folder);
  }
});

Deno.test("layout: every user command but the bench is a task in tasks/", () => {
  const tasks: Record<string, string> = JSON.parse(Deno.readTextFileSync(`${ROOT}deno.json`)).tasks;
  const runs = Object.entries(tasks).flatMap(([name, cmd]) => {
    const file = cmd.match(/^deno run [^]*?(\S+\.ts)\b/)?.[1];
    return file ? [[name, file]] : [];
  });
  assert(runs.some(([name]) => name === "doctor"), "deno.json has no doctor task");
  const elsewhere = runs.filter(([name, file]) => name !== "bench" && !file.startsWith("tasks/"));
  assertEquals(elsewhere, [], "tasks whose entry is not in tasks/");
});

Deno.test("layout: engine state lives on an Engine, not in modules (no module-level let, no import-time registration)", () => {
  const files = sources("engine");
  assert(files.includes("engine/ops/conv2d/choice.ts"), "engine/ sources not found");
  const bad: string[] = [];
  for (const f of files) {
    const lines = Deno.readTextFileSync(ROOT + f).split("\n");
    lines.forEach((line, i) => {
      // Top level only (column 0): mutable bindings, and statements that call something on import.
      if (/^(export\s+)?(let|var)\s/.test(line)) bad.push(`${f}:${i + 1}: module-level ${line}`);
      if (/^(await\s+)?[A-Za-z_$][\w$.]*\s*\(/.test(line)) {
        bad.push(`${f}:${i + 1}: runs on import: ${line}`);
      }
    });
  }
  assertEquals(bad, [], `module-level state in engine/ (put it on the Engine):\n${bad.join("\n")}`);
  // The checks see what they look for.
  assert(
    /^(export\s+)?(let|var)\s/.test("let mode = 1;") &&
      /^[A-Za-z_$][\w$.]*\s*\(/.test("addCandidates(() => [])"),
  );
});
