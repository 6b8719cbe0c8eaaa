/**
 * A WebGPU deep-learning engine in TypeScript on Deno that trains residual networks on
 * CIFAR-10: hand-written WGSL kernels, an autograd tape, the model builders, the data loader
 * and the trainer.
 *
 * @example
 * ```ts
 * import { Engine, linear, ParamStore, SGD, softmaxCrossEntropy } from "./mod.ts";
 * const engine = await Engine.create();
 * const store = new ParamStore(engine, [{ name: "w", shape: [10, 4], init: 0.1 }]);
 * const x = engine.upload(new Float32Array(8 * 4).fill(1), [8, 4]);
 * const y = engine.upload(new Uint32Array(8), [8], "u32");
 * const opt = new SGD(store, { lr: 0.1, momentum: 0.9, nesterov: true });
 * engine.scope(() => {
 *   engine.tape.backward(softmaxCrossEntropy(linear(x, store.get("w")), y));
 *   opt.step();
 * });
 * await engine.sync();
 * ```
 * @module
 */
export { describeGpu, DeviceError, type Gpu, NoAdapterError } from "./engine/device.ts";
export { type BindValue, Engine } from "./engine/engine.ts";
export { grid } from "./engine/grid.ts";
export { type KernelSource, kernelSource } from "./engine/kernel.ts";
export { BufferPool } from "./engine/pool.ts";
export { type DType, Tensor } from "./engine/tensor.ts";
export { Tape } from "./engine/tape.ts";
export { type ParamSpec, ParamStore } from "./engine/params.ts";
export { SGD, type SgdOptions } from "./engine/optim.ts";
export { add, mul, relu, reluBackward, scale } from "./engine/ops/elementwise.ts";
export { linear, matmul, matmulRaw, sumRows } from "./engine/ops/matmul.ts";
export { mean, sum } from "./engine/ops/reduce.ts";
export {
  type CrossEntropyOptions,
  crossEntropyParts,
  softmaxCrossEntropy,
} from "./engine/ops/loss.ts";
