// The aligned matmul variants (register-blocked, workgroup-tiled) against the float64 reference.
import { assertClose, gpuTest, randn } from "./helpers.ts";
import { assertThrows } from "./assert.ts";
import { MATMUL_VARIANTS, matmulVec4, vec4Aligned } from "../bench/matmul_vec4.ts";
import { matmulRef } from "./reference/matmul.ts";

// f32 products of values in [-1, 1) summed over K ≤ 260 terms: error ≲ K·2⁻²⁴·|terms| ≈ 2e-5.
const TOL = { atol: 1e-4, rtol: 1e-4 };

// Odd but aligned: M anything (1, 7, 67, 130 are not multiples of the 32- or 64-row blocks),
// K and N multiples of 4 that are not multiples of 16 (the K stage) or of the 64/256 columns of
// a workgroup; N = 520 spans three register workgroups across.
const SHAPES: [number, number, number][] = [
  [1, 4, 4],
  [7, 12, 20],
  [67, 36, 44],
  [64, 64, 64],
  [130, 260, 132],
  [33, 8, 520],
];

for (const variant of MATMUL_VARIANTS) {
  for (const [M, K, N] of SHAPES) {
    gpuTest(`matmulVec4 ${variant} ${M}×${K} @ ${K}×${N} matches the reference`, async (e) => {
      const av = randn(M * K, 11), bv = randn(K * N, 12);
      const c = matmulVec4(e.upload(av, [M, K]), e.upload(bv, [K, N]), { variant });
      assertClose(await c.read(), matmulRef(av, bv, M, K, N), TOL, "C");
    });
  }

  gpuTest(`matmulVec4 ${variant} with bias 9×8 @ 8×28`, async (e) => {
    const [M, K, N] = [9, 8, 28];
    const av = randn(M * K, 13), bv = randn(K * N, 14), biasv = randn(N, 15);
    const c = matmulVec4(e.upload(av, [M, K]), e.upload(bv, [K, N]), {
      variant,
      bias: e.upload(biasv, [N]),
    });
    const ref = matmulRef(av, bv, M, K, N).map((v, i) => v + biasv[i % N]);
    assertClose(await c.read(), ref, TOL, "C + bias");
  });
}

gpuTest("matmulVec4 refuses unaligned or mismatched sizes", async (e) => {
  assertThrows(() => matmulVec4(e.zeros([4, 6]), e.zeros([6, 8])), RangeError, "multiples of 4");
  assertThrows(() => matmulVec4(e.zeros([4, 8]), e.zeros([8, 6])), RangeError, "multiples of 4");
  assertThrows(() => matmulVec4(e.zeros([4, 8]), e.zeros([12, 8])), RangeError, "inner sizes");
  if (vec4Aligned(6, 8) || !vec4Aligned(8, 12)) throw new Error("vec4Aligned is wrong");
  await e.sync();
});
