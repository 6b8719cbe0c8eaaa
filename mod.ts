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
export { type BindValue, Engine, type UniformValues } from "./engine/engine.ts";
export { grid } from "./engine/grid.ts";
export { type KernelSource, kernelSource } from "./engine/kernel.ts";
export { BufferPool } from "./engine/buffer_pool.ts";
export { type DType, Tensor } from "./engine/tensor.ts";
export { Tape } from "./engine/tape.ts";
export { type ParamSpec, ParamStore } from "./engine/params.ts";
export { SGD, type SgdOptions } from "./engine/optim.ts";
export { PlannedStep, type PlanOptions, planStep } from "./engine/planned_step.ts";
export { add, mul, relu, reluBackward, scale } from "./engine/ops/elementwise.ts";
export { linear, matmul, matmulRaw, sumRows } from "./engine/ops/matmul.ts";
export { mean, sum } from "./engine/ops/reduce.ts";
export {
  type CrossEntropyOptions,
  crossEntropyParts,
  softmaxCrossEntropy,
} from "./engine/ops/loss.ts";
export {
  conv2d,
  conv2dBackwardInput,
  conv2dBackwardWeight,
  conv2dForward,
  type Conv2dOptions,
} from "./engine/ops/conv2d/mod.ts";
export { tuneConv2d } from "./engine/ops/conv2d/tune.ts";
export {
  batchNorm2d,
  type BatchNormOptions,
  type BatchNormState,
} from "./engine/ops/batch_norm.ts";
export { adaptiveAvgPool2d, avgPool2d, flatten, maxPool2d } from "./engine/ops/pool.ts";
export { dropout } from "./engine/ops/dropout.ts";
export { matmulVec4 } from "./engine/ops/matmul_vec4.ts";
export { biasUniform, kaimingUniform, mulberry32 } from "./engine/init.ts";
export { type Cifar10, cifar10, type Cifar10Options } from "./data/cifar10.ts";
export { cropFlip, flip, type MeanStd, meanStd, zscore } from "./data/transforms.ts";
export { type Batch, GpuCifar, type GpuCifarOptions } from "./data/gpu_dataset.ts";
export { epochOrder } from "./data/random.ts";
export { formatSpec, type LayerSpec, type ModelSpec, parameterCount } from "./models/spec.ts";
export {
  basic,
  bottle,
  resnet,
  resnet101,
  resnet152,
  resnet18,
  resnet18a,
  resnet34,
  resnet34a,
  resnet50,
} from "./models/resnet.ts";
export { widenet } from "./models/widenet.ts";
export { formatSummary, type Summary, summary } from "./models/summary.ts";
export { type ForwardOptions, Module, module } from "./models/module.ts";
export {
  loadCheckpoint,
  loadStateDict,
  openCheckpoint,
  saveCheckpoint,
  stateDict,
} from "./models/checkpoint.ts";
export { decodeSafetensors, encodeSafetensors } from "./models/safetensors.ts";
export {
  type EpochResult,
  train,
  TrainingDivergedError,
  type TrainOptions,
  type TrainResult,
} from "./engine/train/trainer.ts";
export { cosineLr } from "./engine/train/schedule.ts";
export { epochLine, mistakesTable, perClassTable } from "./engine/train/format.ts";
export { RECIPES } from "./tasks/recipes.ts";
