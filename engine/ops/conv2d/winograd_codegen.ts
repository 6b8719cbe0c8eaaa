// Straight-line WGSL for the Winograd batched GEMM (kernels/conv2d/winograd_gemm.wgsl).
import { fillTemplate, type KernelSource } from "../../kernel.ts";
import template from "../../../kernels/conv2d/winograd_gemm.wgsl" with { type: "text" };

const cache = new Map<string, KernelSource>();

/**
 * The GEMM template written out for a TM × 4·RN4 block (TM rows of A per invocation, RN4 vec4
 * columns of B): TM·RN4 vec4 accumulators, one uniform vec4 load per 4 rows of A and one vec4
 * load per column of B for each reduced l. TM·RN4·4 ≤ 256 keeps Mesa's compile time ≈ 15 s.
 */
export function winogradGemmSource(TM: number, RN4: number): KernelSource {
  if (TM % 4 !== 0 || TM < 4 || RN4 < 1) {
    throw new RangeError(
      `winogradGemmSource: TM must be a multiple of 4 and RN4 ≥ 1, got ${TM}, ${RN4}`,
    );
  }
  const name = `conv2d/winograd_gemm.wgsl[TM=${TM},RN4=${RN4}]`;
  let src = cache.get(name);
  if (src) return src;
  const setup: string[] = [], body: string[] = [], store: string[] = [];
  for (let j = 0; j < RN4; j++) setup.push(`let cb${j} = min(col0 + ${j}u * WG, gm.N4 - 1u);`);
  for (let q = 0; q < TM / 4; q++) body.push(`let a${q} = a[ar + ${q}u];`);
  for (let j = 0; j < RN4; j++) body.push(`let b${j} = b[br + cb${j}];`);
  const comp = ["x", "y", "z", "w"];
  for (let i = 0; i < TM; i++) {
    for (let j = 0; j < RN4; j++) {
      const acc = `acc${i}_${j}`;
      setup.push(`var ${acc} = vec4<f32>();`);
      body.push(`${acc} = fma(vec4(a${i >> 2}.${comp[i & 3]}), b${j}, ${acc});`);
      store.push(`put(obase, m0 + ${i}u, col0 + ${j}u * WG, ${acc});`);
    }
  }
  const parts: Record<string, string[]> = {
    constants: [`const TM = ${TM}u;`, `const RN4 = ${RN4}u;`],
    setup,
    body,
    store,
  };
  cache.set(name, src = fillTemplate(name, template, parts));
  return src;
}
