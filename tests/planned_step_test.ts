// Planned steps: bit-identical to eager steps (resnet18a width 8, a WRN with dropout), shape errors, flat memory.
import { assert, assertEquals, assertThrows } from "./assert.ts";
import { gpuTest, randn } from "./helpers.ts";
import type { Engine } from "../engine/engine.ts";
import type { Tensor } from "../engine/tensor.ts";
import { softmaxCrossEntropy } from "../engine/ops/loss.ts";
import { SGD } from "../engine/optim.ts";
import { planStep } from "../engine/planned_step.ts";
import { type Module, module } from "../models/module.ts";
import { resnet18a } from "../models/resnet.ts";
import { widenet } from "../models/widenet.ts";
import {
  adaptiveAvgPool2d,
  batchNorm2d,
  conv2d,
  dropout,
  flatten,
  linear,
  relu,
  sequential,
} from "../models/layers.ts";
import type { ModelSpec } from "../models/spec.ts";

const BATCH = 2;
const STEPS = 3;

/** Per-step inputs: random images, labels and a dropout seed (distinct every step). */
function inputs(e: Engine, step: number, hw: number) {
  const x = e.upload(Float32Array.from(randn(BATCH * 3 * hw * hw, 100 + step)), [BATCH, 3, hw, hw]);
  const y = e.upload(
    Array.from({ length: BATCH }, (_, i) => (i * 7 + step * 3) % 10),
    [BATCH],
    "u32",
  );
  return { x, y, seed: 1000 + 17 * step };
}

function sgd(m: Module): SGD {
  return new SGD(m.params, { lr: 0.05, momentum: 0.9, weightDecay: 5e-4, nesterov: true });
}

/** Element-for-element equality of the bits of two f32 arrays, naming the first difference. */
function assertBits(what: string, a: Float32Array, b: Float32Array): void {
  assertEquals(a.length, b.length, `${what}: lengths differ`);
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < ua.length; i++) {
    if (ua[i] !== ub[i]) throw new Error(`${what}[${i}]: eager ${a[i]}, planned ${b[i]}`);
  }
}

async function read(t: Tensor): Promise<Float32Array> {
  return (await t.read()) as Float32Array;
}

interface StepResult {
  logits: Float32Array;
  loss: Float32Array;
  grads: Map<string, Float32Array>;
}

/** Three training steps eagerly and three replays of a plan, compared bit for bit. */
async function compare(e: Engine, spec: () => ModelSpec, hw: number, smoothing: number) {
  const eager = module(e, spec(), { seed: 3 });
  const planned = module(e, spec(), { seed: 3 });
  const optA = sgd(eager), optB = sgd(planned);
  const data = Array.from({ length: STEPS }, (_, t) => inputs(e, t, hw));
  const fromEager: StepResult[] = [];
  let eagerDispatches = 0;
  for (const [t, d] of data.entries()) {
    optA.lr = 0.05 + 0.01 * t;
    const d0 = e.dispatches;
    const out = e.scope(() => {
      const logits = eager.forward(d.x, { training: true, seed: d.seed });
      const loss = softmaxCrossEntropy(logits, d.y, { smoothing });
      e.tape.backward(loss);
      optA.step();
      return { logits, loss };
    });
    eagerDispatches = e.dispatches - d0;
    fromEager.push({
      logits: await read(out.logits),
      loss: await read(out.loss),
      grads: await eager.readGradients(),
    });
    out.logits.dispose();
    out.loss.dispose();
  }
  const now = { seed: data[0].seed };
  const step = planStep(e, ({ x, y }) => {
    const logits = planned.forward(x, { training: true, seed: () => now.seed });
    const loss = softmaxCrossEntropy(logits, y, { smoothing });
    e.tape.backward(loss);
    optB.step();
    return { logits, loss };
  }, { inputs: { x: data[0].x, y: data[0].y } });
  // The plan drops the tape's copies of leaf gradients into the flat gradient buffer.
  assert(step.dispatches < eagerDispatches, `${step.dispatches} vs ${eagerDispatches} dispatches`);
  for (let t = 0; t < STEPS; t++) {
    now.seed = data[t].seed;
    optB.lr = 0.05 + 0.01 * t;
    const out = step.replay({ x: data[t].x, y: data[t].y });
    const want = fromEager[t];
    assertBits(`step ${t + 1} logits`, want.logits, await read(out.logits));
    assertBits(`step ${t + 1} loss`, want.loss, await read(out.loss));
    const grads = await planned.readGradients();
    for (const [name, g] of want.grads) {
      assertBits(`step ${t + 1} ${name}.grad`, g, grads.get(name)!);
    }
  }
  assertEquals(optB.steps, STEPS);
  for (const [name, t] of eager.named()) {
    assertBits(`${name} after ${STEPS} steps`, await read(t), await read(planned.get(name)));
  }
  assertBits("momentum", await read(optA.momentumBuffer), await read(optB.momentumBuffer));
  step.dispose();
  for (const d of data) [d.x, d.y].forEach((t) => t.dispose());
  for (const o of [optA, optB]) o.dispose();
  for (const m of [eager, planned]) m.dispose();
}

