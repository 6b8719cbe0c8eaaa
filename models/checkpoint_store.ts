// Where the trainer's checkpoints go: files on disk (Deno), or named byte arrays in memory (a
// browser page, which offers them as downloads). Decoding names the checkpoint and the problem.
import { decodeSafetensors, type Safetensors } from "./safetensors.ts";

/** Reads and writes checkpoints by name for {@linkcode moduleCheckpointer}. */
export interface CheckpointStore {
  /** The checkpoint called `name`, decoded; throws "Cannot <verb> <name>: …". */
  read(name: string, verb: string): Promise<Safetensors>;
  /** Stores `bytes` as `name`, replacing it whole (never half a checkpoint). */
  write(name: string, bytes: Uint8Array): Promise<void>;
}

/**
 * Bytes a safetensors file must have, from its 8-byte length and JSON header, or null when the
 * header itself cannot be read (the decoder then says why).
 */
function expectedSize(bytes: Uint8Array): number | null {
  if (bytes.length < 8) return null;
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  if (8 + n > bytes.length || n > 100_000_000) return null;
  try {
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
    let end = 0;
    for (const [k, v] of Object.entries(header as Record<string, { data_offsets?: number[] }>)) {
      if (k !== "__metadata__" && Array.isArray(v?.data_offsets)) {
        end = Math.max(end, v.data_offsets[1]);
      }
    }
    return 8 + n + end;
  } catch {
    return null;
  }
}

/**
 * Decodes a checkpoint's bytes; an error names `where` and what is wrong (truncated at byte N of
 * M, not a safetensors file). `verb` says what was being done ("open", "resume from").
 */
export function decodeCheckpoint(bytes: Uint8Array, where: string, verb = "open"): Safetensors {
  const want = expectedSize(bytes);
  if (want !== null && bytes.length < want) {
    throw new RangeError(
      `Cannot ${verb} ${where}: the file is truncated at byte ${bytes.length} of ${want}`,
    );
  }
  try {
    return decodeSafetensors(bytes);
  } catch (e) {
    const msg = (e as Error).message.replace(/^Cannot decode safetensors: /, "");
    throw new TypeError(`Cannot ${verb} ${where}: it is not a checkpoint (${msg})`);
  }
}

/** Checkpoints held in memory by name (a page's run: downloaded from here, resumed from here). */
export class MemoryCheckpoints implements CheckpointStore {
  readonly #files = new Map<string, Uint8Array>();

  read(name: string, verb: string): Promise<Safetensors> {
    const bytes = this.#files.get(name);
    if (!bytes) return Promise.reject(new Error(`Cannot ${verb} ${name}: no such checkpoint`));
    return Promise.resolve(decodeCheckpoint(bytes, name, verb));
  }

  write(name: string, bytes: Uint8Array): Promise<void> {
    this.#files.set(name, bytes);
    return Promise.resolve();
  }

  /** The bytes stored as `name`, or undefined. */
  get(name: string): Uint8Array | undefined {
    return this.#files.get(name);
  }
}
