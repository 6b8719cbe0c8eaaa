// How the tests find the real CIFAR-10 (as the tasks do) and the one line a run without it prints.
import { assert, assertEquals, assertStringIncludes, assertThrows } from "./assert.ts";
import { dataArgument, findRealCifar, testsNeedingData } from "./real_data.ts";
import { FILES, FOLDER } from "../data/archive.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const none = () => undefined;
/** Spelled apart so that this file's fixtures are not read as tests of its own that need data. */
const FN = "realCifar" + "Source";

/** A folder laid out like a checkout or cache: `data/` (or the cache itself) with the files. */
async function withFolders(fn: (root: string, cache: string) => Promise<void> | void) {
  const tmp = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${tmp}/root/data`, { recursive: true });
    await Deno.mkdir(`${tmp}/cache`);
    await fn(`${tmp}/root`, `${tmp}/cache`);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

async function complete(dir: string, leaveOut?: string) {
  await Deno.mkdir(dir, { recursive: true });
  for (const f of FILES) if (f !== leaveOut) await Deno.writeFile(`${dir}/${f}`, new Uint8Array(1));
}

Deno.test("real data: --data after --, then $CIFAR10_DIR, are used as given", () => {
  assertEquals(dataArgument(["--data", "/a"]), "/a");
  assertEquals(dataArgument(["--filter", "x", "--data=/b"]), "/b");
  assertEquals(dataArgument([]), undefined);
  assertThrows(() => dataArgument(["--data"]), Error, "--data needs a path");
  const env = (n: string) => n === "CIFAR10_DIR" ? "/env" : undefined;
  // A given path is returned even if it does not exist: a wrong path must fail, not skip.
  assertEquals(
    findRealCifar({ args: ["--data", "/nowhere"], env, root: "/x", cache: "/y" }),
    "/nowhere",
  );
  assertEquals(findRealCifar({ args: [], env, root: "/x", cache: "/y" }), "/env");
});

Deno.test("real data: ./data's folder or archive, then the cache folder, else nothing", async () => {
  await withFolders(async (root, cache) => {
    const find = () => findRealCifar({ args: [], env: none, root, cache });
    assertEquals(find(), undefined);
    await complete(`${cache}/${FOLDER}`, FILES[3]); // a folder lacking a file does not count
    assertEquals(find(), undefined);
    await Deno.writeFile(`${cache}/${FOLDER}/${FILES[3]}`, new Uint8Array(1));
    assertEquals(find(), `${cache}/${FOLDER}`);
    await Deno.writeFile(`${root}/data/cifar-10-binary.tar.gz`, new Uint8Array(1));
    assertEquals(find(), `${cache}/${FOLDER}`, "an extracted folder comes before an archive");
    await complete(`${root}/data/${FOLDER}`);
    assertEquals(find(), `${root}/data/${FOLDER}`, "the checkout's data/ comes first");
    await Deno.remove(`${cache}/${FOLDER}`, { recursive: true });
    await Deno.remove(`${root}/data/${FOLDER}`, { recursive: true });
    assertEquals(find(), `${root}/data/cifar-10-binary.tar.gz`);
  });
});

Deno.test("real data: the tests that need it are found by name in their files", async () => {
  await withFolders(async (root) => {
    await Deno.writeTextFile(
      `${root}/a_test.ts`,
      `const src = ${FN}();\nDeno.test("plain", () => {});\n` +
        `Deno.test({ name: "needs \\"data\\"", ignore: !src, fn() {} });\n` +
        `gpuTest("gpu needs data", async () => {}, { ignore: !src });\n` +
        `Deno.test({ name: "other", ignore: !srcOther, fn() {} });\n`,
    );
    await Deno.writeTextFile(`${root}/b_test.ts`, `Deno.test("b", () => {});\n`);
    await Deno.writeTextFile(`${root}/helper.ts`, `const s = ${FN}();\n`);
    assertEquals(testsNeedingData(root), [
      'a_test.ts: needs \\"data\\"',
      "a_test.ts: gpu needs data",
    ]);
  });
  // In this suite: every test file that asks for the data names at least one test, and this
  // file's fixtures are not taken for tests.
  const names = testsNeedingData();
  assertEquals(names.filter((n) => n.startsWith("real_data_test.ts")), []);
  for (const e of Deno.readDirSync(`${ROOT}tests`)) {
    const text = e.name.endsWith("_test.ts") && Deno.readTextFileSync(`${ROOT}tests/${e.name}`);
    if (text && /= realCifarSource\(\)/.test(text)) {
      assert(names.some((n) => n.startsWith(`${e.name}: `)), `${e.name}: no test found`);
    }
  }
});

const checkoutHasData = findRealCifar({ args: [], env: none, cache: "/nonexistent" }) !== undefined;

Deno.test({
  name: "real data: a run without it prints one line, naming the ignored tests and how to run them",
  // The line cannot appear when this checkout's data/ holds CIFAR-10 (a report test puts it there).
  ignore: checkoutHasData,
  fn: async () => {
    await withFolders(async (root, cache) => {
      const helper = new URL("real_data.ts", import.meta.url).href;
      for (const f of ["a", "b"]) {
        await Deno.writeTextFile(
          `${root}/${f}_test.ts`,
          `import { ${FN} } from "${helper}";\nconst source = ${FN}();\n` +
            `Deno.test({ name: "${f} needs data", ignore: !source, fn() {} });\n`,
        );
      }
      const env: Record<string, string> = {
        ...Deno.env.toObject(),
        XDG_CACHE_HOME: cache,
        NO_COLOR: "1",
      };
      delete env.CIFAR10_DIR;
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["test", "-A", "--config", `${ROOT}deno.json`, root],
        cwd: root,
        env,
        clearEnv: true,
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
      assertEquals(out.code, 0, text);
      const lines = text.split("\n").filter((l) => l.startsWith("real CIFAR-10 not found"));
      assertEquals(lines.length, 1, text);
      assertStringIncludes(text, "2 ignored");
      // The line names this suite's tests (it reads tests/, not the run's files) and the ways in.
      assertStringIncludes(lines[0], "readme_example_test.ts: README: the library example");
      assertStringIncludes(lines[0], "deno task test -- --data PATH");
      assertStringIncludes(lines[0], "CIFAR10_DIR");
    });
  },
});
