// A sweep on a real (single-node) Slurm: a 3-run job array of tiny runs, one requeued mid-epoch
// with `scontrol requeue`, one sent the time-limit signal; all finish, the requeued one exactly
// as an uninterrupted run, and the sweep report's table has the three accuracies.
import { assert, assertEquals, assertMatch, assertStringIncludes } from "./assert.ts";
import { realCifarSource } from "./helpers.ts";
import { type SlurmCluster, startSlurm } from "./slurm_cluster.ts";
import { meanSd } from "../tasks/sweep_report.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const source = realCifarSource();
// WRN-10-1 on 200 images, 2 epochs of 10 batches: seconds a run on lavapipe.
const FLAGS = {
  recipe: "wide",
  depth: 10,
  width: 1,
  dropout: 0,
  batch: 20,
  epochs: 2,
  limit: 200,
  "test-limit": 100,
  quiet: true,
};
const TRAIN_ARGS = Object.entries(FLAGS).filter(([k]) => k !== "recipe")
  .flatMap(([k, v]) => v === true ? [`--${k}`] : [`--${k}`, String(v)]);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The epoch lines of an output without their clock times. */
function epochLines(out: string): string[] {
  return out.split("\n").filter((l) => /^ +\d+\. lr:/.test(l)).map((l) => l.replace(/ \S+$/, ""));
}

async function deno(cwd: string, env: Record<string, string>, args: string[]) {
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--config", `${ROOT}deno.json`, ...args],
    cwd,
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: r.code, out: dec.decode(r.stdout), err: dec.decode(r.stderr) };
}

async function readOr(path: string): Promise<string> {
  return await Deno.readTextFile(path).catch(() => "");
}

/** Waits (polling) until `ok` holds; throws `what` with `detail()` after `seconds`. */
async function until(
  ok: () => Promise<boolean>,
  seconds: number,
  what: string,
  detail: () => Promise<string>,
) {
  const end = Date.now() + seconds * 1000;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`no: ${what} within ${seconds} s${await detail()}`);
    await sleep(500);
  }
}

async function sweepOnSlurm(slurm: SlurmCluster, tmp: string) {
  const env = {
    ...slurm.env,
    XDG_RUNTIME_DIR: Deno.env.get("XDG_RUNTIME_DIR") ?? "/tmp",
    NO_COLOR: "1",
    HOME: Deno.env.get("HOME") ?? tmp,
    // One conv tuning for every run (the reference measures, the array tasks read it), so every
    // run picks the same kernels and a resumed run can equal an uninterrupted one.
    RESNET_WEBGPU_TUNE_CACHE: `${tmp}/conv2d-tune.json`,
  };
  // The uninterrupted reference (seed 0), outside Slurm; it also extracts the data once.
  const ref = await deno(tmp, env, [
    `${ROOT}tasks/train.ts`,
    "wide",
    ...TRAIN_ARGS,
    "--data",
    source!,
    "--checkpoint",
    "ref/model.safetensors",
  ]);
  assertEquals(ref.code, 0, ref.err);
  const want = epochLines(ref.out);
  assertEquals(want.length, 2, ref.out);

  // The data as the reference used it: a folder as given, an archive as it extracted it.
  const data = Deno.statSync(source!).isDirectory ? source! : "data/cifar-10-batches-bin";
  const sweep = { ...FLAGS, data, seeds: "0-2" };
  await Deno.writeTextFile(`${tmp}/tiny.json`, JSON.stringify(sweep));
  const slurmArgs = ["slurm", "tiny.json", "--gpus", "0", "--cpus", "1", "--time", "30"];
  const wrote = await deno(tmp, env, [`${ROOT}tasks/sweep.ts`, ...slurmArgs]);
  assertEquals(wrote.code, 0, wrote.err);
  const script = `${tmp}/runs/tiny/sweep.sbatch`;
  assertStringIncludes(wrote.out, `sbatch ${script}`);
  // sbatch hands its environment to the job (the tuning cache above, XDG_RUNTIME_DIR).
  const job = (await slurm.run("sbatch", ["--parsable", script], env)).trim().split(";")[0];
  const out = (i: number) => readOr(`${tmp}/runs/tiny/slurm/${job}_${i}.out`);
  const detail = async () =>
    `\n${
      (await Promise.all([0, 1, 2].map(async (i) => `task ${i}:\n${await out(i)}`))).join("\n")
    }`;

  // Both in epoch 2, each as soon as its epoch 1 line shows: task 1 gets the time-limit signal
  // (what --signal=B:USR1@S sends) at once, task 0 is requeued by the operator 1.5 s later.
  // (Slurm refuses a signal now and then while it requeues another task, "Invalid job id": the
  // signal is sent again; a requeue that fails fails the test.)
  const first = /^ +1\. lr:/m;
  let [signalled, requeued] = [false, false];
  let t0Since = 0;
  await until(
    async () => {
      if (!signalled && first.test(await out(1))) {
        signalled = await slurm.run("scancel", ["--batch", "--signal=USR1", `${job}_1`])
          .then(() => true, () => false);
      }
      if (!requeued && first.test(await out(0))) {
        t0Since ||= Date.now();
        if (Date.now() - t0Since >= 1500) {
          await slurm.run("scontrol", ["requeue", `${job}_0`]);
          requeued = true;
        }
      }
      return signalled && requeued;
    },
    300,
    "tasks 0 and 1 end epoch 1 and are stopped",
    detail,
  );

  // A requeued job waits ~2 minutes (Slurm's BeginTime) before it may start again: start it now.
  await until(
    async () => {
      const q = await slurm.run("squeue", ["-h", "-j", job, "-o", "%i %T %r"]);
      for (const line of q.trim().split("\n")) {
        const [id, state, reason] = line.split(" ");
        if (state === "PENDING" && reason === "BeginTime") {
          await slurm.run("scontrol", ["update", `JobId=${id}`, "StartTime=now"]).catch(() => {});
        }
      }
      return q.trim() === "";
    },
    480,
    "the array finishes",
    detail,
  );

  const [t0, t1, t2] = await Promise.all([0, 1, 2].map(out));
  // Task 0: stopped mid-epoch 2 with a checkpoint, started again, resumed, equal to the reference.
  assertMatch(t0, /DUE TO JOB REQUEUE/);
  assertMatch(t0, /interrupted at epoch 2(, batch \d+)?; checkpoint written/);
  assertMatch(t0, /attempt 2 on /);
  assertMatch(t0, /resuming from .*wide-seed0\/model\.safetensors: epoch 2/);
  assertEquals(epochLines(t0), want, t0);
  // Task 1: checkpointed on the signal, requeued itself, finished.
  assertMatch(t1, /interrupted at epoch 2(, batch \d+)?; checkpoint written/);
  assertMatch(t1, /stopped before the time limit \(status \d+\); requeueing/);
  assertMatch(t1, /resuming from .*wide-seed1\/model\.safetensors: epoch 2/);
  assertEquals(epochLines(t1).map((l) => l.slice(0, 5)), ["   1.", "   2."], t1);
  // Task 2: one attempt, two epochs.
  assert(!/attempt 2/.test(t2), t2);
  assertEquals(epochLines(t2).length, 2, t2);
  const finals = [t0, t1, t2].map((t) => Number(/accuracy: *([\d.]+)%/.exec(epochLines(t)[1])![1]));
  return { env, finals, data };
}

