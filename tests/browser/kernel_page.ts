// The kernel tier's page (bundled by tests/kernel_tier_test.ts with the browser build's swaps):
// runs every case of tests/kernel_cases.ts on the page's WebGPU adapter and measures each
// against its float64 reference, then the whole-model steps; the test POSTs what this returns.
// In Deno, `deno run -A tests/browser/kernel_page.ts` prints the same table for Deno's adapter.
import { Engine } from "../../engine/engine.ts";
import {
  describeReduceTuning,
  type ReduceTuning,
  tuneReduce,
} from "../../engine/ops/reduce_tune.ts";
import { describeGpu } from "../../engine/device.ts";
import { KERNEL_CASES } from "../kernel_cases.ts";
import { caseError } from "../kernel_case.ts";
import { MODELS, type ModelSteps, modelSteps } from "../model_step_case.ts";

/** One case's worst error against its reference, and how long it took (compiles included). */
export interface CaseResult {
  family: string;
  name: string;
  maxAbs: number;
  ratio: number;
  where: string;
  ms: number;
  /** Set when the device lacks the feature the case needs. */
  skipped?: string;
}

/** What a run of the tier gives, in the page or in Deno. */
export interface TierResult {
  adapter: string;
  limits: Record<string, number>;
  features: string[];
  cases: CaseResult[];
  models: Record<string, ModelSteps>;
  /** WRN-10-1's steps again with every reduction's subgroup variant forced (where offered). */
  subgroupSteps?: ModelSteps;
  /** The subgroup kernels (file:entry) those steps dispatched. */
  subgroupKernels?: string[];
  /** What tuneReduce measured on this adapter (each family's variants, ms per run). */
  reduce: ReduceTuning;
}

/** Runs every case and model step on a new engine; `progress` hears each case's name. */
export async function runTier(progress: (line: string) => void = () => {}): Promise<TierResult> {
  const e = await Engine.create();
  const cases: CaseResult[] = [];
  try {
    for (const c of KERNEL_CASES) {
      if (c.needs && !e.gpu[c.needs]) {
        const skipped = `the device has no "${c.needs}"`;
        cases.push({
          family: c.family,
          name: c.name,
          maxAbs: 0,
          ratio: 0,
          where: "",
          ms: 0,
          skipped,
        });
        progress(`${c.family} ${c.name}: skipped (${skipped})`);
        continue;
      }
      const t = performance.now();
      const err = caseError(await c.gpu(e), c.ref(), c.tol);
      const ms = performance.now() - t;
      cases.push({ family: c.family, name: c.name, ...err, ms });
      progress(`${c.family} ${c.name}: ${err.maxAbs} (${ms.toFixed(0)} ms)`);
    }
    const models: Record<string, ModelSteps> = {};
    for (const name of Object.keys(MODELS) as (keyof typeof MODELS)[]) {
      const t = performance.now();
      models[name] = await modelSteps(e, name);
      progress(`${name}: losses ${models[name].losses} (${(performance.now() - t).toFixed(0)} ms)`);
    }
    let subgroupSteps: ModelSteps | undefined;
    const subgroupKernels = new Set<string>();
    if (e.gpu.subgroups) {
      // Which kernels the steps dispatch (the subgroup ones are asserted by the test).
      const get = e.kernels.get.bind(e.kernels);
      e.kernels.get = (src, entry, overrides) => {
        if (src.name.includes("subgroups")) subgroupKernels.add(`${src.name}:${entry}`);
        return get(src, entry, overrides);
      };
      e.reduce.forced = "subgroups";
      try {
        subgroupSteps = await modelSteps(e, "WRN-10-1");
      } finally {
        e.reduce.forced = null;
        e.kernels.get = get;
      }
      progress(`WRN-10-1, subgroup reductions: losses ${subgroupSteps.losses}`);
    }
    const reduce = await tuneReduce(e);
    const { gpu } = e;
    const { limits, features } = gpu;
    return {
      adapter: describeGpu(gpu),
      limits,
      features,
      cases,
      models,
      subgroupSteps,
      subgroupKernels: [...subgroupKernels].sort(),
      reduce,
    };
  } finally {
    await e.close();
  }
}

/** The per-case table: family, case, worst |error|, time (compiles included); then the models. */
export function tierTable(r: TierResult): string {
  const rows = r.cases.map((c) =>
    `${c.family.padEnd(22)} ${c.name.padEnd(58)} ${c.maxAbs.toExponential(1).padStart(8)} ` +
    (c.skipped ? `skipped: ${c.skipped}` : `${(c.ms / 1000).toFixed(1).padStart(6)} s`)
  );
  const reduce = describeReduceTuning(r.reduce);
  const models = Object.entries(r.models).map(([name, m]) =>
    `${name}: losses ${m.losses.join(", ")}`
  );
  return [r.adapter, ...rows, ...models, reduce].join("\n");
}

if (import.meta.main) console.log(tierTable(await runTier()));
