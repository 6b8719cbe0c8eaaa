// The browser's engine/files.ts: a page has no file system, so every function says so.
import { unavailable, unavailableAsync } from "./unavailable.ts";

export type { AtomicWriteOptions } from "../engine/files.ts";
const WHY = "a page has no file system; offer the bytes as a download instead";

/** Not in a browser (no process id to name temp files after). */
export const tempPath: (path: string) => string = unavailable("tempPath (temp files)", WHY);
/** Not in a browser. */
export const partialPath: (path: string) => string = unavailable("partialPath (staging)", WHY);
/** Not in a browser. */
export const syncDir: (dir: string) => Promise<void> = unavailableAsync("syncDir", WHY);
/** Not in a browser. */
export const writeFileAtomic: (path: string, data: unknown) => Promise<void> = unavailableAsync(
  "writeFileAtomic (writing a file)",
  WHY,
);
/** Not in a browser. */
export const appendTextFile: (path: string, text: string) => Promise<void> = unavailableAsync(
  "appendTextFile (a metrics file)",
  "leave `metrics` unset and record the epochs in onEpoch",
);
/** Not in a browser. */
export const processAlive: (pid: number) => Promise<boolean> = unavailableAsync(
  "processAlive (other processes)",
);
/** Not in a browser. */
export const removeStale: (dir: string) => Promise<string[]> = unavailableAsync(
  "removeStale (cleaning a folder)",
  WHY,
);
