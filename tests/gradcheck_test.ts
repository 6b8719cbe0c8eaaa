// Finite-difference checks of the core ops' gradients on tiny shapes.
import { gpuTest, randn } from "./helpers.ts";
import { gradCheck } from "./gradcheck.ts";
import { add, mul, relu, scale } from "../engine/ops/elementwise.ts";
import { linear, matmul } from "../engine/ops/matmul.ts";
import { mean, sum } from "../engine/ops/reduce.ts";
import { softmaxCrossEntropy } from "../engine/ops/loss.ts";

gpuTest("finite differences: Σ relu(a·b + 0.5·a)·r", async (e) => {
  const r = e.upload(randn(6, 3), [6]);
  // keep inputs away from relu's kink (|x| > 0.2) so the difference quotient is smooth
  const a = Array.from(randn(6, 1), (v) => v + Math.sign(v) * 0.3);
  const b = Array.from(randn(6, 2), (v) => v + Math.sign(v) * 0.3);
  await gradCheck(
    e,
    [{ data: a, shape: [6] }, { data: b, shape: [6] }],
    ([x, y]) => sum(mul(relu(add(mul(x, y), scale(x, 0.5))), r)),
  );
});

gpuTest("finite differences: mean(A·B) and a linear layer with bias", async (e) => {
  await gradCheck(
    e,
    [{ data: randn(6, 4), shape: [2, 3] }, { data: randn(12, 5), shape: [3, 4] }],
    ([a, b]) => mean(mul(matmul(a, b), matmul(a, b))),
  );
  const r = e.upload(randn(6, 6), [3, 2]);
  await gradCheck(
    e,
    [{ data: randn(9, 7), shape: [3, 3] }, { data: randn(6, 8), shape: [2, 3] }, {
      data: randn(2, 9),
      shape: [2],
    }],
    ([x, w, b]) => sum(mul(linear(x, w, b), r)),
  );
});

gpuTest("finite differences: cross-entropy with label smoothing", async (e) => {
  const labels = e.upload([2, 0, 1], [3], "u32");
  await gradCheck(
    e,
    [{ data: randn(12, 10, -2, 2), shape: [3, 4] }],
    ([z]) => softmaxCrossEntropy(z, labels, { smoothing: 0.1 }),
  );
});
