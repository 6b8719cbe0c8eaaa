// The training task as a user and a scheduler run it: real processes, real signals, real files.
import { assert, assertEquals, assertMatch, assertStringIncludes } from "./assert.ts";
import { realCifarSource } from "./helpers.ts";
import { epochLines, RUN, run, runSignalled, SMALL } from "./train_process.ts";

const source = realCifarSource();

Deno.test({
  name:
    "train task: signals stop within a batch with a checkpoint; the resumed run equals an uninterrupted one",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const tmp = await Deno.makeTempDir();
    try {
      const base = [...RUN, ...SMALL, "--data", source!, "--quiet"];
      // Not --quiet: the run also says which reduction kernels it chose. Deno's wgpu offers
      // no subgroups, so the tree, with nothing measured (Chromium's page measures: page test).
      const loud = base.filter((a) => a !== "--quiet");
      const full = await run(tmp, [...loud, "--epochs", "2", "--checkpoint", "a.safetensors"]);
      assertEquals(full.code, 0, full.err);
      assertStringIncludes(
        full.out,
        "reductions: sum tree; batchNorm tree (the adapter has no subgroups; nothing measured)",
      );
      const want = epochLines(full.out);
      assertEquals(want.length, 2);

      // A killed writer's temp file (pid 999999 is not running) is removed at the next start.
      await Deno.mkdir(`${tmp}/runs`);
      await Deno.writeTextFile(`${tmp}/runs/wide.safetensors.tmp-999999`, "half a checkpoint");
      // SIGTERM during epoch 2: exit 143, a checkpoint, then --resume F finishes epoch 2 the same.
      // Sent twice at once, as Slurm and `deno task` deliver it (every process of the job gets
      // one, and `deno task` forwards its own): still one stop request, with a checkpoint.
      const term = { stream: "out" as const, after: /^ +1\. lr:/m, signal: "SIGTERM" as const };
      const stopped = await runSignalled(tmp, [...base, "--epochs", "2"], [term, term]);
      assertEquals([stopped.code, stopped.sent], [143, 2], stopped.err);
      assert(!stopped.err.includes("again: quitting"), stopped.err);
      assertStringIncludes(stopped.err, "SIGTERM: stopping after this batch");
      assertMatch(stopped.out, /interrupted at epoch 2.*checkpoint written to runs\/wide/);
      // The stale temp file is gone; beside the checkpoint, the run's metrics file and report page.
      assertEquals([...Deno.readDirSync(`${tmp}/runs`)].map((e) => e.name).sort(), [
        "wide.html",
        "wide.jsonl",
        "wide.safetensors",
      ]);
      await Deno.copyFile(`${tmp}/runs/wide.safetensors`, `${tmp}/u.safetensors`); // unfinished
      const resumed = await run(tmp, [
        ...base,
        "--epochs",
        "2",
        "--resume",
        "runs/wide.safetensors",
      ]);
      assertEquals(resumed.code, 0, resumed.err);
      assertStringIncludes(resumed.out, "resuming from runs/wide.safetensors: epoch 2");
      assertEquals(epochLines(resumed.out), [want[1]]);

      // A second signal quits at once, without waiting: sent while the run measures its conv
      // kernels (a fresh tuning cache: seconds of work that no stop request shortens), 1.2 s
      // after the first (a repeat within SAME_REQUEST_MS, 0.5 s, is the same request).
      const quit = await runSignalled(
        tmp,
        [...RUN, ...SMALL, "--data", source!, "--epochs", "3", "--checkpoint", "q.safetensors"]
          .concat(["--tune-cache", `${tmp}/fresh-tune.json`]),
        [
          { stream: "out", after: /^training on /m, signal: "SIGINT" },
          { stream: "err", after: /SIGINT: stopping/, signal: "SIGINT", delayMs: 1200 },
        ],
      );
      assertEquals([quit.code, quit.sent], [137, 2], quit.err);
      assertStringIncludes(quit.err, "SIGINT again: quitting now");
      assert(quit.seconds < 5, `quit ${quit.seconds.toFixed(1)} s after the first signal`);

      // Nothing is replaced by surprise, and every refusal names what and why (exit 2).
      const other = await run(tmp, [
        ...base,
        "--epochs",
        "2",
        "--seed",
        "1",
        "--checkpoint",
        "a.safetensors",
      ]);
      assertEquals(other.code, 2, other.err);
      assertStringIncludes(
        other.err,
        "--checkpoint a.safetensors holds another run (seed=0 there, 1 here)",
      );
      const unfinished = await run(tmp, [
        ...base,
        "--epochs",
        "2",
        "--checkpoint",
        "u.safetensors",
      ]);
      assertEquals(unfinished.code, 2);
      assertStringIncludes(
        unfinished.err,
        "holds an unfinished run of these settings (stopped in epoch 2 of 2)",
      );
      const finished = await run(tmp, [...base, "--epochs", "2", "--resume", "a.safetensors"]);
      assertEquals(finished.code, 0, finished.err);
      assertStringIncludes(
        finished.out,
        "nothing left to train: a.safetensors has finished all 2 epochs",
      );
      const seed = await run(tmp, [
        ...base,
        "--epochs",
        "3",
        "--seed",
        "5",
        "--resume",
        "u.safetensors",
      ]);
      assertEquals(seed.code, 2);
      assertStringIncludes(
        seed.err,
        "Cannot resume from u.safetensors: it was written by a run with other settings",
      );
      assertStringIncludes(seed.err, "epochs=2 there, 3 here; seed=0 there, 5 here");
      const bytes = await Deno.readFile(`${tmp}/a.safetensors`);
      const at = bytes.length - 1000;
      await Deno.writeFile(`${tmp}/cut.safetensors`, bytes.subarray(0, at));
      const cut = await run(tmp, [...base, "--epochs", "2", "--resume", "cut.safetensors"]);
      assertEquals(cut.code, 2, cut.err);
      assertStringIncludes(
        cut.err,
        `Cannot resume from cut.safetensors: the file is truncated at byte ${at} of ${bytes.length}`,
      );
      await Deno.writeTextFile(`${tmp}/notes.txt`, "not a checkpoint at all\n");
      const text = await run(tmp, [...base, "--resume", "notes.txt"]);
      assertEquals(text.code, 2);
      assertStringIncludes(text.err, "Cannot resume from notes.txt: it is not a checkpoint");
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
  ignore: !source,
});

Deno.test("train task: unwritable output paths and bad flags are refused before any work (exit 2)", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${tmp}/file`, "x");
    await Deno.mkdir(`${tmp}/folder`);
    const cases: [string[], string][] = [
      [
        ["--checkpoint", "file/ck.safetensors"],
        "--checkpoint file/ck.safetensors: cannot create its folder file",
      ],
      [["--checkpoint", "folder"], "--checkpoint folder: is a folder"],
      [["--metrics", "folder"], "--metrics folder: is a folder"],
      [["--seed="], '--seed must be an integer from 0 to 4294967295, got ""'],
      [["--seed", "4294967296"], "--seed must be an integer from 0 to 4294967295"],
      [["--batch", "-5"], '--batch must be an integer from 1 to 1000000, got "-5"'],
      [["--dropout="], '--dropout must be a number in [0, 1), got ""'],
      [["--epochs", "2", "extra"], 'unexpected argument "extra"'],
    ];
    for (const [args, message] of cases) {
      const r = await run(tmp, [...RUN, ...args]);
      assertEquals(r.code, 2, `${args.join(" ")}: ${r.err}`);
      assertStringIncludes(r.err, message, args.join(" "));
    }
    // No checkpoint litter and no folder created by refused runs.
    assertEquals([...Deno.readDirSync(tmp)].map((e) => e.name).sort(), ["file", "folder"]);
    const bad = await run(tmp, [...RUN, "--tune-cache="]);
    assertEquals(bad.code, 2);
    assertStringIncludes(bad.err, "--tune-cache needs a value");
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
