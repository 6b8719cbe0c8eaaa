// The browser's models/checkpoint_file.ts: checkpoints travel as bytes, never as paths.
import { unavailableAsync } from "./unavailable.ts";
import type { Safetensors } from "../models/safetensors.ts";

/** Not in a browser: pass the file's bytes to openCheckpoint or loadCheckpoint instead. */
export const readCheckpointFile: (path: string, verb?: string) => Promise<Safetensors> =
  unavailableAsync(
    "Reading a checkpoint by path",
    "pass its bytes (new Uint8Array(await file.arrayBuffer())) to openCheckpoint or loadCheckpoint",
  );
/** Not in a browser: encodeCheckpoint gives the bytes to offer as a download. */
export const writeCheckpointFile: (path: string, bytes: Uint8Array) => Promise<void> =
  unavailableAsync(
    "Writing a checkpoint file",
    "encodeCheckpoint gives its bytes; offer them as a download",
  );
/** Not in a browser. */
export const readCheckpointMetadata: (path: string) => Promise<Record<string, string> | null> =
  unavailableAsync("Reading a checkpoint by path", "decode its bytes with decodeSafetensors");
