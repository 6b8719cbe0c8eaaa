// Running a trained model without training: a test-set pass (loss, predictions) and class probabilities.
import type { Engine } from "../engine/engine.ts";
import type { Module } from "../models/module.ts";
import type { GpuCifar } from "../data/gpu_dataset.ts";
import type { MeanStd } from "../data/transforms.ts";
import { crossEntropyParts } from "../engine/ops/loss.ts";

/** What one pass over a labelled set gives. */
export interface Evaluation {
  /** Mean softmax cross-entropy (with the given label smoothing). */
  loss: number;
  /** Percent correct, 0–100. */
  accuracy: number;
  /** Images evaluated. */
  images: number;
  /** [K·K] counts, row = true class, column = predicted class. */
  confusion: Uint32Array;
  /** The predicted class of every image, in set order. */
  predictions: Uint32Array;
  /** The true class of every image, in set order. */
  labels: Uint32Array;
  /** Each image's class probabilities (softmax of the logits), when asked for. */
  probabilities?: Float64Array[];
}

/**
 * Runs `model` in evaluation mode over `set` in order (no shuffle, no augmentation), reading each
 * batch's losses and argmax predictions back (one readback a batch).
 */
export async function evaluate(
  engine: Engine,
  model: Module,
  set: GpuCifar,
  options: { classes: number; smoothing?: number; probabilities?: boolean },
): Promise<Evaluation> {
  const K = options.classes;
  const confusion = new Uint32Array(K * K);
  const predictions = new Uint32Array(set.length);
  const labels = new Uint32Array(set.length);
  const probabilities: Float64Array[] | undefined = options.probabilities ? [] : undefined;
  let lossSum = 0;
  set.beginEpoch(0, 0, { shuffle: false });
  for (let i = 0; i < set.batches; i++) {
    const out = engine.noGrad(() =>
      engine.scope(() => {
        const b = set.batch(i);
        const logits = model.forward(b.x, { training: false });
        const parts = crossEntropyParts(logits, b.y, { smoothing: options.smoothing ?? 0 });
        parts.grad.dispose();
        return { loss: parts.rowLoss, pred: parts.pred, y: b.y, logits };
      })
    );
    const tensors = [out.loss, out.pred, out.y, out.logits];
    const [loss, pred, y, logits] = await Promise.all(
      tensors.slice(0, probabilities ? 4 : 3).map((t) => engine.read(t)),
    );
    for (const t of tensors) t.dispose();
    probabilities?.push(...softmaxRows(logits, pred.length, K));
    const at = i * set.batchSize;
    for (let r = 0; r < pred.length; r++) {
      lossSum += loss[r];
      predictions[at + r] = pred[r];
      labels[at + r] = y[r];
      confusion[y[r] * K + pred[r]]++;
    }
  }
  let correct = 0;
  for (let c = 0; c < K; c++) correct += confusion[c * K + c];
  return {
    loss: lossSum / set.length,
    accuracy: (100 * correct) / set.length,
    images: set.length,
    confusion,
    predictions,
    labels,
    probabilities,
  };
}

/** Softmax of each row of logits [N, K] in float64. */
export function softmaxRows(logits: ArrayLike<number>, n: number, k: number): Float64Array[] {
  const rows: Float64Array[] = [];
  for (let i = 0; i < n; i++) {
    let max = -Infinity;
    for (let j = 0; j < k; j++) max = Math.max(max, logits[i * k + j]);
    const p = new Float64Array(k);
    let sum = 0;
    for (let j = 0; j < k; j++) sum += p[j] = Math.exp(logits[i * k + j] - max);
    for (let j = 0; j < k; j++) p[j] /= sum;
    rows.push(p);
  }
  return rows;
}

/**
 * Class probabilities of images given in pixel units (f32 [n, 3, 32, 32], 0–255): standardized
 * with `stats` as (pixel − mean) / std, then the model in evaluation mode, up to 100 at a time.
 */
export async function classify(
  engine: Engine,
  model: Module,
  images: Float32Array,
  stats: MeanStd,
): Promise<Float64Array[]> {
  const PLANE = 32 * 32, IMAGE = 3 * PLANE, CHUNK = 100;
  const n = images.length / IMAGE;
  const out: Float64Array[] = [];
  for (let first = 0; first < n; first += CHUNK) {
    const count = Math.min(CHUNK, n - first);
    const x = new Float32Array(count * IMAGE);
    for (let i = 0; i < count * IMAGE; i++) {
      const c = Math.floor(i / PLANE) % 3;
      x[i] = (images[first * IMAGE + i] - stats.mean[c]) / stats.std[c];
    }
    const logits = engine.noGrad(() =>
      engine.scope(() => {
        const t = engine.tensor([count, 3, 32, 32]);
        engine.write(t, x);
        return model.forward(t, { training: false });
      })
    );
    const values = await engine.read(logits);
    const k = logits.shape[1];
    logits.dispose();
    out.push(...softmaxRows(values, count, k));
  }
  return out;
}
