// Matrix multiply for aligned sizes (K, N multiples of 4) in two variants: registers or workgroup tiles.
import type { Engine } from "../engine.ts";
import type { Tensor } from "../tensor.ts";
import code from "../../kernels/matmul_vec4.wgsl" with { type: "text" };

const SRC = { name: "matmul_vec4.wgsl", code };

/** "register": 8×16 outputs per invocation, no workgroup memory (software adapters); "tiled": 64×64 workgroup tiles staged in workgroup memory (real GPUs). */
export type MatmulVariant = "register" | "tiled";

/** Every variant, for benchmarks and tests. */
export const MATMUL_VARIANTS: readonly MatmulVariant[] = ["register", "tiled"];

/** Options of {@linkcode matmulVec4}. */
export interface MatmulVec4Options {
  /** Which kernel; default {@linkcode defaultMatmulVariant} of the engine's adapter. */
  variant?: MatmulVariant;
  /** A bias row [N] added to every row of C. */
  bias?: Tensor | null;
}

/** The variant expected to be faster on this adapter: registers on software adapters, tiles on GPUs. */
export function defaultMatmulVariant(engine: Engine): MatmulVariant {
  return engine.gpu.software ? "register" : "tiled";
}

/** Whether A[M,K]·B[K,N] fits {@linkcode matmulVec4}: K and N multiples of 4. */
export function vec4Aligned(K: number, N: number): boolean {
  return K % 4 === 0 && N % 4 === 0 && K > 0 && N > 0;
}

/**
 * C[M,N] = A[M,K]·B[K,N] (+ bias) for row-major tensors with K and N multiples of 4, without
 * recording on the tape (the general {@linkcode matmulRaw} in matmul.ts takes any size and
 * transposes).
 *
 * @example
 * ```ts
 * const c = matmulVec4(engine.upload(a, [64, 128]), engine.upload(b, [128, 32]));
 * ```
 */
export function matmulVec4(a: Tensor, b: Tensor, options: MatmulVec4Options = {}): Tensor {
  if (a.shape.length !== 2 || b.shape.length !== 2) {
    throw new RangeError(`matmulVec4: needs 2-D tensors, got ${a} and ${b}`);
  }
  const [M, K] = a.shape;
  const [K2, N] = b.shape;
  if (K !== K2) throw new RangeError(`matmulVec4: inner sizes differ: ${a} and ${b}`);
  if (!vec4Aligned(K, N)) {
    throw new RangeError(`matmulVec4: K (${K}) and N (${N}) must be multiples of 4; use matmulRaw`);
  }
  const bias = options.bias ?? null;
  if (bias && bias.size !== N) throw new RangeError(`matmulVec4: bias ${bias} for ${N} columns`);
  const e = a.engine;
  const variant = options.variant ?? defaultMatmulVariant(e);
  const c = e.tensor([M, N]);
  const bindings = { a, b, bias: bias ?? b, c, p: { M, N, K, hasBias: bias ? 1 : 0 } };
  if (variant === "register") {
    e.run(SRC, "matmulRegister", bindings, [Math.ceil(N / 16 / 8), Math.ceil(M / 8 / 8)]);
  } else if (variant === "tiled") {
    e.run(SRC, "matmulTiled", bindings, [Math.ceil(N / 64), Math.ceil(M / 64)]);
  } else {
    throw new TypeError(`matmulVec4: unknown variant "${variant}" (register, tiled)`);
  }
  return c;
}
