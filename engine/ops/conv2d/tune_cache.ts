// Tuning on first use: measure the candidates of every conv a model needs, remember them in a file.
import type { Engine } from "../../engine.ts";
import { type Conv2dConfig, type Conv2dDirection, conv2dKey } from "./choice.ts";
import { conv2dGeometry } from "./geometry.ts";
import { candidatesFor } from "./candidates.ts";
import { tuneConv2d, type TuneShape } from "./measure.ts";
import { writeFileAtomic } from "../../files.ts";
import { CONV2D_ENTRY, conv2dSourceHash } from "./sources.ts";

/**
 * Bumped when the meaning of a stored choice changes beyond the sources (the sources are
 * hashed as well). 2: the key hashes every source of the family, not a list of files.
 */
export const CACHE_FORMAT = "resnet-webgpu-conv2d-tune/2";
const DIRECTIONS: Conv2dDirection[] = ["forward", "backwardInput", "backwardWeight"];

/**
 * Identifies the kernels a stored choice was measured with: a hash of {@linkcode CACHE_FORMAT}
 * and every source of the conv family (conv2dSources: each WGSL file it loads and the modules
 * that generate and dispatch its code, read anew each call, a few ms); any change to them makes
 * a stored choice stale. `entry`: another copy of the family (tests).
 */
export function kernelVersion(entry: URL = CONV2D_ENTRY): Promise<string> {
  return conv2dSourceHash(CACHE_FORMAT, entry);
}

/** Options of {@linkcode autotune}. */
export interface AutotuneOptions {
  /** Cache file (default: {@linkcode defaultTuneCache}); null neither reads nor writes one. */
  cache?: string | null;
  /** Seconds of measuring at most; shapes left keep the defaults (default 60 s software, 15 s GPU). */
  budgetSeconds?: number;
  /** Where the one summary line and cache warnings go (default console.error). */
  log?: (line: string) => void;
  /** Directions to tune (default all three). */
  directions?: Conv2dDirection[];
  /** The conv family's entry module whose sources key the cache (default: this engine's). */
  sources?: URL;
}

/** What {@linkcode autotune} did. */
export interface AutotuneResult {
  /** Choices measured now, read from the cache, and left at the default (over budget). */
  measured: number;
  cached: number;
  skipped: number;
  seconds: number;
  /** Chosen variant counts, e.g. { blocked: 30, winograd: 12 }. */
  variants: Record<string, number>;
  /** The cache file used, or null. */
  cache: string | null;
}

/**
 * The cache file: `$RESNET_WEBGPU_TUNE_CACHE` (a path, or `off` for none), else
 * `resnet-webgpu/conv2d-tune.json` in `$XDG_CACHE_HOME` or `~/.cache`.
 */
export function defaultTuneCache(): string | null {
  const env = Deno.env.get("RESNET_WEBGPU_TUNE_CACHE");
  if (env === "off") return null;
  if (env) return env;
  const home = Deno.env.get("HOME") ?? ".";
  const base = Deno.env.get("XDG_CACHE_HOME") ?? `${home}/.cache`;
  return `${base}/resnet-webgpu/conv2d-tune.json`;
}

interface CacheFile {
  format: string;
  /** Per adapter key: choices by conv2dKey. */
  adapters: Record<string, { kernels: string; choices: Record<string, Conv2dConfig> }>;
}

/** The adapter and the conv mode: a `--conv direct` run's choices must not stand in for `auto`'s. */
function adapterKey(engine: Engine): string {
  const i = engine.gpu.info;
  return `${engine.gpu.name}|${i.vendor}|${i.architecture}|${i.device}|conv=${engine.conv2d.mode}`;
}

async function readCache(path: string, log: (l: string) => void): Promise<CacheFile> {
  const empty: CacheFile = { format: CACHE_FORMAT, adapters: {} };
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) {
      log(`conv tuning: cannot read ${path} (${(e as Error).message}); measuring anew`);
    }
    return empty;
  }
  try {
    const c = JSON.parse(text) as CacheFile;
    if (c.format !== CACHE_FORMAT || typeof c.adapters !== "object" || !c.adapters) {
      log(`conv tuning: ignoring ${path} (format "${c.format}", not ${CACHE_FORMAT})`);
      return empty;
    }
    return c;
  } catch {
    log(`conv tuning: ignoring ${path} (not valid JSON); it will be rewritten`);
    return empty;
  }
}

