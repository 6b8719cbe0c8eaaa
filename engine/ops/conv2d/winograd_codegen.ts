// Straight-line WGSL for the Winograd kernels: the batched GEMM and, per tile size m, the tile
// and filter transforms (kernels/conv2d/winograd_*.wgsl templates).
import { fillTemplate, type KernelSource } from "../../kernel.ts";
import template from "../../../kernels/conv2d/winograd_gemm.wgsl" with { type: "text" };
import tilesTemplate from "../../../kernels/conv2d/winograd_tiles.wgsl" with { type: "text" };
import filterTemplate from "../../../kernels/conv2d/winograd_filter.wgsl" with { type: "text" };
import { sandwich, transpose, winogradMatrices } from "./winograd_matrices.ts";

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
  for (let j = 0; j < RN4; j++) setup.push(`let cb${j} = min(col0 + ${j}u * WX, gm.N4 - 1u);`);
  for (let q = 0; q < TM / 4; q++) body.push(`let a${q} = a[ar + ${q}u];`);
  for (let j = 0; j < RN4; j++) body.push(`let b${j} = b[br + cb${j}];`);
  const comp = ["x", "y", "z", "w"];
  for (let i = 0; i < TM; i++) {
    for (let j = 0; j < RN4; j++) {
      const acc = `acc${i}_${j}`;
      setup.push(`var ${acc} = vec4<f32>();`);
      body.push(`${acc} = fma(vec4(a${i >> 2}.${comp[i & 3]}), b${j}, ${acc});`);
      store.push(`put(obase, m0 + ${i}u, col0 + ${j}u * WX, ${acc});`);
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

function constantsOf(m: 2 | 4): string[] {
  const a = m + 2;
  return [`const MT = ${m}u;`, `const ALPHA = ${a}u;`, `const NX = ${a * a}u;`];
}

/** The output fold's lines for tile t + q: its column tx, row ty and image n. */
function tileAt(q: number): string[] {
  return [
    `  let tq = t + ${q}u;`,
    `  let tx = tq % fp.TW;`,
    `  let ty = (tq / fp.TW) % fp.TH;`,
    `  let n = fp.n0 + tq / (fp.TW * fp.TH);`,
  ];
}

/** kernels/conv2d/winograd_tiles.wgsl written out for F(m×m,3×3). */
export function winogradTilesSource(m: 2 | 4): KernelSource {
  const name = `conv2d/winograd_tiles.wgsl[m=${m}]`;
  let src = cache.get(name);
  if (src) return src;
  const { alpha: al, BT, AT } = winogradMatrices(m);
  const A = transpose(AT);
  const comp = ["x", "y", "z", "w"];
  const load = (grad: boolean) => {
    const n = grad ? m : al;
    const lines: string[] = [];
    for (let q = 0; q < 4; q++) {
      lines.push(`let g${q} = origin(sl.x + ${q}u * sl.z, sl.y + ${q}u * sl.w);`);
      lines.push(`let pl${q} = u32(g${q}.x);`, `let ok${q} = g${q}.w == 1;`);
      for (let a = 0; a < n; a++) {
        for (let b = 0; b < n; b++) {
          lines.push(`let d${q}_${a}_${b} = at(pl${q}, g${q}.y + ${a}, g${q}.z + ${b});`);
        }
      }
      lines.push(
        ...sandwich(
          grad ? A : BT,
          (a, b) => `d${q}_${a}_${b}`,
          (i, j) => `v${q}_${i}_${j}`,
          `s${q}_`,
        ),
      );
    }
    for (let i = 0; i < al; i++) {
      for (let j = 0; j < al; j++) {
        const v = [0, 1, 2, 3].map((q) => `select(0.0, v${q}_${i}_${j}, ok${q})`);
        lines.push(`dst[o + ${i * al + j}u * s] = vec4(${v.join(", ")});`);
      }
    }
    return lines;
  };
  const output: string[] = [];
  for (let x = 0; x < al * al; x++) output.push(`let mv${x} = mres[o + ${x}u * s];`);
  for (let q = 0; q < 4; q++) {
    output.push(
      `if (t + ${q}u < fp.T) {`,
      ...tileAt(q),
      `  let op = (n * fp.K + k) * fp.P * fp.Q;`,
    );
    const body = sandwich(AT, (a, b) => `mv${a * al + b}.${comp[q]}`, (i, j) => `y${i}_${j}`, "r");
    output.push(...body.map((l) => "  " + l));
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < m; j++) {
        output.push(`  put(op, MT * ty, MT * tx, ${i}u, ${j}u, y${i}_${j} + bk);`);
      }
    }
    output.push("}");
  }
  src = fillTemplate(name, tilesTemplate, {
    constants: constantsOf(m),
    input: load(false),
    grad: load(true),
    output,
    output4: outputRows(m),
  });
  cache.set(name, src);
  return src;
}

