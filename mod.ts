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

// Each part is also its own entry point (deno.json "exports"): ./engine, ./models, ./data,
// ./training, ./recipes; this root re-exports them all.
export * from "./engine/mod.ts";
export * from "./models/mod.ts";
export * from "./data/mod.ts";
export * from "./engine/train/mod.ts";
export * from "./tasks/recipes.ts";