/**
 * Makes sure every (direction, shape) of `shapes` has a measured conv2d choice: from the cache
 * file when it holds one for this adapter and these kernels, else by timing the candidates
 * ({@linkcode candidatesFor}) within the time budget, then writing the cache. On software
 * adapters the candidates are timed at a batch of at most 8 (the ordering holds; minutes saved).
 * Prints one line of what was chosen. A stale or corrupt cache is ignored with a line, never a crash.
 */
export async function autotune(
  engine: Engine,
  shapes: readonly (TuneShape & { directions?: Conv2dDirection[] })[],
  options: AutotuneOptions = {},
): Promise<AutotuneResult> {
  const log = options.log ?? console.error;
  const path = options.cache === undefined ? defaultTuneCache() : options.cache;
  const budget = options.budgetSeconds ?? (engine.gpu.software ? 60 : 15);
  const dirs = options.directions ?? DIRECTIONS;
  const t0 = performance.now();
  const file = path ? await readCache(path, log) : { format: CACHE_FORMAT, adapters: {} };
  const key = adapterKey(engine);
  const kernels = await kernelVersion(options.sources);
  let entry = file.adapters[key];
  if (entry && entry.kernels !== kernels) {
    log(`conv tuning: ${path} was measured with other kernels; measuring anew`);
    entry = undefined as unknown as typeof entry;
  }
  entry ??= { kernels, choices: {} };
  const result: AutotuneResult = {
    measured: 0,
    cached: 0,
    skipped: 0,
    seconds: 0,
    variants: {},
    cache: path,
  };
  const count = (c: Conv2dConfig) =>
    result.variants[c.variant] = (result.variants[c.variant] ?? 0) + 1;
  for (const s of shapes) {
    const g = conv2dGeometry("autotune", s.x, s.w, s.stride ?? 1, s.padding ?? 0);
    for (const dir of s.directions ?? dirs) {
      const k = conv2dKey(engine, dir, g);
      const stored = entry.choices[k];
      if (stored) {
        engine.conv2d.choices.set(k, stored);
        result.cached++;
        count(stored);
        continue;
      }
      if ((performance.now() - t0) / 1000 > budget) {
        result.skipped++;
        continue;
      }
      // Software adapters: time at a small batch; the choice is stored for the real one.
      const proxy = engine.gpu.software && s.x[0] > 8 ? { ...s, x: [8, ...s.x.slice(1)] } : s;
      const [r] = await tuneConv2d(engine, [proxy], {
        candidates: candidatesFor(engine, dir, g),
        directions: [dir],
        runs: engine.gpu.software ? 1 : 3,
      });
      engine.conv2d.choices.set(k, r.best);
      entry.choices[k] = r.best;
      result.measured++;
      count(r.best);
    }
  }
  result.seconds = (performance.now() - t0) / 1000;
  if (path && result.measured > 0) {
    file.adapters[key] = entry;
    try {
      const slash = path.lastIndexOf("/");
      if (slash > 0) await Deno.mkdir(path.slice(0, slash), { recursive: true });
      await writeFileAtomic(path, new TextEncoder().encode(JSON.stringify(file, null, 1) + "\n"));
    } catch (e) {
      log(`conv tuning: cannot write ${path} (${(e as Error).message}); choices kept for this run`);
    }
  }
  const chosen = Object.entries(result.variants).map(([v, n]) => `${v} ${n}`).join(", ");
  const where = path ? ` (cache ${path})` : "";
  const skipped = result.skipped
    ? `, ${result.skipped} over the ${budget} s budget left at the default`
    : "";
  log(
    `conv tuning: ${result.measured} measured in ${
      result.seconds.toFixed(1)
    } s, ${result.cached} from cache${skipped}; chosen: ${chosen || "nothing"}${where}`,
  );
  return result;
}
