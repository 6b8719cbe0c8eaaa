// Finite-difference gradient check: central differences of a GPU forward vs the tape's gradients.
import type { Engine } from "../engine/engine.ts";
import type { Tensor } from "../engine/tensor.ts";
import { assertClose } from "./helpers.ts";

/**
 * Checks d loss / d input for every element of every input. `forward` builds a scalar loss from
 * the input tensors; inputs are uploaded from `values` (f32). eps 1e-2 with f32 forward passes:
 * central differences are good to ~1e-4 on O(1) losses, so the default atol is 2e-3.
 */
export async function gradCheck(
  e: Engine,
  values: { data: ArrayLike<number>; shape: number[] }[],
  forward: (inputs: Tensor[]) => Tensor,
  tol: { atol?: number; rtol?: number; eps?: number } = {},
): Promise<void> {
  const eps = tol.eps ?? 1e-2;
  const inputs = values.map((v) => {
    const t = e.upload(v.data, v.shape);
    t.requiresGrad = true;
    return t;
  });
  e.scope(() => e.tape.backward(forward(inputs)));
  const analytic = await Promise.all(inputs.map(async (t) => Array.from(await t.grad!.read())));
  const lossAt = async (): Promise<number> => {
    const l = e.noGrad(() => e.scope(() => forward(inputs)));
    const v = (await l.read())[0];
    l.dispose();
    return v;
  };
  for (let k = 0; k < inputs.length; k++) {
    const data = Float32Array.from(values[k].data);
    const numeric: number[] = [];
    for (let i = 0; i < data.length; i++) {
      const x0 = data[i];
      data[i] = x0 + eps;
      e.write(inputs[k], data);
      const up = await lossAt();
      data[i] = x0 - eps;
      e.write(inputs[k], data);
      const down = await lossAt();
      data[i] = x0;
      e.write(inputs[k], data);
      numeric.push((up - down) / (2 * eps));
    }
    assertClose(
      analytic[k],
      numeric,
      { atol: tol.atol ?? 2e-3, rtol: tol.rtol ?? 1e-2 },
      `d loss / d input ${k}`,
    );
  }
  for (const t of inputs) {
    t.grad?.dispose();
    t.dispose();
  }
}
