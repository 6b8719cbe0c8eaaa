// Straight-line WGSL for the register-blocked conv2d kernels, from the templates in kernels/.
//
// Mesa 22's shader compiler (lavapipe) does not unroll our tile loops, and a local array indexed
// by a loop counter then lives in memory: 20× slower. So the per-tile block is written out here
// for each (tile, tap shape): named vec4 accumulators, one load per weight and per patch pixel.
import { fillTemplate, type KernelSource } from "../../kernel.ts";
import gatherTemplate from "../../../kernels/conv2d/blocked_gather.wgsl" with { type: "text" };
import weightTemplate from "../../../kernels/conv2d/blocked_weight.wgsl" with { type: "text" };

const cache = new Map<string, KernelSource>();

function constants(t: object): string[] {
  return Object.entries(t).filter(([k]) => k !== "window").map(([k, v]) => `const ${k} = ${v}u;`);
}

/** Whether patch row a / col b can hold a pixel (rows and cols outside the window never do). */
function inWindow(w: readonly number[] | undefined, a: number, b: number): boolean {
  return !w || (a >= w[0] && a < w[1] && b >= w[2] && b < w[3]);
}

function cached(key: string, make: () => KernelSource): KernelSource {
  let src = cache.get(key);
  if (!src) cache.set(key, src = make());
  return src;
}

/** Tile and taps of the register-blocked gather (forward / backward-input). */
export interface GatherTile {
  TM: number;
  TP: number;
  TQ: number;
  NU: number;
  NV: number;
  SI: number;
  /** Patch rows [r0, r1) and cols [c0, c1) that can hold pixels (one tile per image); default all. */
  window?: readonly number[];
}

/** kernels/conv2d/blocked_gather.wgsl specialised to one tile and tap shape. */
export function gatherSource(t: GatherTile): KernelSource {
  const key =
    `conv2d/blocked_gather.wgsl[TM=${t.TM},TP=${t.TP},TQ=${t.TQ},NU=${t.NU},NV=${t.NV},SI=${t.SI}` +
    `${t.window ? ",window=" + t.window : ""}]`;
  return cached(key, () => {
    const M4 = t.TM / 4, PH = (t.TP - 1) * t.SI + t.NU, PW = (t.TQ - 1) * t.SI + t.NV;
    const consts = constants(t);
    const acc: string[] = [], body: string[] = [], store: string[] = [];
    for (let i = 0; i < t.TP; i++) {
      for (let j = 0; j < t.TQ; j++) {
        for (let m = 0; m < M4; m++) {
          acc.push(`var a${i}_${j}_${m} = vec4<f32>();`);
          store.push(`res[${(i * t.TQ + j) * M4 + m}] = a${i}_${j}_${m};`);
        }
      }
    }
    for (let u = 0; u < t.NU; u++) {
      for (let v = 0; v < t.NV; v++) {
        for (let m = 0; m < M4; m++) {
          body.push(`let w${u}_${v}_${m} = wt[wb + ${u * t.NV + v}u * mp4 + ${m}u];`);
        }
      }
    }
    store.unshift(`var res: array<vec4<f32>, ${store.length}>;`);
    for (let a = 0; a < PH; a++) {
      const fmas: string[] = [];
      const used = new Set<number>();
      for (let u = 0; u < t.NU; u++) {
        const i = (a - u) / t.SI;
        if (!Number.isInteger(i) || i < 0 || i >= t.TP) continue;
        for (let v = 0; v < t.NV; v++) {
          for (let j = 0; j < t.TQ; j++) {
            const b = j * t.SI + v;
            if (!inWindow(t.window, a, b)) continue;
            used.add(b);
            for (let m = 0; m < M4; m++) {
              const o = `a${i}_${j}_${m}`;
              fmas.push(`  ${o} = fma(w${u}_${v}_${m}, vec4(x${b}), ${o});`);
            }
          }
        }
      }
      body.push(`{ // patch row ${a}`);
      for (let b = 0; b < PW; b++) {
        if (used.has(b)) body.push(`  let x${b} = pixel(plane, ih0 + ${a}, iw0 + ${b});`);
      }
      body.push(...fmas, "}");
    }
    return fillTemplate(key, gatherTemplate, { constants: consts, accumulators: acc, body, store });
  });
}

