// A step planned once and replayed: its dispatches recorded with fixed buffers, re-encoded per step.
import type { Engine } from "./engine.ts";
import type { Tensor } from "./tensor.ts";
import { StepRecording } from "./step_recording.ts";

/** Options of {@linkcode planStep}. */
export interface PlanOptions<I extends Record<string, Tensor>> {
  /**
   * Example inputs by name: the plan gets its own tensors of the same shapes and dtypes (the
   * step function receives those), and every replay copies the given tensors into them.
   */
  inputs?: I;
}

function describe(t: Tensor): string {
  return `[${t.shape.join(", ")}] ${t.dtype}`;
}

/**
 * One step (forward, loss, backward, optimizer — any GPU work) recorded once by running its
 * function, then replayed: a replay calls the per-step functions, writes their values with one
 * `queue.writeBuffer`, encodes `setPipeline` / `setBindGroup` / `dispatchWorkgroups` for the
 * recorded dispatches and submits once. No op code, tape, pool or cache runs again.
 *
 * Fixed at planning: every shape, every buffer (activations, gradients and workspaces in the
 * plan's own pool; parameters and other tensors from outside as they were bound), every kernel
 * and its constant uniforms. Per step: the inputs' contents, the contents of tensors bound from
 * outside, and uniforms that ops were given as functions (learning rate, dropout seed, batch
 * index), evaluated at every replay after the host work ops registered with `engine.onReplay`.
 */
export class PlannedStep<I extends Record<string, Tensor>, T> {
  /** The engine the plan records on. */
  readonly engine: Engine;
  /** The plan's own input tensors (write into them, or pass tensors to replay). */
  readonly inputs: I;
  /** What the step function returned: the plan's tensors, overwritten by every replay. */
  readonly outputs: T;
  #rec: StepRecording;
  #first = true;
  /** engine.submissions when this plan last recorded into the open encoder, else -1. */
  #pending = -1;
  #disposed = false;

  /** Built by {@linkcode planStep}; not called directly. */
  constructor(engine: Engine, rec: StepRecording, inputs: I, outputs: T) {
    this.engine = engine;
    this.#rec = rec;
    this.inputs = inputs;
    this.outputs = outputs;
  }

  /** Dispatches one replay encodes. */
  get dispatches(): number {
    return this.#rec.commands.length;
  }

  /** Dispatches per kernel entry point (`file:entry`, generated variants counted together). */
  dispatchesByKernel(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const c of this.#rec.commands) {
      const label = c.pipeline.label.replace(/\[[^\]]*\]/g, "");
      counts.set(label, (counts.get(label) ?? 0) + 1);
    }
    return counts;
  }

  /** Uniforms recomputed at every replay (the rest were packed once). */
  get perStepValues(): number {
    return this.#rec.perStepValues;
  }

  /** GPU bytes the plan owns: activations, gradients, workspaces and its uniform slabs. */
  get bytes(): number {
    return this.#rec.bytes;
  }

  /**
   * Records one step into the engine's open command encoder without submitting it (the next
   * `engine.flush()` does): runs the registered host work (not on the first replay: recording
   * did it), writes the per-step values, copies `inputs` into the plan's inputs and encodes the
   * dispatches in one compute pass. Throws naming the input on a shape or dtype mismatch.
   */
  record(inputs: Partial<I> = {}): void {
    if (this.#disposed) throw new Error("PlannedStep: replayed after dispose()");
    const e = this.engine;
    e.throwIfFailed();
    const copies: [Tensor, Tensor][] = [];
    for (const [name, t] of Object.entries(inputs)) {
      const own = (this.inputs as Record<string, Tensor>)[name];
      if (!own) {
        const known = Object.keys(this.inputs).join(", ") || "none";
        throw new TypeError(`PlannedStep: no input named "${name}" (the plan has: ${known})`);
      }
      if (!t) continue;
      if (t.dtype !== own.dtype || t.shape.join() !== own.shape.join()) {
        throw new RangeError(
          `PlannedStep: input "${name}" is ${describe(t)} but the step was planned for ${
            describe(own)
          }; plan another step for this shape`,
        );
      }
      if (t.disposed) throw new Error(`PlannedStep: input "${name}" (${t}) was disposed`);
      if (t !== own) copies.push([t, own]);
    }
    // The per-step slab holds one step's values: a second replay into the same submission
    // would overwrite the first one's, so that one is submitted first.
    if (this.#pending === e.submissions && this.#rec.perStepValues > 0) e.flush();
    if (!this.#first) { for (const fn of this.#rec.effects) fn(); }
    this.#first = false;
    this.#rec.writeValues();
    const enc = e.commandEncoder();
    for (const [src, dst] of copies) {
      enc.copyBufferToBuffer(src.buffer, src.offset, dst.buffer, dst.offset, src.byteLength);
    }
    const pass = enc.beginComputePass();
    this.#rec.encode(pass);
    pass.end();
    e.dispatches += this.#rec.commands.length;
    this.#pending = e.submissions;
  }

  /**
   * Runs one step: {@linkcode record}, then one submit (with any work recorded eagerly before
   * it). Returns {@linkcode outputs}.
   */
  replay(inputs: Partial<I> = {}): T {
    this.record(inputs);
    this.engine.flush();
    return this.outputs;
  }

  /** Destroys the plan's buffers (wait for its last replay first if its outputs matter). */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#rec.destroy();
  }
}

/**
 * Plans a step: runs `fn` once with every dispatch recorded (nothing runs on the GPU yet) and
 * returns the plan; each {@linkcode PlannedStep.replay} then runs the step. Inside `fn`, reads,
 * writes and flushes are refused; per-step numbers must reach the kernels as functions (a seed
 * function for `Module.forward`, `SGD.lr` read at each replay, a batch index function for
 * `GpuCifar.batch`). Shapes are fixed: plan once per batch size.
 *
 * @example
 * ```ts
 * const step = planStep(engine, ({ x, y }) => {
 *   const loss = softmaxCrossEntropy(model.forward(x, { training: true, seed: () => seed }), y);
 *   engine.tape.backward(loss);
 *   opt.step();
 *   return loss;
 * }, { inputs: { x: images, y: labels } });
 * for (const b of batches) step.replay({ x: b.x, y: b.y });
 * ```
 */
export function planStep<I extends Record<string, Tensor>, T>(
  engine: Engine,
  fn: (inputs: I) => T,
  options: PlanOptions<I> = {},
): PlannedStep<I, T> {
  const rec = new StepRecording(engine.device);
  const taped = engine.tape.length;
  try {
    const { inputs, outputs } = engine.capture(rec, () => {
      const inputs = {} as Record<string, Tensor>;
      for (const [name, t] of Object.entries(options.inputs ?? {})) {
        inputs[name] = engine.persistent(t.shape, t.dtype);
        inputs[name].name = name;
      }
      const outputs = engine.scope(() => fn(inputs as I));
      return { inputs: inputs as I, outputs };
    });
    if (engine.tape.length !== taped) {
      engine.tape.clear();
      throw new Error(
        "planStep: the step left ops on the tape; call backward inside it or run it under engine.noGrad",
      );
    }
    rec.finish();
    return new PlannedStep(engine, rec, inputs, outputs);
  } catch (e) {
    rec.destroy();
    throw e;
  }
}
