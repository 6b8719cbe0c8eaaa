// Float64 CPU references: matmul, transpose, linear (engine/ops/matmul.ts).

/** C[M,N] = A[M,K]·B[K,N], row-major. */
export function matmulRef(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  M: number,
  K: number,
  N: number,
): Float64Array {
  const c = new Float64Array(M * N);
  for (let m = 0; m < M; m++) {
    for (let k = 0; k < K; k++) {
      const av = a[m * K + k];
      for (let n = 0; n < N; n++) c[m * N + n] += av * b[k * N + n];
    }
  }
  return c;
}

/** Transpose of a row-major [R, C] matrix. */
export function transposeRef(a: ArrayLike<number>, R: number, C: number): Float64Array {
  const t = new Float64Array(R * C);
  for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) t[c * R + r] = a[r * C + c];
  return t;
}

/** y = x·Wᵀ + b with x [N, I], W [O, I], b [O]. */
export function linearRef(
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  b: ArrayLike<number> | null,
  N: number,
  I: number,
  O: number,
): Float64Array {
  const y = matmulRef(x, transposeRef(w, O, I), N, I, O);
  if (b) { for (let n = 0; n < N; n++) for (let o = 0; o < O; o++) y[n * O + o] += b[o]; }
  return y;
}
