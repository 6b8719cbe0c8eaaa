// The documentation holds together: a README read in one sitting, links that resolve, and nothing
// cited that a user's checkout lacks.
import { assert, assertEquals } from "./assert.ts";

const ROOT = new URL("..", import.meta.url).pathname;

function markdownFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync(ROOT + dir)) {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory) out.push(...markdownFiles(rel));
    else if (e.name.endsWith(".md")) out.push(rel);
  }
  return out;
}

const PAGES = ["README.md", ...markdownFiles("docs")];

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens. */
function anchor(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, "").replace(/ /g, "-");
}

function anchors(page: string): Set<string> {
  const text = Deno.readTextFileSync(ROOT + page).replace(/```[\s\S]*?```/g, "");
  return new Set([...text.matchAll(/^#{1,6} (.+)$/gm)].map((m) => anchor(m[1])));
}

Deno.test("docs: the README is read in one sitting (at most 300 lines)", () => {
  const lines = Deno.readTextFileSync(`${ROOT}README.md`).split("\n").length;
  assert(lines <= 300, `README.md has ${lines} lines; move detail into docs/`);
});

Deno.test("docs: every relative link in README.md and docs/ resolves, anchors included", () => {
  assert(PAGES.length > 5, `only ${PAGES.length} pages found`);
  const broken: string[] = [];
  let links = 0;
  for (const page of PAGES) {
    const text = Deno.readTextFileSync(ROOT + page).replace(/```[\s\S]*?```/g, "");
    for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      const href = m[1];
      if (/^[a-z]+:/i.test(href)) continue; // https:, mailto:
      links++;
      const [path, hash] = href.split("#");
      const target = path
        ? new URL(path, `file://${ROOT}${page}`).pathname.slice(ROOT.length).replace(/\/$/, "")
        : page;
      let exists = true;
      try {
        Deno.statSync(ROOT + target);
      } catch {
        exists = false;
      }
      if (!exists) broken.push(`${page}: ${href} (no ${target})`);
      else if (hash && target.endsWith(".md") && !anchors(target).has(hash)) {
        broken.push(`${page}: ${href} (no heading #${hash} in ${target})`);
      }
    }
  }
  assert(links > 30, `only ${links} links found`);
  assertEquals(broken, [], `broken links:\n${broken.join("\n")}`);
});

Deno.test("docs: nothing cites the design notes or paths outside the checkout", () => {
  // The team's design notes (DESIGN.md, PEERS.md, RECIPES.md) and our machines' folders are not in a
  // user's checkout; what is needed of them is in docs/. Dated logs under docs/perf/ keep the output
  // they recorded, and .ci/run and the testing page name the shared data folder CI may use.
  const listed = new Deno.Command("git", { args: ["ls-files"], cwd: ROOT, stdout: "piped" })
    .outputSync();
  const files = new TextDecoder().decode(listed.stdout).split("\n").filter((f) =>
    /\.(ts|md|wgsl|py|json)$/.test(f) && !f.startsWith("docs/perf/")
  );
  assert(files.length > 100, `only ${files.length} files listed`);
  const cited: string[] = [];
  for (const f of files) {
    let text: string;
    try {
      text = Deno.readTextFileSync(ROOT + f);
    } catch {
      continue; // listed but deleted in the working tree
    }
    for (const m of text.matchAll(/\b(?:DESIGN|PEERS|RECIPES)\.md\b|\/work\/|\.\.\/shared\b/g)) {
      if (f === "docs/testing.md" && m[0] === "../shared") continue;
      if (f === "tests/docs_test.ts") continue;
      cited.push(`${f}: ${m[0]}`);
    }
  }
  assertEquals(cited, [], `cites what a checkout lacks:\n${cited.join("\n")}`);
});

Deno.test("docs: the examples of docs/library.md and docs/planned-steps.md run as pasted", async () => {
  const blocks = ["library.md", "planned-steps.md"].flatMap((page) =>
    [...Deno.readTextFileSync(`${ROOT}docs/${page}`).matchAll(/```ts\n([\s\S]*?)```/g)].map((m) =>
      m[1]
    )
  );
  assert(blocks.length >= 3, `only ${blocks.length} examples found`);
  const tmp = await Deno.makeTempDir();
  try {
    for (const [i, code] of blocks.entries()) {
      assert(code.includes('from "./mod.ts"'), `example ${i + 1} does not import ./mod.ts`);
      await Deno.writeTextFile(
        `${tmp}/example${i}.ts`,
        code.replace('from "./mod.ts"', `from "${new URL("mod.ts", `file://${ROOT}`).href}"`),
      );
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "--config", `${ROOT}deno.json`, `example${i}.ts`],
        cwd: tmp,
        env: { XDG_RUNTIME_DIR: Deno.env.get("XDG_RUNTIME_DIR") ?? "/tmp" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const err = new TextDecoder().decode(out.stderr);
      assertEquals(out.code, 0, `example ${i + 1} failed:\n${err}`);
    }
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
