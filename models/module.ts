// A model on the GPU: a spec's parameters in a ParamStore and its forward pass through the engine's ops.
import type { Engine } from "../engine/engine.ts";
import type { Tensor } from "../engine/tensor.ts";
import { type ParamSpec, ParamStore } from "../engine/params.ts";
import { biasUniform, kaimingUniform } from "../engine/init.ts";
import { mixSeed, mulberry32 } from "../engine/random.ts";
import { conv2d } from "../engine/ops/conv2d/mod.ts";
import { batchNorm2d, type BatchNormState } from "../engine/ops/batch_norm.ts";
import { adaptiveAvgPool2d, avgPool2d, flatten, maxPool2d } from "../engine/ops/pool.ts";
import { dropout } from "../engine/ops/dropout.ts";
import { linear } from "../engine/ops/matmul.ts";
import { add, relu } from "../engine/ops/elementwise.ts";
import {
  type BatchNorm2dSpec,
  batchNormNames,
  joinName,
  type LayerSpec,
  modelTitle,
  type ParamInfo,
  paramInfos,
} from "./spec.ts";
import { type Summary, summary } from "./summary.ts";

/** Options of {@linkcode module}. */
export interface ModuleOptions {
  /** Seed of the parameter initialization and of the dropout masks (default 0). */
  seed?: number;
}

/** Options of {@linkcode Module.forward}. */
export interface ForwardOptions {
  /** Batch statistics, running-statistics updates and dropout (true) or evaluation (false). */
  training: boolean;
  /**
   * Seed of this call's dropout masks (default: derived from the module seed and a call counter).
   * A function is a per-step seed: called at once eagerly, at every replay of a planned step.
   */
  seed?: number | (() => number);
}

/** Initial values of one parameter or buffer, as torch.nn initializes it. */
export function initialValues(p: ParamInfo, random: () => number): Float32Array | number {
  switch (p.role) {
    case "conv_weight":
    case "linear_weight":
      return kaimingUniform(p.shape, random);
    case "conv_bias":
    case "linear_bias":
      return biasUniform(p.shape[0], p.fanIn, random);
    case "bn_weight":
    case "bn_running_var":
      return 1;
    case "bn_bias":
    case "bn_running_mean":
      return 0;
  }
}

interface Run {
  training: boolean;
  seed: number | (() => number);
  dropouts: number;
  /** Free intermediates as soon as they are used (nothing is recorded on the tape). */
  eager: boolean;
}

/**
 * A model built from a spec: every parameter and buffer in one {@linkcode ParamStore} under its
 * PyTorch name, and a forward pass that records only GPU work (no readbacks), fusing BN + ReLU
 * and BN + residual + ReLU. `engine.tape.backward(loss)` then fills every parameter's `.grad`.
 */
export class Module {
  /** The engine the parameters live on. */
  readonly engine: Engine;
  /** The spec the module was built from. */
  readonly spec: LayerSpec;
  /** Parameters (trainable, with `.grad`) and running statistics. */
  readonly params: ParamStore;
  /** Names of the batch-norm layers (for `num_batches_tracked` in checkpoints). */
  readonly batchNorms: readonly string[];
  #bn = new Map<string, BatchNormState>();
  #seed: number;
  #calls = 0;

