// The README's library example runs as pasted: extracted from README.md and run as a program.
import { assert, assertEquals, assertStringIncludes } from "./assert.ts";
import { realCifarSource } from "./helpers.ts";

const ROOT = new URL("..", import.meta.url);
const source = realCifarSource();

/** The first ```ts block after `heading` in README.md. */
function example(heading: string): string {
  const text = Deno.readTextFileSync(new URL("README.md", ROOT));
  const at = text.indexOf(heading);
  assert(at >= 0, `README has no "${heading}"`);
  const m = text.slice(at).match(/```ts\n([\s\S]*?)```/);
  assert(m, `no ts block after "${heading}"`);
  return m[1];
}

Deno.test({
  name: "README: the library example runs as pasted (trains, saves, reopens)",
  ignore: !source,
  fn: async () => {
    const tmp = await Deno.makeTempDir();
    try {
      const code = example("## Using it as a library");
      assertStringIncludes(code, 'from "./mod.ts"');
      // Run from a scratch folder: the import is pointed at this checkout, nothing else changes.
      await Deno.writeTextFile(
        `${tmp}/example.ts`,
        code.replace('from "./mod.ts"', `from "${new URL("mod.ts", ROOT).href}"`),
      );
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "--config", new URL("deno.json", ROOT).pathname, "example.ts"],
        cwd: tmp,
        env: { CIFAR10_DIR: source!, XDG_RUNTIME_DIR: Deno.env.get("XDG_RUNTIME_DIR") ?? "/tmp" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stdout = new TextDecoder().decode(out.stdout);
      assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
      assertStringIncludes(stdout, "   1. lr: 0.080000 loss:");
      // The last line: accuracy, the position after epoch 1 and the stored statistics.
      assertStringIncludes(stdout, "{ epoch: 1, batch: 0, lossSum: 0, steps: 20 }");
      assertStringIncludes(stdout, "mean: [");
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});
