// Tier 3: a ResNet basic block and a Wide-ResNet block built from engine ops, checked tensor by
// tensor against PyTorch (tests/fixtures/blocks.safetensors, made by gen_fixtures.py).
import { assert, assertEquals } from "./assert.ts";
import { assertClose, gpuTest } from "./helpers.ts";
import { readSafetensors, type SafeTensor } from "../models/safetensors.ts";
import type { Engine } from "../engine/engine.ts";
import type { Tensor } from "../engine/tensor.ts";
import { conv2d } from "../engine/ops/conv2d/mod.ts";
import { batchNorm2d, type BatchNormState } from "../engine/ops/batch_norm.ts";
import { add } from "../engine/ops/elementwise.ts";

/** The fixture version these tests expect (gen_fixtures.py's FIXTURE_VERSION). */
const FIXTURE_VERSION = "1";
const FIXTURES = new URL("./fixtures/", import.meta.url);

/**
 * f32 engine vs f32 PyTorch. Each value goes through ≤ 3 convolutions (sums of ≤ 90 products),
 * ≤ 3 batch norms (statistics over 75 values) and their backward passes; both sides round in
 * f32 but sum in different orders. Measured on llvmpipe: largest error 1.5e-5 (on weight
 * gradients up to 50 in size), 1e-6 on outputs and input gradients, 6e-8 on running statistics.
 * atol 1e-4 + rtol 1e-3 leaves ≥ 7× headroom on every tensor and still catches any wrong formula
 * (a missing momentum, a biased variance or a dropped term moves values by ≥ 1%).
 */
const TOL = { atol: 1e-4, rtol: 1e-3 };

let cached: Promise<{ tensors: Map<string, SafeTensor>; metadata: Record<string, string> }> | null =
  null;
function blocks() {
  cached ??= readSafetensors(new URL("blocks.safetensors", FIXTURES));
  return cached;
}

/** Uploads fixture tensors by name; `grad` marks them as needing a gradient. */
function loader(e: Engine, tensors: Map<string, SafeTensor>) {
  return (name: string, grad = false): Tensor => {
    const t = tensors.get(name);
    if (!t) throw new Error(`blocks.safetensors has no tensor "${name}" (stale fixture?)`);
    const x = e.upload(t.data as Float32Array, t.shape);
    x.name = name;
    x.requiresGrad = grad;
    return x;
  };
}

function bnState(load: (n: string, g?: boolean) => Tensor, prefix: string): BatchNormState {
  return {
    weight: load(`${prefix}.weight`, true),
    bias: load(`${prefix}.bias`, true),
    runningMean: load(`${prefix}.running_mean`),
    runningVar: load(`${prefix}.running_var`),
  };
}

/** Compares every (fixture name, engine tensor) pair; throws once, listing every mismatch. */
async function checkAll(
  tensors: Map<string, SafeTensor>,
  pairs: [string, Tensor | null][],
): Promise<void> {
  const bad: string[] = [];
  for (const [name, t] of pairs) {
    const want = tensors.get(name);
    if (!want) {
      bad.push(`${name}: not in the fixture`);
      continue;
    }
    if (!t) {
      bad.push(`${name}: the engine produced no tensor (no gradient?)`);
      continue;
    }
    if (t.shape.join() !== want.shape.join()) {
      bad.push(`${name}: shape [${t.shape}], expected [${want.shape}]`);
      continue;
    }
    try {
      assertClose(await t.read(), want.data as Float32Array, TOL, name);
    } catch (err) {
      bad.push((err as Error).message);
    }
  }
  if (bad.length) throw new Error(`${bad.length} tensors differ from PyTorch:\n${bad.join("\n")}`);
}

Deno.test("fixtures carry the expected version and were made by PyTorch", async () => {
  for (const file of ["blocks", "small_resnet", "wrn_10_2"]) {
    const { metadata } = await readSafetensors(new URL(`${file}.safetensors`, FIXTURES));
    assertEquals(
      metadata.version,
      FIXTURE_VERSION,
      `${file}.safetensors is version ${metadata.version}, the tests expect ${FIXTURE_VERSION}: ` +
        "regenerate it with /usr/bin/python3 tests/fixtures/gen_fixtures.py",
    );
    assert(/^\d+\.\d+/.test(metadata.torch ?? ""), `${file}: no torch version in metadata`);
    assert((metadata.what ?? "").length > 0, `${file}: no "what" in metadata`);
  }
});