/** Tile and taps of the register-blocked backward-weight kernel. */
export interface WeightTile {
  TK: number;
  TC: number;
  TP: number;
  TQ: number;
  R: number;
  S: number;
  ST: number;
  /** Patch rows [r0, r1) and cols [c0, c1) that can hold pixels (one tile per image); default all. */
  window?: readonly number[];
}

/** kernels/conv2d/blocked_weight.wgsl specialised to one tile and kernel shape. */
export function weightSource(t: WeightTile): KernelSource {
  const key = `conv2d/blocked_weight.wgsl[TK=${t.TK},TC=${t.TC},TP=${t.TP},TQ=${t.TQ},R=${t.R},` +
    `S=${t.S},ST=${t.ST}${t.window ? ",window=" + t.window : ""}]`;
  return cached(key, () => {
    const K4 = t.TK / 4, PH = (t.TP - 1) * t.ST + t.R, PW = (t.TQ - 1) * t.ST + t.S;
    const consts = [
      ...constants(t),
      `const RS = ${t.R * t.S}u;`,
    ];
    const acc: string[] = [], body: string[] = [], store: string[] = [];
    for (let c = 0; c < t.TC; c++) {
      for (let r = 0; r < t.R; r++) {
        for (let s = 0; s < t.S; s++) {
          for (let k = 0; k < K4; k++) {
            const o = `a${c}_${r}_${s}_${k}`;
            acc.push(`var ${o} = vec4<f32>();`);
            store.push(`res[${((c * t.R + r) * t.S + s) * K4 + k}] = ${o};`);
          }
        }
      }
    }
    store.unshift(`var res: array<vec4<f32>, ${store.length}>;`);
    for (let i = 0; i < t.TP; i++) {
      for (let j = 0; j < t.TQ; j++) {
        for (let k = 0; k < K4; k++) {
          const gs = [0, 1, 2, 3].map((q) => `grad(n, k0 + ${4 * k + q}u, p0 + ${i}u, q0 + ${j}u)`);
          body.push(`let g${i}_${j}_${k} = vec4(${gs.join(", ")});`);
        }
      }
    }
    for (let c = 0; c < t.TC; c++) {
      body.push(`if (c0 + ${c}u < g.C) {`, `  let plane = (n * g.C + c0 + ${c}u) * g.H * g.W;`);
      for (let a = 0; a < PH; a++) {
        const fmas: string[] = [];
        const used = new Set<number>();
        for (let r = 0; r < t.R; r++) {
          const i = (a - r) / t.ST;
          if (!Number.isInteger(i) || i < 0 || i >= t.TP) continue;
          for (let s = 0; s < t.S; s++) {
            for (let j = 0; j < t.TQ; j++) {
              const b = j * t.ST + s;
              if (!inWindow(t.window, a, b)) continue;
              used.add(b);
              for (let k = 0; k < K4; k++) {
                const o = `a${c}_${r}_${s}_${k}`;
                fmas.push(`    ${o} = fma(g${i}_${j}_${k}, vec4(x${b}), ${o});`);
              }
            }
          }
        }
        body.push(`  { // input channel ${c}, patch row ${a}`);
        for (let b = 0; b < PW; b++) {
          if (used.has(b)) body.push(`    let x${b} = pixel(plane, ih0 + ${a}, iw0 + ${b});`);
        }
        body.push(...fmas, "  }");
      }
      body.push("}");
    }
    return fillTemplate(key, weightTemplate, { constants: consts, accumulators: acc, body, store });
  });
}
