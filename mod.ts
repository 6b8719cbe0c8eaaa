/**
 * A WebGPU deep-learning engine in TypeScript on Deno that trains residual networks on
 * CIFAR-10: hand-written WGSL kernels, an autograd tape, the model builders, the data loader
 * and the trainer. This module is the public API; plumbing (the buffer pool, the tape class,
 * raw kernel directions, codecs, table formatters) stays importable from its own file.
 *
 * @example Train the ResNet recipe
 * ```ts
 * import { cifar10, Engine, GpuCifar, meanStd, module, moduleCheckpointer, RECIPES, train } from "./mod.ts";
 * const engine = await Engine.create();
 * const d = await cifar10(); // $CIFAR10_DIR, ./data, or the official archive, downloaded
 * const stats = meanStd(d.x, d.n);
 * const r = RECIPES.res;
 * const trainSet = GpuCifar.upload(engine, { images: d.x, labels: d.y, n: d.n }, { stats, batchSize: r.batch, mirror: r.mirror });
 * const testSet = GpuCifar.upload(engine, { images: d.X, labels: d.Y, n: d.nTest }, { stats, batchSize: r.testBatch });
 * const model = module(engine, r.spec(), { seed: 0 });
 * await train(engine, model, trainSet, testSet, { epochs: r.epochs, ...r.sgd, checkpointer: moduleCheckpointer(model, { stats }) });
 * await engine.close();
 * ```
 *
 * @example Ops and gradients by hand
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
 * await engine.close();
 * ```
 * @module
 */

// The engine: device, tensors, scopes and the tape (engine/).
/** The engine, its adapter and its errors. */
export { type BindValue, Engine, type UniformValues } from "./engine/engine.ts";
export {
  describeGpu,
  DeviceError,
  type Gpu,
  type GpuOptions,
  NoAdapterError,
} from "./engine/device.ts";
export { type DType, Tensor } from "./engine/tensor.ts";
export { type ParamSpec, ParamStore } from "./engine/params.ts";
export { SGD, type SgdOptions } from "./engine/optim.ts";
/** Steps planned once and replayed (the trainer's and the bench's steps). */
export { PlannedStep, type PlanOptions, planStep } from "./engine/planned_step.ts";
/** Where GPU time goes: each dispatch of a function timed on its own (needs timestamp-query). */
export {
  type DispatchTime,
  type KernelTime,
  kernelTimes,
  profileDispatches,
} from "./engine/profile.ts";

// Ops with gradients (engine/ops/): each records its dispatches and its backward on the tape.
export { add, mul, relu, scale } from "./engine/ops/elementwise.ts";
export { linear, matmul } from "./engine/ops/matmul.ts";
export { mean, sum } from "./engine/ops/reduce.ts";
export { type CrossEntropyOptions, softmaxCrossEntropy } from "./engine/ops/loss.ts";
export {
  conv2d,
  type Conv2dMode,
  type Conv2dOptions,
  setConv2dMode,
} from "./engine/ops/conv2d/mod.ts";
export { tuneConv2d } from "./engine/ops/conv2d/tune.ts";
export {
  batchNorm2d,
  type BatchNormOptions,
  type BatchNormState,
} from "./engine/ops/batch_norm.ts";
export {
  adaptiveAvgPool2d,
  avgPool2d,
  flatten,
  maxPool2d,
  type MaxPoolOptions,
} from "./engine/ops/pool.ts";
export { dropout, type DropoutOptions } from "./engine/ops/dropout.ts";

// Models (models/): plain specs, their builders, modules on the GPU, checkpoints.
/** Layer spec builders (`layers.conv2d(…)`), named apart from the ops above. */
export * as layers from "./models/layers.ts";
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
  type ResnetOptions,
  type ResnetStem,
} from "./models/resnet.ts";
export { widenet } from "./models/widenet.ts";
export { formatSummary, type Summary, summary } from "./models/summary.ts";
export { type ForwardOptions, Module, module, type ModuleOptions } from "./models/module.ts";
export {
  type DataStats,
  loadCheckpoint,
  loadStateDict,
  moduleCheckpointer,
  openCheckpoint,
  type OpenedCheckpoint,
  saveCheckpoint,
  stateDict,
} from "./models/checkpoint.ts";

// Data (data/): CIFAR-10 from a folder, an archive or a URL; batches built on the GPU.
export { type Cifar10, cifar10, type Cifar10Options } from "./data/cifar10.ts";
export { cropFlip, flip, type MeanStd, meanStd, zscore } from "./data/transforms.ts";
export { GpuCifar, type GpuCifarOptions } from "./data/gpu_dataset.ts";

// The trainer (engine/train/), on small interfaces that data/ and models/ implement.
export {
  type EpochResult,
  train,
  TrainingDivergedError,
  type TrainOptions,
  type TrainResult,
} from "./engine/train/trainer.ts";
export type {
  Batch,
  BatchSource,
  Checkpointer,
  Trainable,
  TrainPosition,
} from "./engine/train/interfaces.ts";
export { cosineLr } from "./engine/train/schedule.ts";

// The recipes (tasks/recipes.ts): what `deno task train:res` and `train:wide` run.
export { epochImages, type Recipe, type RecipeName, RECIPES } from "./tasks/recipes.ts";
