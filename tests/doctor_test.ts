// `deno task doctor` as a user runs it: every kernel checked, ceilings, steps, and a verdict.
import { assert, assertEquals, assertMatch } from "./assert.ts";

Deno.test("doctor checks every kernel family and ends with a verdict", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../tasks/doctor.ts", import.meta.url).pathname],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  assertEquals(out.code, 0, text + new TextDecoder().decode(out.stderr));
  for (
    const family of [
      "conv2d forward blocked",
      "conv2d backwardWeight tiled",
      "matmul vec4 tiled",
      "batch norm",
      "max pool",
      "softmax-CE",
      "SGD",
    ]
  ) {
    assert(text.includes(family), `doctor does not check ${family}:\n${text}`);
  }
  assert(!text.includes("FAIL"), text);
  assertMatch(text, /^backend: /m);
  assertMatch(text, /^ {2}resnet18a train step: \d+ ms/m);
  assertMatch(
    text,
    /^verdict: (slow — .* software adapter; every kernel is correct, but an epoch would take resnet18a [\d.]+ h|ready — )/m,
  );
});

Deno.test("doctor refuses an unknown argument, naming --browser in its usage", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../tasks/doctor.ts", import.meta.url).pathname, "--brwser"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assertEquals(out.code, 2);
  assertMatch(
    new TextDecoder().decode(out.stderr),
    /unknown argument --brwser \(usage: deno task doctor \[--browser\]\)/,
  );
});
