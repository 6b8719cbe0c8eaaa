// Before any GPU work: never replace another run's checkpoint by surprise, and vet a --resume file.
import { readCheckpointFile, readCheckpointMetadata } from "../models/checkpoint_file.ts";
import { checkFormat, settingsDiff } from "../models/checkpoint.ts";
import type { TrainPosition } from "../engine/train/interfaces.ts";
import { UsageError } from "./output_paths.ts";

function parse<T>(meta: Record<string, string>, key: string): T | null {
  try {
    return meta[key] === undefined ? null : JSON.parse(meta[key]) as T;
  } catch {
    return null;
  }
}

/**
 * Refuses (a {@linkcode UsageError}) to let a new run replace an existing file at `checkpoint`
 * that is not a finished checkpoint of a run with these `settings`, unless `overwrite`.
 */
export async function guardCheckpoint(
  checkpoint: string,
  settings: Record<string, unknown>,
  options: { overwrite: boolean; resume?: string },
): Promise<void> {
  if (options.overwrite || checkpoint === options.resume) return;
  let meta: Record<string, string> | null;
  try {
    meta = await readCheckpointMetadata(checkpoint);
  } catch {
    throw new UsageError(
      `--checkpoint ${checkpoint} exists and is not a checkpoint; choose another --checkpoint or pass --overwrite to replace it`,
    );
  }
  if (meta === null) return;
  const stored = parse<Record<string, unknown>>(meta, "settings");
  const pos = parse<TrainPosition>(meta, "position");
  const hint =
    `resume it with --resume ${checkpoint}, choose another --checkpoint, or pass --overwrite`;
  if (!stored || !pos) {
    throw new UsageError(
      `--checkpoint ${checkpoint} already holds a model that is not from a training run; choose another --checkpoint or pass --overwrite`,
    );
  }
  const diff = settingsDiff(stored, settings);
  if (diff.length) {
    throw new UsageError(
      `--checkpoint ${checkpoint} holds another run (${
        diff.join("; ")
      }); choose another --checkpoint or pass --overwrite`,
    );
  }
  const epochs = Number(stored.epochs);
  if (pos.epoch < epochs) {
    throw new UsageError(
      `--checkpoint ${checkpoint} holds an unfinished run of these settings (stopped in epoch ${
        pos.epoch + 1
      } of ${epochs}); ${hint}`,
    );
  }
}

/** What a --resume file says before it is loaded: finished or not; throws naming the file. */
export async function vetResume(
  resume: string,
  settings: Record<string, unknown>,
): Promise<{ finished: boolean; position: TrainPosition }> {
  let meta: Record<string, string>;
  try {
    // The whole file: truncation and corruption are found here, before any GPU work.
    meta = (await readCheckpointFile(resume, "resume from")).metadata;
    checkFormat(meta, resume);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const stored = parse<Record<string, unknown>>(meta, "settings");
  const position = parse<TrainPosition>(meta, "position");
  if (!stored || !position) {
    throw new UsageError(
      `Cannot resume from ${resume}: it holds weights but no training state (not written by a training run)`,
    );
  }
  const diff = settingsDiff(stored, settings);
  if (diff.length) {
    throw new UsageError(
      `Cannot resume from ${resume}: it was written by a run with other settings (${
        diff.join("; ")
      })`,
    );
  }
  return { finished: position.epoch >= Number(stored.epochs), position };
}

/**
 * `--auto-resume`: what `checkpoint` holds decides. Nothing there: "start"; an unfinished run of
 * these `settings`: "resume"; a finished one: "finished". Anything else (another run's
 * checkpoint, a damaged file) is refused with a {@linkcode UsageError}, never replaced.
 */
export async function autoResume(
  checkpoint: string,
  settings: Record<string, unknown>,
): Promise<{ action: "start" } | { action: "resume" | "finished"; position: TrainPosition }> {
  try {
    await Deno.stat(checkpoint);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return { action: "start" };
    throw new UsageError(`--auto-resume: cannot read ${checkpoint}: ${(e as Error).message}`);
  }
  try {
    const { finished, position } = await vetResume(checkpoint, settings);
    return { action: finished ? "finished" : "resume", position };
  } catch (e) {
    throw new UsageError(`--auto-resume: ${(e as Error).message}; choose another --checkpoint`);
  }
}
