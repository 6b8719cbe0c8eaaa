// The conv algorithm state an Engine carries: the mode, a forced variant and the measured choices.
import type { Conv2dConfig, Conv2dMode, Conv2dVariant } from "./choice.ts";

/**
 * How an engine's conv2d picks its kernels (`engine.conv2d`): nothing here is module-wide, so two
 * engines in one process choose independently.
 *
 * @example
 * ```ts
 * engine.conv2d.mode = "direct"; // what `--conv direct` sets
 * ```
 */
export class Conv2dState {
  /** Which algorithms conv2d may pick (`--conv`): "direct", "winograd" or "auto" (the default). */
  mode: Conv2dMode = "auto";
  /** Every conv2d dispatch runs this variant when set (tests, benchmarks); null: the choice. */
  forced: Conv2dVariant | null = null;
  /** Choices measured by tuneConv2d, keyed by conv2dKey; the ops read them and never wait. */
  readonly choices: Map<string, Conv2dConfig> = new Map();
}
