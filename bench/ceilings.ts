// The adapter section and the ceilings: our best f32 matmul's GFLOP/s and a copy kernel's GB/s.
import type { Engine } from "../engine/engine.ts";
import type { Tensor } from "../engine/tensor.ts";
import { grid } from "../engine/grid.ts";
import { matmulRaw } from "../engine/ops/matmul.ts";
import {
  defaultMatmulVariant,
  MATMUL_VARIANTS,
  type MatmulVariant,
  matmulVec4,
} from "./matmul_vec4.ts";
import type { Row, Section } from "./tables.ts";
import { timerFor } from "./timing.ts";
import copyCode from "./copy.wgsl" with { type: "text" };

const COPY = { name: "copy.wgsl", code: copyCode };
const MIB = 1024 * 1024;

/** The ceilings the kernel rows are measured against. */
export interface Ceilings {
  /** Best matmul GFLOP/s and the row that reached it. */
  gflops: number;
  gflopsFrom: string;
  /** Best copy GB/s (bytes read + written) and the row that reached it. */
  gbps: number;
  gbpsFrom: string;
}

/** One table describing the adapter: name, kind, features and the limits that matter. */
export function adapterSection(engine: Engine, timing: string): Section {
  const g = engine.gpu;
  const l = engine.device.limits;
  const rows: Row[] = [
    { name: "adapter", value: g.name },
    { name: "kind", value: g.software ? "software (runs on the CPU)" : "hardware" },
    { name: "shader-f16", value: g.f16 ? "yes" : "no" },
    { name: "timestamp-query", value: g.timestamps ? "yes" : "no" },
    { name: "timing", value: timing },
    {
      name: "max storage binding",
      value: `${(l.maxStorageBufferBindingSize / MIB).toFixed(0)} MiB`,
    },
    { name: "max buffer", value: `${(l.maxBufferSize / MIB).toFixed(0)} MiB` },
    { name: "storage buffers / stage", value: String(l.maxStorageBuffersPerShaderStage) },
    { name: "workgroup storage", value: `${l.maxComputeWorkgroupStorageSize} B` },
    { name: "invocations / workgroup", value: String(l.maxComputeInvocationsPerWorkgroup) },
    { name: "workgroups / dimension", value: String(l.maxComputeWorkgroupsPerDimension) },
    { name: "runtime", value: `Deno ${Deno.version.deno}, ${Deno.build.os}/${Deno.build.arch}` },
  ];
  return {
    id: "adapter",
    title: "Adapter",
    columns: [{ key: "value", label: "" }],
    rows,
    notes: [],
  };
}

/** Options of {@linkcode benchCeilings}. */
export interface CeilingOptions {
  quick?: boolean;
  /** Which rows to show (all are measured: the other sections need the ceilings). */
  show?: (name: string) => boolean;
}

/**
 * Measures every matmul variant (aligned vec4 register-blocked and workgroup-tiled, and the
 * general strided kernel) and two copy kernels; the best of each is the ceiling. The matmul is
 * 2048³ (1024³ with --quick); on a software adapter the variants not meant for it run at a
 * smaller size so the run stays short.
 */
export async function benchCeilings(
  engine: Engine,
  options: CeilingOptions = {},
): Promise<{ section: Section; ceilings: Ceilings }> {
  const e = engine;
  const quick = options.quick ?? false;
  const show = options.show ?? (() => true);
  const timer = timerFor(e);
  const soft = e.gpu.software;
  const rows: Row[] = [];
  const notes: string[] = [];
  const maxBind = e.gpu.limits.maxStorageBufferBindingSize;
  let big = quick ? 1024 : 2048;
  while (big > 256 && big * big * 4 > maxBind) big /= 2;
  const best = defaultMatmulVariant(e);
  const size = (v: MatmulVariant | "general"): number => {
    if (v === best) return big;
    if (!soft) return v === "general" ? Math.min(big, 1024) : big;
    return quick ? 512 : 1024;
  };
  const inputs = new Map<number, [Tensor, Tensor]>();
  const operands = (n: number): [Tensor, Tensor] => {
    let ab = inputs.get(n);
    if (!ab) {
      ab = [e.full([n, n], 0.5), e.full([n, n], 0.25)];
      inputs.set(n, ab);
    }
    return ab;
  };
  const variants: (MatmulVariant | "general")[] = [...MATMUL_VARIANTS, "general"];
  for (const v of variants) {
    if (quick && v === "general") continue;
    const n = size(v);
    const [a, b] = operands(n);
    const t = await timer.time(() => {
      if (v === "general") matmulRaw(a, b);
      else matmulVec4(a, b, { variant: v });
    }, { warmup: 1, runs: 3, repeat: soft ? 1 : "auto", minMs: 20 });
    const label = v === "general"
      ? "matmul.wgsl general 4×4"
      : v === "register"
      ? "matmul_vec4 register 16×16"
      : "matmul_vec4 tiled 64×64 wg-mem";
    rows.push({ name: `${label} ${n}³`, ms: t.median, gflops: (2 * n ** 3) / t.median / 1e6 });
  }
  for (const [a, b] of inputs.values()) (a.dispose(), b.dispose());
  if (quick) notes.push("--quick: the general matmul.wgsl kernel is not measured");
  const bytes = Math.min(quick ? 16 * MIB : soft ? 64 * MIB : 256 * MIB, maxBind);
  const x = e.full([bytes / 4], 1);
  const y = e.zeros([bytes / 4]);
  const xu = e.view(x.buffer, x.offset, [bytes / 4], "u32");
  const yu = e.view(y.buffer, y.offset, [bytes / 4], "u32");
  const copies: [string, () => void][] = [
    ["copy vec4 (bench/copy.wgsl)", () => {
      e.run(COPY, "copyVec4", { x: xu, y: yu, p: { n4: bytes / 16 } }, grid(bytes / 16, 256));
    }],
    ["copy words (engine.copy)", () => e.copy(x, y)],
  ];
  for (const [name, fn] of copies) {
    const t = await timer.time(fn, { runs: quick ? 3 : 5, minMs: 20 });
    rows.push({
      name: `${name} ${bytes / MIB} MiB`,
      ms: t.median,
      gbps: (2 * bytes) / t.median / 1e6,
    });
  }
  x.dispose();
  y.dispose();
  const top = (key: string) =>
    rows.filter((r) => typeof r[key] === "number").reduce((p, r) => (r[key]! > p[key]! ? r : p));
  const mm = top("gflops");
  const cp = top("gbps");
  const ceilings = {
    gflops: mm.gflops as number,
    gflopsFrom: mm.name,
    gbps: cp.gbps as number,
    gbpsFrom: cp.name,
  };
  notes.push(
    `ceilings: ${ceilings.gflops.toFixed(1)} GFLOP/s (${mm.name}), ` +
      `${ceilings.gbps.toFixed(2)} GB/s (${cp.name}); GB/s counts bytes read + written`,
  );
  return {
    section: {
      id: "ceilings",
      title: "Ceilings (same run)",
      columns: [
        { key: "ms", label: "ms", better: "lower" },
        { key: "gflops", label: "GFLOP/s", better: "higher" },
        { key: "gbps", label: "GB/s", better: "higher" },
      ],
      rows: rows.filter((r) => show(r.name)),
      notes,
    },
    ceilings,
  };
}
