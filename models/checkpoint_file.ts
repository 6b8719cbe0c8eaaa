// Checkpoint files on disk: read with errors that name the file and the problem, write atomically.
import type { Safetensors } from "./safetensors.ts";
import { decodeCheckpoint } from "./checkpoint_store.ts";
import { writeFileAtomic } from "../engine/files.ts";

/**
 * Reads and decodes a checkpoint; every error names the file and what is wrong with it
 * (unreadable, not a safetensors file, truncated at byte N of M). `verb` says what was being
 * done ("open", "resume from").
 */
export async function readCheckpointFile(path: string, verb = "open"): Promise<Safetensors> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    const why = e instanceof Deno.errors.NotFound ? "no such file" : (e as Error).message;
    throw new Error(`Cannot ${verb} ${path}: ${why}`);
  }
  return decodeCheckpoint(bytes, path, verb);
}

/** Writes a checkpoint's bytes atomically: a crash or power loss leaves the previous file whole. */
export async function writeCheckpointFile(path: string, bytes: Uint8Array): Promise<void> {
  await writeFileAtomic(path, bytes);
}

/**
 * The metadata of a safetensors file from its header alone (a few KiB read, not the tensors),
 * or null when the file does not exist. Throws naming the file when it is not safetensors.
 */
export async function readCheckpointMetadata(path: string): Promise<Record<string, string> | null> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw new Error(`Cannot read ${path}: ${(e as Error).message}`);
  }
  try {
    const head = new Uint8Array(8);
    const got = await file.read(head);
    const n = got === 8 ? Number(new DataView(head.buffer).getBigUint64(0, true)) : -1;
    if (n < 2 || n > 100_000_000) throw new TypeError(`${path} is not a safetensors file`);
    const json = new Uint8Array(n);
    let at = 0;
    while (at < n) {
      const r = await file.read(json.subarray(at));
      if (r === null) throw new TypeError(`${path} is truncated inside its header`);
      at += r;
    }
    let header: { __metadata__?: Record<string, string> };
    try {
      header = JSON.parse(new TextDecoder().decode(json));
    } catch {
      throw new TypeError(`${path} is not a safetensors file (its header is not JSON)`);
    }
    return header.__metadata__ ?? {};
  } finally {
    file.close();
  }
}
