// Winograd F(m×m,3×3) matrices (Lavin & Gray 2016) and straight-line WGSL for L·X·Lᵀ products.

/** Transform matrices of one output tile size m: α = m + 2 input rows, Bᵀ α×α, G α×3, Aᵀ m×α. */
export interface WinogradMatrices {
  m: number;
  alpha: number;
  BT: number[][];
  G: number[][];
  AT: number[][];
}

const F2: WinogradMatrices = {
  m: 2,
  alpha: 4,
  BT: [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]],
  G: [[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]],
  AT: [[1, 1, 1, 0], [0, 1, -1, -1]],
};

// Interpolation points 0, ±1, ±2, ∞.
const F4: WinogradMatrices = {
  m: 4,
  alpha: 6,
  BT: [
    [4, 0, -5, 0, 1, 0],
    [0, -4, -4, 1, 1, 0],
    [0, 4, -4, -1, 1, 0],
    [0, -2, -1, 2, 1, 0],
    [0, 2, -1, -2, 1, 0],
    [0, 4, 0, -5, 0, 1],
  ],
  G: [
    [1 / 4, 0, 0],
    [-1 / 6, -1 / 6, -1 / 6],
    [-1 / 6, 1 / 6, -1 / 6],
    [1 / 24, 1 / 12, 1 / 6],
    [1 / 24, -1 / 12, 1 / 6],
    [0, 0, 1],
  ],
  AT: [[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0], [0, 1, 1, 4, 4, 0], [0, 1, -1, 8, -8, 1]],
};

/** The matrices of F(2×2,3×3) or F(4×4,3×3). */
export function winogradMatrices(m: 2 | 4): WinogradMatrices {
  return m === 2 ? F2 : F4;
}

/** The transpose of a matrix. */
export function transpose(a: number[][]): number[][] {
  return a[0].map((_, j) => a.map((row) => row[j]));
}

function literal(v: number): string {
  const s = String(Math.abs(v));
  return s.includes(".") || s.includes("e") ? s : s + ".0";
}

/** Σ_k coef[k]·names[k] as WGSL, zero terms left out, ±1 written without a product. */
function combo(coef: number[], names: string[]): string {
  let out = "";
  coef.forEach((c, k) => {
    if (c === 0) return;
    const term = Math.abs(c) === 1 ? names[k] : `${literal(c)} * ${names[k]}`;
    out += out === "" ? (c < 0 ? `-${term}` : term) : (c < 0 ? ` - ${term}` : ` + ${term}`);
  });
  return out === "" ? "0.0" : out;
}

/**
 * `let` lines computing out(i, j) = (L · X · Lᵀ)[i][j] for X[a][b] = x(a, b): first
 * tmp = L·X, then tmp·Lᵀ. `p` prefixes the temporaries.
 */
export function sandwich(
  L: number[][],
  x: (a: number, b: number) => string,
  out: (i: number, j: number) => string,
  p: string,
): string[] {
  const lines: string[] = [];
  const inner = L[0].length;
  for (let i = 0; i < L.length; i++) {
    for (let b = 0; b < inner; b++) {
      const names = L[i].map((_, a) => x(a, b));
      lines.push(`let ${p}${i}_${b} = ${combo(L[i], names)};`);
    }
  }
  for (let i = 0; i < L.length; i++) {
    for (let j = 0; j < L.length; j++) {
      const names = L[j].map((_, b) => `${p}${i}_${b}`);
      lines.push(`let ${out(i, j)} = ${combo(L[j], names)};`);
    }
  }
  return lines;
}
