/**
 * The engine: the WebGPU device, tensors, parameters, the autograd tape, SGD, planned steps, the
 * per-dispatch profiler, and the ops with gradients (each records its dispatches and pushes its
 * backward onto the tape).
 *
 * @example Ops and gradients by hand
 * ```ts
 * import { Engine, linear, ParamStore, SGD, softmaxCrossEntropy } from "@resnet-webgpu/resnet-webgpu/engine";
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

export { type BindValue, Engine, type UniformValues, type Workgroups } from "./engine.ts";
export {
  describeGpu,
  DeviceError,
  type Gpu,
  type GpuLimitsMode,
  type GpuOptions,
  NoAdapterError,
} from "./device.ts";
export { DeviceLostError, GpuError } from "./device_errors.ts";
export { deviceMemory, measureStep, type StepMemory } from "./step_memory.ts";
export { WriteError, type WriteStep } from "./write_error.ts";
export { type DType, Tensor } from "./tensor.ts";
export { type ParamSpec, ParamStore } from "./params.ts";
export { SGD, type SgdOptions } from "./optim.ts";
export type { Tape, TapeEntry } from "./tape.ts";
export type { BufferPool } from "./buffer_pool.ts";
export type { Binding, CompiledKernel, KernelCache, KernelSource, Member } from "./kernel.ts";
export type { DispatchSink } from "./step_recording.ts";
export { PlannedStep, type PlanOptions, planStep } from "./planned_step.ts";
export { type DispatchTime, type KernelTime, kernelTimes, profileDispatches } from "./profile.ts";

export { add, mul, relu, scale } from "./ops/elementwise.ts";
export { linear, matmul } from "./ops/matmul.ts";
export {
  mean,
  type ReduceFamily,
  type ReduceState,
  type ReduceVariant,
  sum,
} from "./ops/reduce.ts";
export { type FamilyTuning, type ReduceTuning, tuneReduce } from "./ops/reduce_tune.ts";
export { type CrossEntropyOptions, softmaxCrossEntropy } from "./ops/loss.ts";
export { conv2d, type Conv2dMode, type Conv2dOptions, type Conv2dState } from "./ops/conv2d/mod.ts";
export {
  tuneConv2d,
  type TuneOptions,
  type TuneResult,
  type TuneShape,
} from "./ops/conv2d/measure.ts";
export type { Conv2dConfig, Conv2dDirection, Conv2dVariant } from "./ops/conv2d/choice.ts";
export { batchNorm2d, type BatchNormOptions, type BatchNormState } from "./ops/batch_norm.ts";
export {
  adaptiveAvgPool2d,
  avgPool2d,
  flatten,
  maxPool2d,
  type MaxPoolOptions,
} from "./ops/pool.ts";
export { dropout, type DropoutOptions } from "./ops/dropout.ts";
