// Matrix multiply for aligned sizes (K, N multiples of 4) in two variants: registers or workgroup tiles.
import type { Engine } from "../engine/engine.ts";
import type { Tensor } from "../engine/tensor.ts";
import { fillTemplate, type KernelSource } from "../engine/kernel.ts";
import template from "./matmul_vec4.wgsl" with { type: "text" };

/**
 * Register block of the "register" variant: rows × vec4 columns per invocation (16×16).
 * Mesa compiles a block of 256 accumulators in ~15 s the first time; 32×32 (1,024) was faster
 * once compiled but took ~18 minutes to compile on a fresh machine, so it is not the default.
 */
const RM = 16;
const RN4 = 4;
/** Invocations per workgroup of the "register" variant (SIMD lanes on lavapipe). */
const WG = 8;

/** The template with its "@generated" lines written out for an RM × 4·RN4 block. */
export function matmulVec4Source(rm = RM, rn4 = RN4): KernelSource {
  const setup: string[] = [];
  const body: string[] = [];
  const store: string[] = [];
  for (let i = 0; i < rm; i++) setup.push(`let ra${i} = min(m0 + ${i}u, p.M - 1u) * k4;`);
  for (let j = 0; j < rn4; j++) setup.push(`let cb${j} = min(col0 + ${j}u * WG, n4 - 1u);`);
  for (let q = 0; q < 4; q++) {
    body.push(`let row${q} = (k * 4u + ${q}u) * n4;`);
    for (let j = 0; j < rn4; j++) body.push(`let b${q}_${j} = b[row${q} + cb${j}];`);
  }
  for (let i = 0; i < rm; i++) {
    body.push(`let a${i} = a[ra${i} + k];`);
    for (let j = 0; j < rn4; j++) {
      const acc = `acc${i}_${j}`;
      setup.push(`var ${acc} = vec4<f32>(0.0);`);
      body.push(
        `${acc} += a${i}.x * b0_${j} + a${i}.y * b1_${j} + a${i}.z * b2_${j} + a${i}.w * b3_${j};`,
      );
      store.push(`store(m0 + ${i}u, col0 + ${j}u * WG, ${acc});`);
    }
  }
  const parts: Record<string, string[]> = {
    constants: [`const RM = ${rm}u;`, `const RN4 = ${rn4}u;`],
    setup,
    body,
    store,
  };
  return fillTemplate(`matmul_vec4.wgsl[RM=${rm},RN4=${rn4}]`, template, parts);
}

let SRC: KernelSource | null = null;

/**
 * "register": 16×16 outputs per invocation, no workgroup memory (software adapters);
 * "tiled": 64×64 workgroup tiles staged in workgroup memory (real GPUs).
 */
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
  SRC ??= matmulVec4Source();
  if (variant === "register") {
    e.run(SRC, "matmulRegister", bindings, [Math.ceil(N / 4 / RN4 / WG), Math.ceil(M / RM)], {
      WG,
    });
  } else if (variant === "tiled") {
    e.run(SRC, "matmulTiled", bindings, [Math.ceil(N / 64), Math.ceil(M / 64)]);
  } else {
    throw new TypeError(`matmulVec4: unknown variant "${variant}" (register, tiled)`);
  }
  return c;
}