  /** Allocates `spec`'s parameters; prefer {@linkcode module}. */
  constructor(engine: Engine, spec: LayerSpec, options: ModuleOptions = {}) {
    this.engine = engine;
    this.spec = spec;
    this.#seed = (options.seed ?? 0) >>> 0;
    const random = mulberry32(this.#seed);
    const specs: ParamSpec[] = paramInfos(spec).map((p) => ({
      name: p.name,
      shape: p.shape,
      init: initialValues(p, random),
      trainable: p.trainable,
    }));
    this.params = new ParamStore(engine, specs);
    this.batchNorms = batchNormNames(spec);
    for (const n of this.batchNorms) {
      this.#bn.set(n, {
        weight: this.params.get(`${n}.weight`),
        bias: this.params.get(`${n}.bias`),
        runningMean: this.params.get(`${n}.running_mean`),
        runningVar: this.params.get(`${n}.running_var`),
      });
    }
  }

  /** Outputs of the model: the `classes` of a model spec, else the last linear layer's width. */
  get classes(): number {
    const c = (this.spec as { classes?: number }).classes;
    if (c !== undefined) return c;
    const outs = paramInfos(this.spec).filter((p) =>
      p.name.endsWith(".weight") && p.shape.length === 2
    );
    if (!outs.length) throw new TypeError(`${modelTitle(this.spec)} has no linear output layer`);
    return outs[outs.length - 1].shape[0];
  }

  /**
   * Runs the model on x [N, C, H, W] and returns its output (logits [N, classes]).
   * Records dispatches (and tape entries when gradients are enabled); never reads back.
   * Under `engine.noGrad` intermediates are freed as soon as they are used.
   */
  forward(x: Tensor, options: ForwardOptions): Tensor {
    const seed = options.seed ?? this.#nextSeed();
    const run: Run = {
      training: options.training,
      seed,
      dropouts: 0,
      eager: !this.engine.gradEnabled,
    };
    return this.#layer(this.spec, x, "", run);
  }

  /** Every parameter and buffer with its name, parameters first, in declaration order. */
  named(): [string, Tensor][] {
    return [...this.params.params, ...this.params.buffers].map((t) => [t.name, t]);
  }

  /** The parameter or buffer called `name` (throws naming it when there is none). */
  get(name: string): Tensor {
    return this.params.get(name);
  }

  /** Reads one named tensor back (a sync point). */
  read(name: string): Promise<Float32Array> {
    return this.params.read(name);
  }

  /** Overwrites one named tensor. */
  write(name: string, data: ArrayLike<number>): void {
    this.params.write(name, data);
  }

  /** Every parameter's gradient from the last backward, by name (one read of the flat buffer). */
  async readGradients(): Promise<Map<string, Float32Array>> {
    const store = this.params;
    const flat = (await this.engine.read(store.grads)) as Float32Array;
    const out = new Map<string, Float32Array>();
    for (const p of store.params) {
      const at = (p.grad!.offset - store.grads.offset) / 4;
      out.set(p.name, flat.slice(at, at + p.size));
    }
    return out;
  }

  /** Number of trainable elements. */
  get parameterCount(): number {
    return this.params.count;
  }

  /** Shapes, parameters and FLOPs of every layer for one input size (default [3, 32, 32]). */
  summary(input?: number[]): Summary {
    return summary(this.spec, { input });
  }

  /** Frees the parameter buffers. */
  dispose(): void {
    this.params.dispose();
  }

  /** The next call's seed; in a planned step a function whose call index advances per replay. */
  #nextSeed(): number | (() => number) {
    let call = this.#calls++;
    if (!this.engine.planning) return mixSeed(this.#seed, call);
    this.engine.onReplay(() => {
      call = this.#calls++;
    });
    return () => mixSeed(this.#seed, call);
  }

  #layer(l: LayerSpec, x: Tensor, at: string, run: Run): Tensor {
    const name = joinName(at, l.name);
    const p = (n: string) => this.params.get(`${name}.${n}`);
    switch (l.kind) {
      case "conv2d":
        return conv2d(x, p("weight"), {
          stride: l.stride,
          padding: l.padding,
          bias: l.bias ? p("bias") : null,
        });
      case "batchnorm2d":
        return this.#batchNorm(l, x, name, run, {});
      case "relu":
        return relu(x);
      case "maxpool2d":
        return maxPool2d(x, { kernel: l.kernel, stride: l.stride, padding: l.padding });
      case "avgpool2d":
        return avgPool2d(x, l.kernel);
      case "adaptavg2d":
        return adaptiveAvgPool2d(x);
      case "flatten":
        return flatten(x);
      case "linear":
        return linear(x, p("weight"), l.bias ? p("bias") : null);
      case "dropout": {
        const j = run.dropouts++;
        if (!(run.training && l.p > 0)) return x;
        const s = run.seed;
        const seed = typeof s === "function" ? () => mixSeed(s(), j) : mixSeed(s, j);
        return dropout(x, l.p, { training: true, seed });
      }
      case "sequential":
        return this.#list(l.layers, x, name, run);
      case "residual": {
        const a = this.#list(l.pre, x, name, run);
        const s = l.shortcut ? this.#layer(l.shortcut, a, name, run) : a;
        let y = this.#list(l.body, a, name, run, { residual: s, relu: l.relu });
        if (!(l.body.at(-1)?.kind === "batchnorm2d")) {
          y = this.#step(y, add(y, s), run);
          if (l.relu) y = this.#step(y, relu(y), run);
        }
        if (run.eager) {
          for (const t of [a, s]) if (t !== x && t.buffer !== y.buffer) t.dispose();
        }
        return y;
      }
    }
  }

  /** Runs a list of layers, fusing BN + ReLU, and BN + `tail` residual (+ ReLU) at the end. */
  #list(
    layers: LayerSpec[],
    x: Tensor,
    at: string,
    run: Run,
    tail?: { residual: Tensor; relu: boolean },
  ): Tensor {
    let h = x;
    for (let i = 0; i < layers.length; i++) {
      const l = layers[i];
      let y: Tensor;
      if (l.kind === "batchnorm2d") {
        const name = joinName(at, l.name);
        if (tail && i === layers.length - 1) {
          y = this.#batchNorm(l, h, name, run, tail);
        } else if (layers[i + 1]?.kind === "relu") {
          y = this.#batchNorm(l, h, name, run, { relu: true });
          i++;
        } else y = this.#batchNorm(l, h, name, run, {});
      } else y = this.#layer(l, h, at, run);
      h = h === x ? y : this.#step(h, y, run);
    }
    return h;
  }

  /** Returns `next`, freeing `prev` first when running eagerly and it is not shared. */
  #step(prev: Tensor, next: Tensor, run: Run): Tensor {
    if (run.eager && prev !== next && prev.buffer !== next.buffer) prev.dispose();
    return next;
  }

  #batchNorm(
    l: BatchNorm2dSpec,
    x: Tensor,
    name: string,
    run: Run,
    fuse: { residual?: Tensor; relu?: boolean },
  ): Tensor {
    return batchNorm2d(x, this.#bn.get(name)!, {
      training: run.training,
      momentum: l.momentum,
      eps: l.eps,
      relu: fuse.relu ?? false,
      residual: fuse.residual,
    });
  }
}

/**
 * Allocates a spec's parameters (torch.nn default initialization from `seed`) and returns the module.
 *
 * @example
 * ```ts
 * const m = module(engine, resnet18a(10), { seed: 1 });
 * const logits = m.forward(images, { training: true });
 * engine.tape.backward(softmaxCrossEntropy(logits, labels));
 * ```
 */
export function module(engine: Engine, spec: LayerSpec, options: ModuleOptions = {}): Module {
  return new Module(engine, spec, options);
}
