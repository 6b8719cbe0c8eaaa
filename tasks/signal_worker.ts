// Runs on its own thread: sees SIGINT/SIGTERM/SIGHUP even while the main thread waits on the GPU.
/// <reference lib="deno.worker" />

const NUMBERS = { SIGINT: 2, SIGTERM: 15, SIGHUP: 1 } as const;

/**
 * A repeat this soon after the first signal is the same stop request, not a second one: Ctrl-C
 * under `deno task` reaches the trainer twice (the terminal signals the process group and
 * `deno task` forwards what it gets), and Slurm signals every process of a job (a batch shell
 * that forwards its own signal doubles it again). Measured: the copies arrive within 50 ms; a
 * person's second Ctrl-C, after reading the first one's line, comes later.
 */
export const SAME_REQUEST_MS = 500;

self.onmessage = (e: MessageEvent<{ flag: Int32Array; removeOnQuit: string[] }>) => {
  const { flag, removeOnQuit } = e.data;
  let firstAt = 0;
  const names = Object.keys(NUMBERS).filter((s) => Deno.build.os !== "windows" || s === "SIGINT");
  for (const name of names as (keyof typeof NUMBERS)[]) {
    Deno.addSignalListener(name, () => {
      if (Atomics.compareExchange(flag, 0, 0, NUMBERS[name]) === 0) {
        firstAt = performance.now();
        console.error(`\n${name}: stopping after this batch (again to quit at once)…`);
        return;
      }
      if (performance.now() - firstAt < SAME_REQUEST_MS) return;
      console.error(`\n${name} again: quitting now, without a checkpoint`);
      for (const path of removeOnQuit) {
        try {
          Deno.removeSync(path);
        } catch {
          // already gone
        }
      }
      // Deno.exit here would end only this worker: end the process itself.
      Deno.kill(Deno.pid, "SIGKILL");
    });
  }
  self.postMessage("ready");
};