/**
 * outputTiles4's body: Y = Aᵀ M A per tile, each output row stored as one vec4 (m = 4: a tile's
 * row; m = 2: the rows of tiles t + q and t + q + 1 side by side).
 */
function outputRows(m: 2 | 4): string[] {
  const { alpha: al, AT } = winogradMatrices(m);
  const comp = ["x", "y", "z", "w"];
  const lines: string[] = [];
  for (let x = 0; x < al * al; x++) lines.push(`let mv${x} = mres[o + ${x}u * s];`);
  const per = m === 4 ? 1 : 2; // tiles per stored row
  for (let q = 0; q < 4; q += per) {
    lines.push(
      `if (t + ${q}u < fp.T) {`,
      ...tileAt(q),
      `  let row0 = ((n * fp.K + k) * fp.P * fp.Q + MT * ty * fp.Q + MT * tx) / 4u;`,
    );
    for (let u = 0; u < per; u++) {
      const c = comp[q + u];
      const body = sandwich(
        AT,
        (a, b) => `mv${a * al + b}.${c}`,
        (i, j) => `y${u}_${i}_${j}`,
        `r${u}_`,
      );
      lines.push(...body.map((l) => "  " + l));
    }
    for (let i = 0; i < m; i++) {
      const v = per === 1
        ? [0, 1, 2, 3].map((j) => `y0_${i}_${j} + bk`)
        : [`y0_${i}_0 + bk`, `y0_${i}_1 + bk`, `y1_${i}_0 + bk`, `y1_${i}_1 + bk`];
      lines.push(`  y4[row0 + ${i}u * q4] = vec4(${v.join(", ")});`);
    }
    lines.push("}");
  }
  return lines;
}

/** kernels/conv2d/winograd_filter.wgsl written out for F(m×m,3×3). */
export function winogradFilterSource(m: 2 | 4): KernelSource {
  const name = `conv2d/winograd_filter.wgsl[m=${m}]`;
  let src = cache.get(name);
  if (src) return src;
  const { alpha: al, G } = winogradMatrices(m);
  const comp = ["x", "y", "z", "w"];
  // Four filters q: 9 taps each, U_q = G g_q Gᵀ, then one vec4 store per ξ.
  const transform = (tap: (q: number, rs: number) => string, out: string) => {
    const lines: string[] = [];
    for (let q = 0; q < 4; q++) {
      for (let r = 0; r < 3; r++) {
        for (let t = 0; t < 3; t++) lines.push(`let g${q}_${r}_${t} = ${tap(q, 3 * r + t)};`);
      }
      lines.push(
        ...sandwich(G, (a, b) => `g${q}_${a}_${b}`, (i, j) => `u${q}_${i}_${j}`, `p${q}_`),
      );
    }
    for (let x = 0; x < al * al; x++) {
      const v = [0, 1, 2, 3].map((q) => `u${q}_${x / al | 0}_${x % al}`);
      lines.push(`${out}[o + ${x}u * s] = vec4(${v.join(", ")});`);
    }
    return lines;
  };
  const forward = transform((q, rs) => `tap(k0 + ${q}u, c, ${rs}u)`, "uf");
  const backward = transform((q, rs) => `tap(k, c0 + ${q}u, ${8 - rs}u)`, "ub");
  const fold: string[] = [];
  for (let x = 0; x < al * al; x++) fold.push(`let e${x} = du[o + ${x}u * s];`);
  for (let q = 0; q < 4; q++) {
    fold.push(`if (c0 + ${q}u < fq.C) {`, `  let gq = (k * fq.C + c0 + ${q}u) * 9u;`);
    const body = sandwich(
      transpose(G),
      (a, b) => `e${a * al + b}.${comp[q]}`,
      (r, t) => `w${r}_${t}`,
      "p",
    );
    fold.push(...body.map((l) => "  " + l));
    for (let r = 0; r < 3; r++) {
      for (let t = 0; t < 3; t++) fold.push(`  gw[gq + ${3 * r + t}u] = w${r}_${t};`);
    }
    fold.push("}");
  }
  src = fillTemplate(name, filterTemplate, {
    constants: constantsOf(m),
    forward,
    backward,
    fold,
  });
  cache.set(name, src);
  return src;
}
