// Runs on its own thread: sees SIGINT/SIGTERM/SIGHUP even while the main thread waits on the GPU.
/// <reference lib="deno.worker" />

const NUMBERS = { SIGINT: 2, SIGTERM: 15, SIGHUP: 1 } as const;

self.onmessage = (e: MessageEvent<{ flag: Int32Array; removeOnQuit: string[] }>) => {
  const { flag, removeOnQuit } = e.data;
  const names = Object.keys(NUMBERS).filter((s) => Deno.build.os !== "windows" || s === "SIGINT");
  for (const name of names as (keyof typeof NUMBERS)[]) {
    Deno.addSignalListener(name, () => {
      if (Atomics.compareExchange(flag, 0, 0, NUMBERS[name]) === 0) {
        console.error(`\n${name}: stopping after this batch (again to quit at once)…`);
        return;
      }
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
