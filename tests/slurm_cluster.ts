// A single-node Slurm for tests: munged, slurmctld and slurmd in the foreground on 127.0.0.1,
// with their own key, ports, state and logs in a temp folder; stopped (jobs first) at the end.

/** A running test cluster; `env` holds SLURM_CONF for the client commands (sbatch, squeue …). */
export interface SlurmCluster {
  dir: string;
  env: Record<string, string>;
  /** Runs a Slurm client command (with `env` added); throws with its output when it fails. */
  run(cmd: string, args: string[], env?: Record<string, string>): Promise<string>;
  /** Cancels every job, waits for them to end, stops the daemons, removes the folder. */
  stop(): Promise<void>;
}

const [MUNGED, SLURMCTLD, SLURMD] = ["munged", "slurmctld", "slurmd"].map((d) => `/usr/sbin/${d}`);

function exists(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

async function output(cmd: string, args: string[], env: Record<string, string>) {
  const r = await new Deno.Command(cmd, { args, env, stdout: "piped", stderr: "piped" }).output();
  const dec = new TextDecoder();
  return { ok: r.success, out: dec.decode(r.stdout), err: dec.decode(r.stderr) };
}

function config(dir: string, user: string, ports: [number, number]): string {
  return `ClusterName=sweeptest
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=${ports[0]}
SlurmdPort=${ports[1]}
SlurmUser=${user}
SlurmdUser=${user}
AuthType=auth/munge
AuthInfo=socket=${dir}/munge/socket
CredType=cred/munge
StateSaveLocation=${dir}/state
SlurmdSpoolDir=${dir}/spool
SlurmctldPidFile=${dir}/slurmctld.pid
SlurmdPidFile=${dir}/slurmd.pid
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SlurmctldLogFile=${dir}/slurmctld.log
SlurmdLogFile=${dir}/slurmd.log
KillWait=30
NodeName=localhost NodeAddr=127.0.0.1 CPUs=2 RealMemory=1000 State=UNKNOWN
PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP
`;
}

/**
 * Starts a one-node cluster (2 CPUs) in a new temp folder, or returns why it cannot (the
 * packages missing, a daemon that does not come up within 30 s).
 */
export async function startSlurm(): Promise<SlurmCluster | string> {
  const missing = [MUNGED, SLURMCTLD, SLURMD].filter((d) => !exists(d));
  if (missing.length) {
    return `${missing.join(", ")} missing (apt-get install slurmctld slurmd slurm-client munge)`;
  }
  const dir = await Deno.makeTempDir({ prefix: "slurm-test-" });
  for (const d of ["munge", "state", "spool"]) await Deno.mkdir(`${dir}/${d}`);
  await Deno.chmod(`${dir}/munge`, 0o711); // munged: the socket's folder must be searchable
  await Deno.writeFile(`${dir}/munge/key`, crypto.getRandomValues(new Uint8Array(128)), {
    mode: 0o600,
  });
  const user = (await output("id", ["-un"], {})).out.trim();
  const base = 20000 + Math.floor(Math.random() * 20000) * 2;
  await Deno.writeTextFile(`${dir}/slurm.conf`, config(dir, user, [base, base + 1]));
  const env = { SLURM_CONF: `${dir}/slurm.conf`, PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" };
  const children: Deno.ChildProcess[] = [];
  const start = (cmd: string, args: string[], log: string) => {
    const c = new Deno.Command(cmd, { args, env, stdout: "null", stderr: "piped" }).spawn();
    // Their stderr into a file, so a failing start can be shown.
    c.stderr.pipeTo(Deno.openSync(`${dir}/${log}`, { write: true, create: true }).writable)
      .catch(() => {});
    children.push(c);
  };
  const run = async (cmd: string, args: string[], more: Record<string, string> = {}) => {
    const r = await output(cmd, args, { ...env, ...more });
    if (!r.ok) throw new Error(`${cmd} ${args.join(" ")} failed: ${r.err.trim() || r.out.trim()}`);
    return r.out;
  };
  const stop = async () => {
    await output("scancel", ["--full", "--user", user], env);
    for (let i = 0; i < 120; i++) {
      const q = await output("squeue", ["-h", "-o", "%i"], env);
      if (!q.ok || q.out.trim() === "") break;
      await new Promise((r) => setTimeout(r, 500));
    }
    for (const c of children.reverse()) {
      try {
        c.kill("SIGTERM");
      } catch { /* already gone */ }
      await c.status;
    }
    if (!Deno.env.get("SWEEP_TEST_KEEP")) {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  };
  const m = `${dir}/munge`;
  start(MUNGED, [
    "--foreground",
    "--force",
    `--socket=${m}/socket`,
    `--key-file=${m}/key`,
    `--pid-file=${m}/munged.pid`,
    `--seed-file=${m}/seed`,
  ], "munged.err");
  for (let i = 0; i < 50 && !exists(`${m}/munged.pid`); i++) {
    await new Promise((r) => setTimeout(r, 100));
  }
  start(SLURMCTLD, ["-D", "-i", "-f", env.SLURM_CONF], "slurmctld.err");
  start(SLURMD, ["-D", "-N", "localhost", "-f", env.SLURM_CONF], "slurmd.err");
  for (let i = 0; i < 60; i++) {
    const s = await output("sinfo", ["-h", "-o", "%T"], env);
    if (s.ok && s.out.trim() === "idle") return { dir, env, run, stop };
    await new Promise((r) => setTimeout(r, 500));
  }
  const tails = await Promise.all(
    ["munged.err", "slurmctld.log", "slurmd.log"].map((f) =>
      Deno.readTextFile(`${dir}/${f}`).then((t) => `${f}: ${t.trim().split("\n").at(-1)}`, () => "")
    ),
  );
  await stop();
  return `the node did not become idle within 30 s (${tails.filter((t) => t).join("; ")})`;
}