gpuTest("planned step: resnet18a width 8 is bit-identical to eager over 3 steps", async (e) => {
  await compare(e, () => resnet18a(10, { width: 8 }), 32, 0);
});

gpuTest("planned step: WRN-10-1 with dropout is bit-identical to eager over 3 steps", async (e) => {
  await compare(e, () => widenet(10, 1, 0.3, 10), 32, 0.1);
});

/** conv 3→4, BN + ReLU, dropout, average pool, linear: every kind of per-step value, cheaply. */
const TINY = (): ModelSpec => ({
  ...sequential("", "tiny", [
    conv2d("conv", 3, 4, { kernel: 3, padding: 1 }),
    batchNorm2d("bn", 4),
    relu(),
    dropout("drop", 0.2),
    adaptiveAvgPool2d("avgpool"),
    flatten(),
    linear("fc", 4, 10),
  ]),
  builder: "tiny",
  classes: 10,
});

gpuTest("planned step: a replay given another shape names the input", async (e) => {
  const m = module(e, TINY(), { seed: 1 });
  const x = e.upload(Float32Array.from(randn(BATCH * 3 * 8 * 8, 1)), [BATCH, 3, 8, 8]);
  const y = e.upload([1, 2], [BATCH], "u32");
  const step = planStep(e, ({ x, y }) => {
    const loss = softmaxCrossEntropy(m.forward(x, { training: true }), y);
    e.tape.backward(loss);
    return loss;
  }, { inputs: { x, y } });
  const big = e.zeros([3, 3, 8, 8]);
  assertThrows(() => step.replay({ x: big }), RangeError, 'input "x" is [3, 3, 8, 8] f32');
  assertThrows(() => step.replay({ z: x } as never), TypeError, 'no input named "z"');
  assertThrows(() => planStep(e, () => e.write(x, new Float32Array(x.size))), Error, "planned");
  assertThrows(() => planStep(e, () => m.forward(x, { training: true })), Error, "on the tape");
  await e.sync();
  step.dispose();
  for (const t of [x, y, big]) t.dispose();
  m.dispose();
});

gpuTest("planned step: pool bytes are the same after step 1 and step 1,000", async (e) => {
  const m = module(e, TINY(), { seed: 1 });
  const opt = sgd(m);
  const x = e.upload(Float32Array.from(randn(BATCH * 3 * 8 * 8, 2)), [BATCH, 3, 8, 8]);
  const y = e.upload([3, 4], [BATCH], "u32");
  const now = { seed: 0 };
  const step = planStep(e, () => {
    const loss = softmaxCrossEntropy(m.forward(x, { training: true, seed: () => now.seed }), y);
    e.tape.backward(loss);
    opt.step();
    return loss;
  });
  const usage = () => ({ ...e.pool.stats, plan: step.bytes, dispatches: e.dispatches });
  step.replay();
  await e.sync();
  const after1 = usage();
  for (let i = 2; i <= 1000; i++) {
    now.seed = i;
    step.replay();
    if (i % 100 === 0) await e.sync();
  }
  const after1000 = usage();
  assertEquals(after1000.dispatches - after1.dispatches, 999 * step.dispatches);
  assertEquals({ ...after1000, dispatches: 0 }, { ...after1, dispatches: 0 });
  assert(Number.isFinite((await read(step.outputs))[0]), "loss after 1,000 steps is not finite");
  assertEquals(opt.steps, 1000);
  step.dispose();
  for (const t of [x, y]) t.dispose();
  opt.dispose();
  m.dispose();
});
