// One writer per checkpoint: the lock module in-process, then the training task as real processes.
import { assert, assertEquals, assertMatch, assertStringIncludes } from "./assert.ts";
import { realCifarSource } from "./helpers.ts";
import { CheckpointInUseError, lockPath, readLock, RunLock } from "../tasks/run_lock.ts";
import { RUN, run, Running, SMALL } from "./train_process.ts";

const source = realCifarSource();

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

async function refused(f: () => Promise<unknown>): Promise<CheckpointInUseError> {
  try {
    await f();
  } catch (e) {
    if (e instanceof CheckpointInUseError) return e;
    throw e;
  }
  throw new Error("the lock was not refused");
}

Deno.test("run lock: one holder; a dead holder's lock taken over with a line; another host refused", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    const ck = `${tmp}/a.safetensors`;
    const lock = await RunLock.acquire(ck, { command: "first" });
    const held = await readLock(lockPath(ck));
    assertEquals([held?.pid, held?.command], [Deno.pid, "first"]);
    // A second acquire (this process is alive) is refused, naming the holder.
    const e = await refused(() => RunLock.acquire(ck));
    assertStringIncludes(e.message, `--checkpoint ${ck} is in use by another run: pid ${Deno.pid}`);
    assertStringIncludes(e.message, "(first)");
    lock.release();
    assert(!(await exists(lockPath(ck))), "release removes the lock");
    lock.release(); // idempotent

    // pid 999999 is not running on this host: its lock is taken over with one line.
    const host = Deno.hostname();
    const dead = { pid: 999999, host, started: "2026-01-01T00:00:00.000Z", command: "x" };
    await Deno.writeTextFile(lockPath(ck), JSON.stringify(dead));
    const lines: string[] = [];
    const taken = await RunLock.acquire(ck, { log: (l) => lines.push(l) });
    assertEquals(lines, [
      `taking over the lock ${ck}.lock of pid 999999 (started 2026-01-01T00:00:00.000Z), which is no longer running`,
    ]);
    assertEquals((await readLock(lockPath(ck)))?.pid, Deno.pid);
    // A lock that is no longer ours (rewritten by someone else) is left alone by release.
    await Deno.writeTextFile(lockPath(ck), JSON.stringify({ ...dead, pid: 1 }));
    taken.release();
    assertEquals((await readLock(lockPath(ck)))?.pid, 1);

    // A holder on another host cannot be checked: refused, with how to clear it.
    await Deno.writeTextFile(lockPath(ck), JSON.stringify({ ...dead, host: "elsewhere" }));
    const far = await refused(() => RunLock.acquire(ck));
    assertStringIncludes(far.message, "pid 999999 on elsewhere");
    assertStringIncludes(far.message, `if that run is gone, remove ${ck}.lock`);
    // A requeued Slurm job on another node takes over its earlier run's lock; another job's not.
    const was = Deno.env.get("SLURM_JOB_ID");
    Deno.env.set("SLURM_JOB_ID", "777");
    try {
      const earlier = { ...dead, pid: 1, host: "node9", job: "777" };
      await Deno.writeTextFile(lockPath(ck), JSON.stringify({ ...earlier, job: "778" }));
      assertStringIncludes((await refused(() => RunLock.acquire(ck))).message, "pid 1 on node9");
      await Deno.writeTextFile(lockPath(ck), JSON.stringify(earlier));
      lines.length = 0;
      const requeued = await RunLock.acquire(ck, { log: (l) => lines.push(l) });
      assertEquals(lines, [
        `taking over the lock ${ck}.lock of pid 1 on node9: an earlier run of this Slurm job (777), requeued`,
      ]);
      assertEquals((await readLock(lockPath(ck)))?.job, "777");
      requeued.release();
    } finally {
      if (was === undefined) Deno.env.delete("SLURM_JOB_ID");
      else Deno.env.set("SLURM_JOB_ID", was);
    }
    // Garbage where the lock should be: taken over, saying so.
    await Deno.writeTextFile(lockPath(ck), "{half");
    lines.length = 0;
    (await RunLock.acquire(ck, { log: (l) => lines.push(l) })).release();
    assertEquals(lines, [`taking over ${ck}.lock: it is not a lock file this program wrote`]);
    // Ten acquires racing in one process: exactly one wins.
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, () => RunLock.acquire(`${tmp}/race.safetensors`)),
    );
    assertEquals(results.filter((r) => r.status === "fulfilled").length, 1);
    for (const r of results) if (r.status === "fulfilled") r.value.release();
    assertEquals([...Deno.readDirSync(tmp)].map((e) => e.name), [], "no temp files left");
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test({
  name:
    "train task: a second run on a checkpoint is refused naming the first; the lock goes on every exit path",
  sanitizeResources: false,
  sanitizeOps: false,
  ignore: !source,
  fn: async () => {
    const tmp = await Deno.makeTempDir();
    const base = [...RUN, ...SMALL, "--data", source!];
    const lock = `${tmp}/F.safetensors.lock`;
    try {
      // The holder: many epochs, stopped by SIGTERM once the others have been refused.
      const first = new Running(tmp, [...base, "--epochs", "50", "--checkpoint", "F.safetensors"]);
      await first.waitFor("out", /^ +1\. lr:/m); // a checkpoint exists: --resume is possible
      const pid = first.child.pid;
      for (
        const extra of [[], ["--overwrite"], ["--resume", "F.safetensors"]]
      ) {
        const second = await run(tmp, [
          ...base,
          "--epochs",
          "50",
          "--checkpoint",
          "F.safetensors",
          ...extra,
        ]);
        assertEquals(second.code, 75, `${extra.join(" ")}: ${second.err}`);
        assertStringIncludes(
          second.err,
          `error: --checkpoint F.safetensors is in use by another run: pid ${pid} on ${Deno.hostname()}`,
        );
        assertStringIncludes(
          second.err,
          "wait for it to end or stop it, or choose another --checkpoint",
        );
        assertEquals(second.out, "", "refused before any work");
      }
      first.child.kill("SIGTERM");
      const stopped = await first.done;
      assertEquals(stopped.code, 143, stopped.err);
      assert(!(await exists(lock)), "the lock goes with a signal's stop");

      // Done: the lock goes with a finished run.
      const done = await run(tmp, [...base, "--epochs", "1", "--checkpoint", "D.safetensors"]);
      assertEquals(done.code, 0, done.err);
      assert(!(await exists(`${tmp}/D.safetensors.lock`)), "the lock goes with a finished run");
      // Error: --test-limit beyond the data fails after the lock is taken (exit 2).
      const bad = await run(tmp, [
        ...base,
        "--test-limit",
        "20000",
        "--checkpoint",
        "E.safetensors",
      ]);
      assertEquals(bad.code, 2, bad.err);
      assertStringIncludes(bad.err, "--test-limit 20000 is more than the 10,000 test images");
      assert(!(await exists(`${tmp}/E.safetensors.lock`)), "the lock goes with an error");

      // A second signal quits at once (SIGKILL of itself): its lock is removed first. Both are
      // sent while the run measures its kernels (a fresh tuning cache: seconds that no stop
      // request shortens), the second 1.2 s after the first (a repeat within SAME_REQUEST_MS is
      // the same request).
      const quit = new Running(tmp, [
        ...base,
        ...["--epochs", "50", "--checkpoint", "Q.safetensors"],
        ...["--tune-cache", `${tmp}/fresh-tune.json`],
      ]);
      await quit.waitFor("out", /^training on /m);
      assert(await exists(`${tmp}/Q.safetensors.lock`));
      quit.child.kill("SIGINT");
      await quit.waitFor("err", /SIGINT: stopping after this batch/);
      await new Promise((r) => setTimeout(r, 1200));
      quit.child.kill("SIGINT");
      assertEquals((await quit.done).code, 137);
      assert(!(await exists(`${tmp}/Q.safetensors.lock`)), "the lock goes with a second signal");

      // kill -9 leaves the lock; the next run takes it over with a line and resumes.
      const killed = new Running(tmp, [...base, "--epochs", "3", "--checkpoint", "K.safetensors"]);
      await killed.waitFor("out", /^ +1\. lr:/m);
      while (!(await exists(`${tmp}/K.safetensors`))) await new Promise((r) => setTimeout(r, 20));
      killed.child.kill("SIGKILL");
      await killed.done;
      assertEquals((await readLock(`${tmp}/K.safetensors.lock`))?.pid, killed.child.pid);
      const next = await run(tmp, [
        ...base,
        "--epochs",
        "3",
        "--resume",
        "K.safetensors",
        "--quiet",
      ]);
      assertEquals(next.code, 0, next.err);
      assertMatch(
        next.out,
        new RegExp(
          `^taking over the lock K\\.safetensors\\.lock of pid ${killed.child.pid} \\(started [-0-9T:.Z]+\\), which is no longer running$`,
          "m",
        ),
      );
      assertStringIncludes(next.out, "resuming from K.safetensors: epoch 2");
      assert(!(await exists(`${tmp}/K.safetensors.lock`)));
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});
