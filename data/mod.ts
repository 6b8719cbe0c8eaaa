/**
 * CIFAR-10: found in a folder, an archive or a URL (downloaded and MD5-checked when asked), the CPU
 * transforms, and `GpuCifar`, a split kept on the GPU as bytes whose batches one kernel builds.
 *
 * @example
 * ```ts
 * import { Engine } from "@resnet-webgpu/resnet-webgpu/engine";
 * import { cifar10, GpuCifar, meanStd } from "@resnet-webgpu/resnet-webgpu/data";
 * const engine = await Engine.create();
 * const d = await cifar10(); // --data / $CIFAR10_DIR, ./data, or the official archive
 * const stats = meanStd(d.x, d.n);
 * const trainSet = GpuCifar.upload(engine, { images: d.x, labels: d.y, n: d.n }, {
 *   stats,
 *   batchSize: 125,
 *   augment: true,
 * });
 * ```
 * @module
 */

export { type Cifar10, cifar10, type Cifar10Options } from "./cifar10.ts";
export type { SourceOptions } from "./source.ts";
export type { CifarArrays } from "./cifar_files.ts";
export { type ImageSet, type MeanStd, meanStd } from "./transforms.ts";
export { type GpuBatch, GpuCifar, type GpuCifarOptions } from "./gpu_dataset.ts";
