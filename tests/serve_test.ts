// `deno task serve`: what the server gives a browser (the page, its styles, its one bundled
// script, the --data archive), nothing fetched from elsewhere, and its flags' errors.
import { assert, assertEquals, assertRejects, assertThrows } from "./assert.ts";
import { parseServeFlags, servePage } from "../tasks/serve.ts";
import { UsageError } from "../tasks/cli.ts";
import { archiveOf, withTemp } from "./cifar_fixture.ts";

Deno.test("serve: the page, its script and styles, the --data archive; nothing else", async () => {
  await withTemp(async (tmp) => {
    const { gz } = await archiveOf(5);
    await Deno.writeFile(`${tmp}/cifar-10-binary.tar.gz`, gz);
    const lines: string[] = [];
    const s = await servePage(
      { port: 0, data: `${tmp}/cifar-10-binary.tar.gz` },
      (l) => lines.push(l),
    );
    try {
      assert(/^http:\/\/127\.0\.0\.1:\d+\/$/.test(s.url), s.url);
      assertEquals(lines.length, 1);
      assert(lines[0].startsWith(`training page: ${s.url} `), lines[0]);
      const get = async (path: string) => {
        const r = await fetch(new URL(path, s.url));
        return { status: r.status, type: r.headers.get("content-type"), body: await r.bytes() };
      };
      const text = (b: Uint8Array) => new TextDecoder().decode(b);
      const page = await get("/");
      assertEquals([page.status, page.type], [200, "text/html; charset=utf-8"]);
      const html = text(page.body);
      assert(html.includes('<script type="module" src="app.js"></script>'), "the page's script");
      // Everything the page loads comes from this server: no src or stylesheet elsewhere.
      const loads = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1])
        .filter((u) => !u.startsWith("https://www.cs.toronto.edu/")); // a link to the data's page
      assertEquals(loads.sort(), ["app.js", "style.css"]);
      const js = await get("/app.js");
      assertEquals([js.status, js.type], [200, "text/javascript; charset=utf-8"]);
      const code = text(js.body);
      assert(
        js.body.length > 100_000,
        `the script is the library and the page (${js.body.length})`,
      );
      assert(!/\bimport\s*\(?\s*["'`]https?:/.test(code) && !/from\s*["'`]https?:/.test(code));
      assert(!/["']node:/.test(code) && !/\bDeno\./.test(code), "no Deno or Node in the script");
      const css = await get("/style.css");
      assertEquals([css.status, css.type], [200, "text/css; charset=utf-8"]);
      const config = JSON.parse(text((await get("/config.json")).body));
      assertEquals(config, {
        data: "data/cifar-10-binary.tar.gz",
        dataName: "cifar-10-binary.tar.gz",
      });
      const data = await get(config.data);
      assertEquals(data.status, 200);
      assertEquals(data.body, gz);
      for (const path of ["/nothing", "/../deno.json", "/page/main.ts", "/data/other.tar.gz"]) {
        assertEquals((await get(path)).status, 404, path);
      }
      const post = await fetch(s.url, { method: "POST", body: "x" });
      await post.body?.cancel();
      assertEquals(post.status, 405);
    } finally {
      await s.close();
    }
    // Without --data the page is told there is none (it then asks for the file).
    const bare = await servePage({ port: 0 }, () => {});
    try {
      assertEquals(await (await fetch(new URL("config.json", bare.url))).json(), {
        data: null,
        dataName: "",
      });
    } finally {
      await bare.close();
    }
    // Bad --data is refused before anything is served.
    await Deno.writeTextFile(`${tmp}/notes.txt`, "not an archive");
    const bad: [string, string][] = [
      [`${tmp}/none.tar.gz`, "no such file"],
      [tmp, "is a folder; the page reads the archive"],
      [`${tmp}/notes.txt`, "does not start with the gzip signature"],
    ];
    for (const [data, why] of bad) {
      await assertRejects(() => servePage({ port: 0, data }, () => {}), Error, why);
    }
  });
});

Deno.test("serve flags: defaults, values, and errors that name the flag", () => {
  assertEquals(parseServeFlags([]), { port: 8000, data: undefined });
  assertEquals(parseServeFlags(["--port", "0", "--data", "a.tar.gz"]), {
    port: 0,
    data: "a.tar.gz",
  });
  assertEquals(parseServeFlags(["--help"]), "help");
  const cases: [string[], string][] = [
    [["--port", "x"], '--port must be an integer ≥ 0, got "x"'],
    [["--port", "70000"], "--port must be at most 65535"],
    [["--bogus"], "Unknown option '--bogus'"],
    [["extra"], 'unexpected argument "extra"'],
  ];
  for (const [args, why] of cases) assertThrows(() => parseServeFlags(args), UsageError, why);
});
