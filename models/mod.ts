/**
 * Models: plain JSON specs built from `layers`, the ResNet and Wide-ResNet builders, summaries
 * (shapes, parameters, FLOPs), `module` to allocate a spec on the GPU with PyTorch's default init
 * and names, and checkpoints (safetensors, loadable in PyTorch).
 *
 * @example
 * ```ts
 * import { Engine } from "@resnet-webgpu/resnet-webgpu/engine";
 * import { formatSummary, module, summary, widenet } from "@resnet-webgpu/resnet-webgpu/models";
 * const spec = widenet(16, 8, 0.3, 10); // WRN-16-8
 * console.log(formatSummary(summary(spec)));
 * const model = module(await Engine.create(), spec, { seed: 0 });
 * ```
 * @module
 */

/** Layer spec builders (`layers.conv2d(…)`), named apart from the engine's ops. */
export * as layers from "./layers.ts";
export {
  type AdaptiveAvgPool2dSpec,
  type AvgPool2dSpec,
  type BatchNorm2dSpec,
  type Conv2dSpec,
  type DropoutSpec,
  type FlattenSpec,
  formatSpec,
  type FormatSpecOptions,
  type LayerSpec,
  type LinearSpec,
  type MaxPool2dSpec,
  type ModelSpec,
  parameterCount,
  type ReluSpec,
  type ResidualSpec,
  type SequentialSpec,
} from "./spec.ts";
export {
  basic,
  type BlockKind,
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
} from "./resnet.ts";
export { widenet, type WidenetOptions } from "./widenet.ts";
export { formatSummary, type Summary, summary, type SummaryRow } from "./summary.ts";
export { type ForwardOptions, Module, module, type ModuleOptions } from "./module.ts";
export {
  type CheckpointerOptions,
  type DataStats,
  loadCheckpoint,
  type LoadOptions,
  loadStateDict,
  moduleCheckpointer,
  openCheckpoint,
  type OpenedCheckpoint,
  saveCheckpoint,
  type SaveOptions,
  stateDict,
  type TrainingState,
} from "./checkpoint.ts";
export { type CheckpointStore, MemoryCheckpoints } from "./checkpoint_store.ts";
export type {
  SafeTensor,
  SafeTensorInput,
  Safetensors,
  SafetensorsData,
  SafetensorsDType,
} from "./safetensors.ts";
