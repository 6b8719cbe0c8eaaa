// `deno task tune`: measure and cache the conv kernel choices of a model ahead of training.
import { parseArgs } from "node:util";
import { Engine } from "../engine/engine.ts";
import { describeGpu } from "../engine/device.ts";
import { autotune } from "../engine/ops/conv2d/tune_cache.ts";
import { conv2dKey } from "../engine/ops/conv2d/choice.ts";
import { conv2dGeometry } from "../engine/ops/conv2d/geometry.ts";
import { convShapes } from "../models/conv_shapes.ts";
import { RECIPES } from "./recipes.ts";

const MODELS = Object.fromEntries(Object.values(RECIPES).map((r) => [r.model, r]));

/** The usage text of `deno task tune`. */
export const USAGE = `Usage: deno task tune [--model ${
  Object.keys(MODELS).join("|")
}] [--batch N] [--cache F|off] [--budget S]

Measures every conv2d direction and shape the model runs at this batch (and the forward pass
at the test batch, 1,000) and stores the fastest kernel for each in the tuning cache, which the
training tasks read (default $RESNET_WEBGPU_TUNE_CACHE, else ~/.cache/resnet-webgpu/conv2d-tune.json).
  --model M    ${Object.keys(MODELS).join(" or ")} (default resnet18a)
  --batch N    training batch (default 125)
  --cache F    the cache file, or "off" to measure without storing
  --budget S   seconds of measuring at most (default 600 here: ahead of time, not on first use)`;

/** Runs the task; returns the exit status. */
export async function main(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        model: { type: "string", default: "resnet18a" },
        batch: { type: "string", default: "125" },
        cache: { type: "string" },
        budget: { type: "string", default: "600" },
        help: { type: "boolean" },
      },
    }));
  } catch (e) {
    console.error(`error: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const recipe = MODELS[values.model!];
  const batch = Number(values.batch);
  const budget = Number(values.budget);
  const bad = !recipe
    ? `--model must be ${Object.keys(MODELS).join(" or ")}, got "${values.model}"`
    : !Number.isInteger(batch) || batch < 1
    ? `--batch must be a positive integer, got "${values.batch}"`
    : !(budget > 0)
    ? `--budget must be a positive number of seconds, got "${values.budget}"`
    : null;
  if (bad) {
    console.error(`error: ${bad}\n\n${USAGE}`);
    return 2;
  }
  const engine = await Engine.create();
  try {
    console.log(describeGpu(engine.gpu));
    const spec = recipe.spec();
    const train = convShapes(spec, batch);
    const test = convShapes(spec, recipe.testBatch).map((s) => ({
      ...s,
      directions: ["forward" as const],
    }));
    await autotune(engine, [...train, ...test], {
      cache: values.cache === "off" ? null : values.cache,
      budgetSeconds: budget,
      log: console.log,
    });
    for (const s of train) {
      const g = conv2dGeometry("tune", s.x, s.w, s.stride, s.padding);
      const picks = (["forward", "backwardInput", "backwardWeight"] as const).map((d) => {
        const c = engine.conv2d.choices.get(conv2dKey(engine, d, g));
        return c ? c.variant + (c.tiles ? JSON.stringify(c.tiles) : "") : "default";
      });
      console.log(`  x [${s.x}] w [${s.w}] s${s.stride}: ${picks.join(" | ")}`);
    }
    return 0;
  } finally {
    await engine.close();
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
