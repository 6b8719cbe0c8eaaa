// One case of the kernel tier (tests/kernel_cases.ts): what it runs on the GPU, its float64
// reference and tolerance, the helpers cases share, and the error measure. No Deno API here.
import type { Engine } from "../engine/engine.ts";
import type { Tensor } from "../engine/tensor.ts";
import { uniformValues } from "../engine/random.ts";

/** Named outputs of one case: what the GPU gave, or the float64 reference. */
export type Outputs = Record<string, ArrayLike<number>>;

/** One op family's forward and backward on seeded inputs. */
export interface KernelCase {
  /** Family (the table's first column) and what this case runs. */
  family: string;
  name: string;
  /** |gpu − ref| ≤ atol + rtol·|ref| elementwise, with the reason for the bound. */
  tol: { atol: number; rtol: number; why: string };
  /** A device feature the case needs; where the device lacks it the case is reported skipped. */
  needs?: "subgroups";
  /** The GPU outputs (inputs are made inside from fixed seeds). */
  gpu(e: Engine): Promise<Outputs>;
  /** The float64 reference of the same outputs. */
  ref(): Outputs;
}

/** n uniform values in [lo, hi), rounded to f32, from `seed`. */
export function rand(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  return Float32Array.from(uniformValues(n, seed, lo, hi));
}

/** Uploads `data` as a leaf that collects a gradient. */
export function leaf(e: Engine, data: Float32Array, shape: number[]): Tensor {
  const t = e.upload(data, shape);
  t.requiresGrad = true;
  return t;
}

/** Reads the named tensors back. */
export async function readAll(ts: Record<string, Tensor>): Promise<Outputs> {
  const out: Outputs = {};
  for (const [k, t] of Object.entries(ts)) out[k] = await t.read();
  return out;
}

/** Worst error of `got` against `want`: max |d| and max |d| / (atol + rtol·|want|). */
export function caseError(
  got: Outputs,
  want: Outputs,
  tol: { atol: number; rtol: number },
): { maxAbs: number; ratio: number; where: string } {
  let [maxAbs, ratio, where] = [0, 0, ""];
  for (const [k, w] of Object.entries(want)) {
    const g = got[k];
    if (!g || g.length !== w.length) {
      const what = `${k}: ${g?.length ?? "no"} values, expected ${w.length}`;
      return { maxAbs: Infinity, ratio: Infinity, where: what };
    }
    for (let i = 0; i < w.length; i++) {
      const d = Number.isNaN(g[i] - w[i]) ? Infinity : Math.abs(g[i] - w[i]);
      maxAbs = Math.max(maxAbs, d);
      const r = d / (tol.atol + tol.rtol * Math.abs(w[i]));
      if (r > ratio) [ratio, where] = [r, `${k}[${i}] = ${g[i]}, reference ${w[i]}`];
    }
  }
  return { maxAbs, ratio, where };
}
