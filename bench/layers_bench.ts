// Benchmark of the memory-bound layers: batch norm (train forward/backward), pooling, dropout.
// Standalone: deno run -A bench/layers_bench.ts --batch 16 [--reps 7]
import { Engine } from "../engine/engine.ts";
import type { Tensor } from "../engine/tensor.ts";
import { uniformTensor } from "../engine/random.ts";
import {
  batchNormBackward,
  batchNormForward,
  type BatchNormState,
} from "../engine/ops/batch_norm.ts";
import { adaptiveAvgPool2d, avgPool2d, maxPool2d } from "../engine/ops/pool.ts";
import { dropout } from "../engine/ops/dropout.ts";

/** One measured layer: median wall time of submit + onSubmittedWorkDone, and bytes moved per ms. */
export interface LayerRow {
  name: string;
  shape: number[];
  ms: number;
  gbps: number;
}

/** [C, H] of every distinct batch-norm input of resnet18a and WRN-16-8 on 32×32 images. */
const BN_SHAPES: [string, number, number][] = [
  ["resnet18a", 64, 32],
  ["resnet18a", 128, 16],
  ["resnet18a", 256, 8],
  ["resnet18a", 512, 4],
  ["wrn-16-8", 16, 32],
  ["wrn-16-8", 128, 32],
  ["wrn-16-8", 256, 16],
  ["wrn-16-8", 512, 8],
];

async function time(e: Engine, reps: number, fn: () => void): Promise<number> {
  const once = async () => {
    const t0 = performance.now();
    e.scope(fn);
    e.flush();
    await e.device.queue.onSubmittedWorkDone();
    return performance.now() - t0;
  };
  await once();
  await once();
  const ms: number[] = [];
  for (let i = 0; i < reps; i++) ms.push(await once());
  e.throwIfFailed();
  return ms.sort((a, b) => a - b)[Math.floor(reps / 2)];
}

/**
 * Times batch norm forward/backward (training, with ReLU) at every distinct BN shape of
 * resnet18a and WRN-16-8, max/avg/adaptive pooling and dropout, for one batch size.
 * GB/s counts the bytes each op must read and write at least once per pass it makes.
 */
export async function benchLayers(
  engine: Engine,
  { batch, reps = 7, want = () => true }: {
    batch: number;
    reps?: number;
    /** Rows to measure, by their name and shape as `name [N,C,H,W]`; default all. */
    want?: (name: string) => boolean;
  },
): Promise<LayerRow[]> {
  const e = engine;
  const rows: LayerRow[] = [];
  const wanted = (name: string, shape: number[]) => want(`${name} [${shape.join(",")}]`);
  const add = async (name: string, shape: number[], bytes: number, fn: () => void) => {
    if (!wanted(name, shape)) return;
    const ms = await time(e, reps, fn);
    rows.push({ name, shape, ms, gbps: bytes / ms / 1e6 });
  };
  // The fixed cost of one submit + wait, included in every row below (~12 ms on lavapipe).
  const one = e.tensor([1]);
  await add("submit+wait overhead (fill 1 value)", [1], 4, () => e.fill(one, 0));
  one.dispose();
  for (const [model, c, h] of BN_SHAPES) {
    const shape = [batch, c, h, h];
    const label = `(${model})`;
    if (
      !wanted(`bn fwd train+relu ${label}`, shape) && !wanted(`bn bwd train+relu ${label}`, shape)
    ) {
      continue;
    }
    const n = batch * c * h * h;
    const x = uniformTensor(e, shape, 1, -2, 2);
    const gy = uniformTensor(e, shape, 2, -2, 2);
    const bn: BatchNormState = {
      weight: e.full([c], 1),
      bias: e.zeros([c]),
      runningMean: e.zeros([c]),
      runningVar: e.full([c], 1),
    };
    const opts = { training: true, relu: true };
    // Stats read x, apply reads x and writes y.
    await add(`bn fwd train+relu (${model})`, shape, 12 * n, () => {
      batchNormForward(x, bn, opts);
    });
    const f = batchNormForward(x, bn, opts);
    const saved = {
      x,
      y: f.y,
      mean: f.mean,
      invstd: f.invstd,
      weight: bn.weight,
      bias: bn.bias,
      residual: false,
      training: true,
      relu: true,
    };
    // Reduce reads gy and x (the ReLU mask is recomputed from x); dx reads them, writes dx.
    await add(`bn bwd train+relu (${model})`, shape, 20 * n, () => {
      batchNormBackward(gy, saved);
    });
    for (const t of [x, gy, f.y, f.mean, f.invstd, ...Object.values(bn)]) t.dispose();
  }
  const pool = async (name: string, shape: number[], op: (x: Tensor) => Tensor) => {
    if (!wanted(`${name} fwd`, shape) && !wanted(`${name} fwd+bwd`, shape)) return;
    const x = uniformTensor(e, shape, 1, -2, 2);
    x.requiresGrad = true;
    const n = x.size;
    const outBytes = e.scope(() => {
      const b = op(x).byteLength;
      e.tape.clear();
      return b;
    });
    await add(`${name} fwd`, shape, 0, () => {
      op(x);
      e.tape.clear();
    });
    if (rows.at(-1)?.name === `${name} fwd`) {
      rows.at(-1)!.gbps = (4 * n + outBytes) / rows.at(-1)!.ms / 1e6;
    }
    await add(`${name} fwd+bwd`, shape, 0, () => {
      const y = op(x);
      e.tape.backward(y, e.full(y.shape, 1));
    });
    if (rows.at(-1)?.name === `${name} fwd+bwd`) {
      rows.at(-1)!.gbps = (4 * n + outBytes) * 2 / rows.at(-1)!.ms / 1e6;
    }
    x.grad?.dispose();
    x.dispose();
  };
  await pool("maxpool 3/2/1", [batch, 64, 32, 32], (x) => maxPool2d(x));
  await pool("avgpool 8 (wrn head)", [batch, 512, 8, 8], (x) => avgPool2d(x, 8));
  await pool("adaptive avgpool (resnet head)", [batch, 512, 4, 4], adaptiveAvgPool2d);
  for (const shape of [[batch, 128, 32, 32], [batch, 512, 8, 8]]) {
    if (!wanted("dropout 0.3 fwd", shape)) continue;
    const x = uniformTensor(e, shape, 1, -2, 2);
    await add("dropout 0.3 fwd", shape, 8 * x.size, () => {
      dropout(x, 0.3, { training: true, seed: 1 });
    });
    x.dispose();
  }
  return rows;
}

if (import.meta.main) {
  const arg = (name: string, dflt: number) => {
    const i = Deno.args.indexOf(`--${name}`);
    return i >= 0 ? Number(Deno.args[i + 1]) : dflt;
  };
  const engine = await Engine.create();
  console.log(`adapter: ${engine.gpu.name}${engine.gpu.software ? " (software)" : ""}`);
  const rows = await benchLayers(engine, { batch: arg("batch", 16), reps: arg("reps", 7) });
  console.log(
    ["layer".padEnd(40), "shape".padEnd(18), "ms".padStart(10), "GB/s".padStart(8)].join(" "),
  );
  for (const r of rows) {
    console.log(
      [
        r.name.padEnd(40),
        `[${r.shape}]`.padEnd(18),
        r.ms.toFixed(3).padStart(10),
        r.gbps.toFixed(2).padStart(8),
      ]
        .join(" "),
    );
  }
  await engine.close();
}
