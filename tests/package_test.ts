// The package as a registry would take it: every export documented, no slow types.
import { assertEquals } from "./assert.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const exports: Record<string, string> = JSON.parse(
  Deno.readTextFileSync(`${ROOT}deno.json`),
).exports;

async function deno(args: string[]): Promise<{ code: number; text: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  return { code: out.code, text };
}

Deno.test("package: deno doc --lint is clean for every export in deno.json", async () => {
  const { code, text } = await deno(["doc", "--lint", ...Object.values(exports)]);
  const errors = text.split("\n").filter((l) => /^error|-->/.test(l));
  assertEquals(errors, [], `deno doc --lint (exit ${code}):\n${text.slice(-3000)}`);
  assertEquals(code, 0, text.slice(-3000));
});

Deno.test("package: deno publish --dry-run finds no slow types", async () => {
  const { code, text } = await deno(["publish", "--dry-run", "--allow-dirty"]);
  assertEquals(code, 0, text.slice(-3000));
});
