// Shared command-line plumbing of the eval, predict and report tasks: flags, usage errors, exit codes.
import { parseArgs, type ParseArgsConfig } from "node:util";
import { UsageError } from "./output_paths.ts";

export { UsageError };

/** An integer flag ≥ min, or undefined when absent; a UsageError names the flag otherwise. */
export function intFlag(flag: string, v: string | undefined, min: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) {
    throw new UsageError(`--${flag} must be an integer ≥ ${min}, got "${v}"`);
  }
  return n;
}

/** node:util parseArgs whose errors (unknown flag, missing value) become UsageErrors. */
export function parseFlags<T extends ParseArgsConfig["options"]>(
  args: string[],
  options: T,
  allowPositionals: boolean,
) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals });
  } catch (e) {
    throw new UsageError((e as Error).message.split("\n")[0]);
  }
}

/**
 * Runs a task's body and exits: its return code, 2 with the usage after a UsageError, 1 after
 * any other error (printed as one line: `error: …`).
 */
export async function runTask(usage: string, body: () => Promise<number>): Promise<never> {
  let code: number;
  try {
    code = await body();
  } catch (e) {
    const message = (e as Error).message?.split("\n")[0] ?? String(e);
    if (e instanceof UsageError) {
      console.error(`error: ${message}\n\n${usage}`);
      code = 2;
    } else {
      console.error(`error: ${message}`);
      code = 1;
    }
  }
  Deno.exit(code);
}
