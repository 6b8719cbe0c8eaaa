// Softmax cross-entropy (optional label smoothing), mean over the batch, fused with its gradient.
import type { Tensor } from "../tensor.ts";
import code from "../../kernels/softmax_ce.wgsl" with { type: "text" };
import { sumInto } from "./reduce.ts";

const SRC = { name: "softmax_ce.wgsl", code };

/** Options of {@linkcode softmaxCrossEntropy}. */
export interface CrossEntropyOptions {
  /** Label smoothing ε: target (1 − ε)·onehot + ε/K, as torch's label_smoothing. */
  smoothing?: number;
}

/** The per-row parts of a cross-entropy: losses [N], predictions u32 [N], gradient [N, K]. */
export interface CrossEntropyParts {
  rowLoss: Tensor;
  pred: Tensor;
  grad: Tensor;
}

/** Runs the fused kernel: per-row losses, argmax predictions and the gradient of the mean. */
export function crossEntropyParts(
  logits: Tensor,
  labels: Tensor,
  options: CrossEntropyOptions = {},
): CrossEntropyParts {
  const [N, K] = logits.shape;
  if (logits.shape.length !== 2 || labels.size !== N || labels.dtype !== "u32") {
    throw new RangeError(
      `softmaxCrossEntropy: logits ${logits} and labels ${labels} (u32 [N]) disagree`,
    );
  }
  const smoothing = options.smoothing ?? 0;
  if (!(smoothing >= 0 && smoothing < 1)) {
    throw new RangeError(`softmaxCrossEntropy: smoothing ${smoothing} outside [0, 1)`);
  }
  const e = logits.engine;
  const rowLoss = e.tensor([N]);
  const pred = e.tensor([N], "u32");
  const grad = e.tensor([N, K]);
  e.run(SRC, "forward", {
    logits,
    labels,
    loss: rowLoss,
    grad,
    pred,
    p: { N, K, smoothing, gscale: 1 / N },
  }, Math.ceil(N / 64));
  return { rowLoss, pred, grad };
}

/** Mean softmax cross-entropy of logits [N, K] against u32 labels [N], as a [1] tensor. */
export function softmaxCrossEntropy(
  logits: Tensor,
  labels: Tensor,
  options: CrossEntropyOptions = {},
): Tensor {
  const e = logits.engine;
  const { rowLoss, pred, grad } = crossEntropyParts(logits, labels, options);
  pred.dispose();
  const loss = e.tensor([1]);
  sumInto(rowLoss, loss, 1 / rowLoss.size); // the batch mean, in the sum's measured variant
  rowLoss.dispose();
  if (e.gradEnabled && logits.requiresGrad) {
    e.record([logits], loss, (g) => {
      const gx = e.tensor(logits.shape);
      e.run(
        SRC,
        "backward",
        { g, saved: grad, out: gx, q: { n: grad.size } },
        Math.ceil(grad.size / 64),
      );
      grad.dispose();
      return [gx];
    });
  } else grad.dispose();
  return loss;
}
