// A sweep as a Slurm job array: one array task a run, requeue-safe, its output per task.
//
// The script runs each run's training task with --auto-resume, so a requeued task goes on from
// its checkpoint. Two ways a task stops early:
// - scancel, `scontrol requeue`, preemption: Slurm sends SIGTERM to every process of the job;
//   the training task checkpoints within a batch and exits. Slurm requeues it if it was
//   requeued or preempted; the shell does nothing more.
// - the time limit: `--signal=B:USR1@S` reaches only the batch shell S seconds before it. The
//   shell passes SIGTERM on to the run, and once the run has written its checkpoint and exited,
//   requeues its own task (`scontrol requeue`), which starts again where it stopped. USR1, not
//   TERM: the shell must tell "time is nearly up, come back" from "cancelled, stay stopped".
import { type PlannedRun, runCommand, shellWord, type Sweep } from "./sweep_plan.ts";

/** What the job asks Slurm for. */
export interface SlurmOptions {
  /** Wall time a task, as sbatch takes it ("4:00:00", "90" minutes, "1-00:00:00"). */
  time?: string;
  /** GPUs a task (0: none, for CPU-only adapters). */
  gpus: number;
  /** CPU cores a task. */
  cpus: number;
  /** Seconds before the time limit at which a run is told to checkpoint and requeue. */
  signalSeconds: number;
  partition?: string;
  /** How many array tasks may run at once (`%N`); 0 is no limit. */
  parallel: number;
}

/** sbatch's own checks are late (at submission) and terse: say what is wrong here. */
export function checkSlurmOptions(o: SlurmOptions): void {
  if (o.time !== undefined && !/^(\d+-)?\d+(:\d+){0,2}$/.test(o.time)) {
    throw new RangeError(
      `--time must be minutes, H:MM:SS or D-HH:MM:SS as sbatch takes it, got "${o.time}"`,
    );
  }
  if (o.partition !== undefined && !/^[A-Za-z0-9_.,-]+$/.test(o.partition)) {
    throw new RangeError(`--partition "${o.partition}" is not a partition name`);
  }
}

function caseArm(run: PlannedRun): string {
  const cmd = runCommand(run).map(shellWord).join(" ");
  return `  ${run.index}) name=${shellWord(run.name)}; set -- ${cmd} ;;`;
}

/**
 * The sbatch script of a sweep. `project` is the folder with the project's deno.json (the
 * script changes into it so `deno task train:*` resolves); the runs' paths are as planned.
 */
export function sbatchScript(sweep: Sweep, o: SlurmOptions, project: string): string {
  checkSlurmOptions(o);
  const n = sweep.runs.length;
  // sbatch reads --output against the folder it is run from: make it absolute.
  const logs = `${sweep.root.startsWith("/") ? "" : `${project}/`}${sweep.root}/slurm`;
  const directives = [
    `--job-name=${sweep.name}`,
    `--array=0-${n - 1}${o.parallel > 0 ? `%${o.parallel}` : ""}`,
    "--requeue",
    `--signal=B:USR1@${o.signalSeconds}`,
    // A requeued task appends to its output instead of starting it again.
    "--open-mode=append",
    `--output=${logs}/%A_%a.out`,
    "--ntasks=1",
    `--cpus-per-task=${o.cpus}`,
    ...(o.gpus > 0 ? [`--gpus-per-task=${o.gpus}`] : []),
    ...(o.time ? [`--time=${o.time}`] : []),
    ...(o.partition ? [`--partition=${o.partition}`] : []),
  ].map((d) => `#SBATCH ${d}`);
  return `#!/bin/bash
# Sweep ${sweep.name}: ${n} run${n === 1 ? "" : "s"}, one Slurm array task each, in ${sweep.root}/.
# Written by \`deno task sweep slurm\`. Submit:  sbatch ${sweep.root}/sweep.sbatch
# Results:  deno task sweep report ${sweep.root}
${directives.join("\n")}
set -u
cd ${shellWord(project)} || exit 1
case "\${SLURM_ARRAY_TASK_ID:-}" in
${sweep.runs.map(caseArm).join("\n")}
  *) echo "sweep ${sweep.name}: no run for array index \${SLURM_ARRAY_TASK_ID:-(unset)}" >&2; exit 2 ;;
esac
echo "sweep ${sweep.name}, task \${SLURM_ARRAY_TASK_ID}: \${name}, attempt $(( \${SLURM_RESTART_COUNT:-0} + 1 )) on $(hostname) at $(date -u +%FT%TZ)"

# The time limit is near (--signal=B:USR1): the run checkpoints, then this task is requeued.
requeue=0
trap 'requeue=1; kill -TERM "$run" 2>/dev/null' USR1
# scancel and requeue signal every process of the job: the run has its own SIGTERM already.
trap ':' TERM
"$@" &
run=$!
while :; do
  wait "$run"
  status=$?
  kill -0 "$run" 2>/dev/null || break
done
# Requeued only when it stopped early: a run that finished meanwhile is done.
if [ "$requeue" = 1 ] && [ "$status" != 0 ]; then
  echo "sweep ${sweep.name}: \${name} stopped before the time limit (status $status); requeueing"
  scontrol requeue "\${SLURM_JOB_ID}"
fi
exit "$status"
`;
}