gpuTest(
  "basic block with downsample (6→10, stride 2, 9×9) matches PyTorch: train, backward, eval",
  async (e) => {
    const { tensors } = await blocks();
    const load = loader(e, tensors);
    const x = load("basic.input", true);
    const w1 = load("basic.conv1.weight", true);
    const w2 = load("basic.conv2.weight", true);
    const wd = load("basic.downsample.0.weight", true);
    const bn1 = bnState(load, "basic.bn1");
    const bn2 = bnState(load, "basic.bn2");
    const bnd = bnState(load, "basic.downsample.1");

    const forward = (training: boolean) => {
      const h = batchNorm2d(conv2d(x, w1, { stride: 2, padding: 1 }), bn1, {
        training,
        relu: true,
      });
      const shortcut = batchNorm2d(conv2d(x, wd, { stride: 2 }), bnd, { training });
      const c2 = conv2d(h, w2, { stride: 1, padding: 1 });
      return batchNorm2d(c2, bn2, { training, relu: true, residual: shortcut });
    };

    const y = forward(true);
    e.tape.backward(y, load("basic.upstream"));
    await checkAll(tensors, [
      ["basic.output", y],
      ["basic.after.bn1.running_mean", bn1.runningMean],
      ["basic.after.bn1.running_var", bn1.runningVar],
      ["basic.after.bn2.running_mean", bn2.runningMean],
      ["basic.after.bn2.running_var", bn2.runningVar],
      ["basic.after.downsample.1.running_mean", bnd.runningMean],
      ["basic.after.downsample.1.running_var", bnd.runningVar],
      ["basic.grad.input", x.grad],
      ["basic.grad.conv1.weight", w1.grad],
      ["basic.grad.conv2.weight", w2.grad],
      ["basic.grad.downsample.0.weight", wd.grad],
      ["basic.grad.bn1.weight", bn1.weight.grad],
      ["basic.grad.bn1.bias", bn1.bias.grad],
      ["basic.grad.bn2.weight", bn2.weight.grad],
      ["basic.grad.bn2.bias", bn2.bias.grad],
      ["basic.grad.downsample.1.weight", bnd.weight.grad],
      ["basic.grad.downsample.1.bias", bnd.bias.grad],
    ]);

    const tapeBefore = e.tape.length;
    const yEval = e.noGrad(() => forward(false));
    assertEquals(e.tape.length, tapeBefore, "an eval forward under noGrad records nothing");
    await checkAll(tensors, [
      ["basic.eval_output", yEval],
      // Eval mode must leave the running statistics alone.
      ["basic.after.bn1.running_mean", bn1.runningMean],
      ["basic.after.bn2.running_var", bn2.runningVar],
    ]);
  },
);

gpuTest(
  "wide-resnet group-first block (5→7, stride 2, 9×9) matches PyTorch: train, backward, eval",
  async (e) => {
    const { tensors } = await blocks();
    const load = loader(e, tensors);
    const x = load("wide.input", true);
    const w1 = load("wide.conv1.weight", true);
    const w2 = load("wide.conv2.weight", true);
    const ws = load("wide.shortcut.weight", true);
    const bn1 = bnState(load, "wide.bn1");
    const bn2 = bnState(load, "wide.bn2");

    // a = relu(bn1 x); out = conv2(dropout_p0(relu(bn2(conv1 a)))) + shortcut(a). Dropout with
    // p = 0 is the identity in PyTorch, so it is left out here.
    const forward = (training: boolean) => {
      const a = batchNorm2d(x, bn1, { training, relu: true });
      const h = batchNorm2d(conv2d(a, w1, { stride: 2, padding: 1 }), bn2, {
        training,
        relu: true,
      });
      return add(conv2d(h, w2, { stride: 1, padding: 1 }), conv2d(a, ws, { stride: 2 }));
    };

    const y = forward(true);
    e.tape.backward(y, load("wide.upstream"));
    await checkAll(tensors, [
      ["wide.output", y],
      ["wide.after.bn1.running_mean", bn1.runningMean],
      ["wide.after.bn1.running_var", bn1.runningVar],
      ["wide.after.bn2.running_mean", bn2.runningMean],
      ["wide.after.bn2.running_var", bn2.runningVar],
      ["wide.grad.input", x.grad],
      ["wide.grad.conv1.weight", w1.grad],
      ["wide.grad.conv2.weight", w2.grad],
      ["wide.grad.shortcut.weight", ws.grad],
      ["wide.grad.bn1.weight", bn1.weight.grad],
      ["wide.grad.bn1.bias", bn1.bias.grad],
      ["wide.grad.bn2.weight", bn2.weight.grad],
      ["wide.grad.bn2.bias", bn2.bias.grad],
    ]);

    const yEval = e.noGrad(() => forward(false));
    await checkAll(tensors, [["wide.eval_output", yEval]]);
  },
);
