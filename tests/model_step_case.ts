// A whole-model training step as the trainer runs it (planned once, replayed), the same in Deno
// and in a page of headless Chromium: WRN-10-1 or a small ResNet, two steps of Nesterov SGD on
// seeded images; the losses and every parameter after the steps. No Deno API here.
import type { Engine } from "../engine/engine.ts";
import { softmaxCrossEntropy } from "../engine/ops/loss.ts";
import { SGD } from "../engine/optim.ts";
import { planStep } from "../engine/planned_step.ts";
import { module } from "../models/module.ts";
import { resnet18a } from "../models/resnet.ts";
import { widenet } from "../models/widenet.ts";
import { rand } from "./kernel_case.ts";

/** The models the tier trains: WRN-10-1 (dropout 0.3) and resnet18a at width 8. */
export const MODELS = {
  "WRN-10-1": () => widenet(10, 1, 0.3, 10),
  "resnet18a width 8": () => resnet18a(10, { width: 8 }),
} as const;

/** What two steps give: each step's loss and every parameter afterwards, flat, in order. */
export interface ModelSteps {
  losses: number[];
  params: number[];
}

/** Two planned training steps of `model` at batch 2 on 32×32 images. */
export async function modelSteps(e: Engine, model: keyof typeof MODELS): Promise<ModelSteps> {
  const m = module(e, MODELS[model](), { seed: 3 });
  const opt = new SGD(m.params, { lr: 0.05, momentum: 0.9, weightDecay: 5e-4, nesterov: true });
  const data = [0, 1].map((t) => ({
    x: e.upload(rand(2 * 3 * 32 * 32, 100 + t), [2, 3, 32, 32]),
    y: e.upload(Uint32Array.of((t * 3) % 10, (7 + t * 3) % 10), [2], "u32"),
    seed: 1000 + 17 * t,
  }));
  const now = { seed: data[0].seed };
  const step = planStep(e, ({ x, y }) => {
    const logits = m.forward(x, { training: true, seed: () => now.seed });
    const loss = softmaxCrossEntropy(logits, y, { smoothing: 0.1 });
    e.tape.backward(loss);
    opt.step();
    return { loss };
  }, { inputs: { x: data[0].x, y: data[0].y } });
  const losses: number[] = [];
  for (const d of data) {
    now.seed = d.seed;
    losses.push((await step.replay({ x: d.x, y: d.y }).loss.read())[0]);
  }
  const params: number[] = [];
  for (const [, t] of m.named()) params.push(...await t.read());
  step.dispose();
  opt.dispose();
  m.dispose();
  return { losses, params };
}