Deno.test({
  name: "sweep on Slurm: a requeued array task resumes exactly; the report has every run",
  sanitizeResources: false,
  sanitizeOps: false,
  ignore: !source,
  fn: async () => {
    const slurm = await startSlurm();
    if (typeof slurm === "string") {
      console.error(
        `\n!!! SLURM COULD NOT START; THE SWEEP-ON-SLURM TEST DID NOT RUN: ${slurm} !!!\n`,
      );
      return;
    }
    const tmp = await Deno.makeTempDir({ prefix: "sweep-test-" });
    try {
      const { env, finals, data } = await sweepOnSlurm(slurm, tmp);
      // The report: the three accuracies, their mean ± sd in the setting's row, a page of curves.
      const rep = await deno(tmp, env, [`${ROOT}tasks/sweep.ts`, "report", "runs/tiny/"]);
      assertEquals(rep.code, 0, rep.err);
      const { mean, sd } = meanSd(finals);
      assertMatch(
        rep.out,
        new RegExp(`^wrn-10-1 +3/3 +${mean.toFixed(2)} ± ${sd.toFixed(2)}%`, "m"),
      );
      for (const [i, acc] of finals.entries()) {
        assertMatch(rep.out, new RegExp(`wide-seed${i} +${i} +2/2 +${acc.toFixed(2)}%`));
      }
      const page = await Deno.readTextFile(`${tmp}/runs/tiny/report.html`);
      assertEquals(page.match(/<figure class="curve"/g)?.length, 4);
      // A finished run again: nothing to do, exit 0; another seed on its checkpoint: refused.
      const ckpt = "runs/tiny/wide-seed0/model.safetensors";
      const base = [
        `${ROOT}tasks/train.ts`,
        "wide",
        ...TRAIN_ARGS,
        "--data",
        data,
      ];
      const again = await deno(tmp, env, [
        ...base,
        "--seed",
        "0",
        "--checkpoint",
        ckpt,
        "--auto-resume",
      ]);
      assertEquals(again.code, 0, again.err);
      assertStringIncludes(again.out, `nothing left to train: ${ckpt} has finished all 2 epochs`);
      const other = await deno(tmp, env, [
        ...base,
        "--seed",
        "5",
        "--checkpoint",
        ckpt,
        "--auto-resume",
      ]);
      assertEquals(other.code, 2, other.out);
      assertStringIncludes(
        other.err,
        `--auto-resume: Cannot resume from ${ckpt}: it was written by a run with other settings (seed`,
      );
    } finally {
      await slurm.stop();
      if (!Deno.env.get("SWEEP_TEST_KEEP")) {
        await Deno.remove(tmp, { recursive: true }).catch(() => {});
      }
    }
  },
});
