// A batch the adapter cannot hold is refused before any work, naming the limit and what fits.
import { assert, assertEquals, assertRejects, assertStringIncludes } from "./assert.ts";
import { realCifarSource } from "./helpers.ts";
import { Engine } from "../engine/engine.ts";
import { GpuError } from "../engine/device_errors.ts";
import { SGD } from "../engine/optim.ts";
import { planStep } from "../engine/planned_step.ts";
import { measureStep } from "../engine/step_memory.ts";
import { softmaxCrossEntropy } from "../engine/ops/loss.ts";
import { module } from "../models/module.ts";
import { widenet } from "../models/widenet.ts";
import {
  checkMemory,
  fitsBatch,
  MemoryLimitError,
  memoryNeed,
  type MemoryQuestion,
} from "../engine/train/memory.ts";
import { RUN, run, Running } from "./train_process.ts";

const source = realCifarSource();
const TEST_LIMIT = 100;
const fmt = (n: number) => n.toLocaleString("en-US");

/** The boundary the training task computes for RUN's model (WRN-10-1) with --test-limit 100. */
async function boundary(): Promise<{ largest: number; message: string }> {
  const e = await Engine.create();
  try {
    const m = module(e, widenet(10, 1, 0, 10), { seed: 0 });
    const q: MemoryQuestion = { batch: 40000, testBatch: TEST_LIMIT, smoothing: 0, dataBytes: 0 };
    try {
      checkMemory(e, m, q);
    } catch (err) {
      if (err instanceof MemoryLimitError) {
        return { largest: err.largestBatch, message: err.message };
      }
      throw err;
    }
    throw new Error("batch 40,000 of WRN-10-1 fits this adapter: the test needs a smaller one");
  } finally {
    await e.close();
  }
}

/** A training step of WRN-10-1 at batch `b`, as a function planStep and measureStep both take. */
function trainStep(e: Engine, b: number) {
  const m = module(e, widenet(10, 1, 0, 10), { seed: 0 });
  const opt = new SGD(m.params, { lr: 0.1, momentum: 0.9, nesterov: true });
  return () => {
    const x = e.tensor([b, 3, 32, 32]), y = e.tensor([b], "u32");
    e.tape.backward(softmaxCrossEntropy(m.forward(x, { training: true, seed: () => 1 }), y));
    opt.step();
  };
}

Deno.test({
  name:
    "memory: the measured boundary batch is WebGPU's own (plans at it bind fine, one more image is refused)",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const { largest: B, message } = await boundary();
    assert(B > 0 && B < 40000, `largest batch ${B}`);
    assertStringIncludes(message, `the largest batch that fits is ${fmt(B)}`);
    assertStringIncludes(message, "over the adapter's maxStorageBufferBindingSize of");
    // Both sides from the same formula.
    const e = await Engine.create();
    try {
      const m = module(e, widenet(10, 1, 0, 10), { seed: 0 });
      const q = { batch: B, testBatch: TEST_LIMIT, smoothing: 0, dataBytes: 0 };
      assert(fitsBatch(e, m, q), `batch ${B} should fit`);
      assert(!fitsBatch(e, m, { ...q, batch: B + 1 }), `batch ${B + 1} should not`);
      const over = memoryNeed(e, m, { ...q, batch: B + 1 }).train.largest;
      assert(over.bytes > e.gpu.limits.maxStorageBufferBindingSize);

      // The real plan (buffers created, bind groups validated by WebGPU; nothing runs) at B: no
      // error, and the measure equals its bytes but for the plan's uniform slabs (64 KiB each).
      const atB = trainStep(e, B);
      const measured = measureStep(e, atB);
      const plan = planStep(e, atB);
      await e.sync();
      const slabs = plan.bytes - measured.bytes;
      assert(slabs > 0 && slabs % 65536 === 0 && slabs <= 16 * 65536, `slabs ${slabs} bytes`);
      plan.dispose();
      // At B + 1, WebGPU refuses the binding the measure named, by its size.
      planStep(e, trainStep(e, B + 1));
      const err = await assertRejects(() => e.sync(), GpuError) as GpuError;
      assertStringIncludes(err.message, `range ${over.bytes} exceeds`);
      // …and names the kernel the measure named (its bind group's error scope).
      assertEquals(err.kernel, over.kernel);
    } finally {
      await e.close();
    }
  },
});

Deno.test({
  name:
    "train task: a batch far too large and one just too large are refused before data upload and tuning; the boundary starts",
  sanitizeOps: false,
  sanitizeResources: false,
  ignore: !source,
  fn: async () => {
    const { largest: B } = await boundary();
    const tmp = await Deno.makeTempDir();
    const base = [...RUN, "--data", source!, "--test-limit", String(TEST_LIMIT)];
    try {
      for (const [batch, limit] of [[40000, 50000], [B + 1, B + 1]]) {
        const r = await run(tmp, [...base, "--batch", String(batch), "--limit", String(limit)]);
        assertEquals(r.code, 2, r.err);
        assertStringIncludes(
          r.err,
          `error: --batch ${batch}: a training batch of ${fmt(batch)} does not fit llvmpipe`,
        );
        assertStringIncludes(
          r.err,
          `; the largest batch that fits is ${fmt(B)} (--batch ${B})`,
        );
        assert(!/training on|tuning|measur/i.test(r.out), `started work:\n${r.out}`);
        // Tuning never ran: it would have written the tuning cache.
        assert(!(await Deno.stat(`${tmp}/conv2d-tune.json`).then(() => true, () => false)));
        assert(!(await Deno.stat(`${tmp}/runs/wide.safetensors.lock`).then(() => 1, () => 0)));
      }
      // At the boundary the check passes (its line shows) and the run goes on to the data.
      const ok = new Running(tmp, [...base, "--batch", String(B), "--limit", String(B)]);
      await ok.waitFor("out", /^memory: .* allowed$/m);
      ok.child.kill("SIGKILL");
      await ok.done;
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});
