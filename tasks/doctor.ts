// `deno task doctor`: what a user runs first on a new machine — adapter, kernel checks, speed, verdict.
import { Engine } from "../engine/engine.ts";
import { describeGpu } from "../engine/device.ts";
import { kernelChecks } from "../bench/doctor_checks.ts";
import { benchCeilings } from "../bench/ceilings.ts";
import { benchSteps } from "../bench/step_bench.ts";
import type { BrowserDoctor } from "../bench/doctor_page.ts";
import { buildWeb } from "./build_web.ts";
import { chromiumPath, runInChromium } from "./chromium.ts";

/** The backend Deno's wgpu runs on: what `DENO_WEBGPU_BACKEND` forces, else the platform's own. */
function backend(): string {
  const forced = Deno.env.get("DENO_WEBGPU_BACKEND");
  if (forced) return `${forced} (DENO_WEBGPU_BACKEND)`;
  const os = Deno.build.os;
  return os === "darwin"
    ? "Metal"
    : os === "windows"
    ? "DX12 or Vulkan"
    : "Vulkan (GL if no Vulkan driver)";
}

const fmt = (v: number) => v === 0 ? "0" : v.toExponential(1);

/** Runs the checks; returns the exit status (1 when a kernel disagrees with its reference). */
export async function doctor(log: (line: string) => void = console.log): Promise<number> {
  const t0 = performance.now();
  const engine = await Engine.create();
  try {
    const gpu = engine.gpu;
    const lim = engine.device.limits;
    log(describeGpu(gpu));
    log(`backend: ${backend()}; Deno ${Deno.version.deno}, ${Deno.build.os}/${Deno.build.arch}`);
    log(
      `limits: storage binding ${
        (lim.maxStorageBufferBindingSize / 2 ** 20).toFixed(0)
      } MiB, buffer ${
        (lim.maxBufferSize / 2 ** 20).toFixed(0)
      } MiB, workgroup storage ${lim.maxComputeWorkgroupStorageSize} B, ${lim.maxComputeInvocationsPerWorkgroup} invocations/workgroup, ${lim.maxStorageBuffersPerShaderStage} storage buffers/stage`,
    );
    const want = ["shader-f16", "timestamp-query", "subgroups"];
    log(
      `features: ${want.map((f) => `${f} ${gpu.features.includes(f) ? "yes" : "no"}`).join(", ")}`,
    );

    log("\nkernels against the float64 references:");
    const checks = await kernelChecks(engine);
    const w = Math.max(...checks.map((c) => c.name.length));
    for (const c of checks) {
      log(
        `  ${c.ok ? "ok  " : "FAIL"} ${c.name.padEnd(w)}  error ${fmt(c.error)} (≤ ${
          fmt(c.tolerance)
        })`,
      );
    }
    const broken = checks.filter((c) => !c.ok);

    log("\nceilings (this run):");
    const { ceilings } = await benchCeilings(engine, { quick: true });
    log(
      `  matmul ${ceilings.gflops.toFixed(2)} GFLOP/s (${ceilings.gflopsFrom}), copy ${
        ceilings.gbps.toFixed(2)
      } GB/s (${ceilings.gbpsFrom})`,
    );

    const batch = gpu.software ? 2 : 125;
    log(`\none training step of each recipe model, batch ${batch}:`);
    const rows = await benchSteps(engine, {
      batch,
      runs: 1,
      ceiling: ceilings.gflops,
      want: (n) => n.endsWith("train step"),
    });
    const epochs: string[] = [];
    for (const r of rows) {
      const min = Number(r.epoch);
      const epoch = min >= 60 ? `${(min / 60).toFixed(1)} h` : `${(min * 60).toFixed(0)} s`;
      log(
        `  ${r.name}: ${Number(r.wall).toFixed(0)} ms, ${
          Number(r.imgs).toFixed(1)
        } images/s → epoch ${epoch}`,
      );
      epochs.push(`${r.name.replace(" train step", "")} ${epoch}`);
    }
    const took = ((performance.now() - t0) / 1000).toFixed(0);
    if (broken.length) {
      const b = broken[0];
      log(
        `\nverdict: broken — ${b.name} differs from the CPU reference by ${
          fmt(b.error)
        } (tolerance ${fmt(b.tolerance)})${
          broken.length > 1 ? ` and ${broken.length - 1} more check(s) fail` : ""
        } (${took} s)`,
      );
      return 1;
    }
    if (gpu.software) {
      log(
        `\nverdict: slow — ${gpu.name} is a software adapter; every kernel is correct, but an epoch would take ${
          epochs.join(", ")
        } (${took} s)`,
      );
      return 0;
    }
    log(
      `\nverdict: ready — every kernel is correct; an epoch takes about ${
        epochs.join(", ")
      } (${took} s)`,
    );
    return 0;
  } finally {
    await engine.close();
  }
}

/**
 * `--browser`: the same kernel checks in a page of headless Chromium (Dawn), with the adapter a
 * page gets and its limits and features. Returns the exit status (1: a check failed, or no
 * chromium).
 */
export async function browserDoctor(log: (line: string) => void = console.log): Promise<number> {
  const t0 = performance.now();
  if (!chromiumPath()) {
    log("doctor --browser: chromium not found (set $CHROMIUM, or apt-get install chromium)");
    return 1;
  }
  const dir = await Deno.makeTempDir({ prefix: "doctor-browser-" });
  let r: BrowserDoctor;
  try {
    await buildWeb({ entry: "bench/doctor_page.ts", out: `${dir}/doctor.js` });
    log("running the kernel checks in headless Chromium (minutes: Chromium compiles every kernel)");
    ({ result: r } = await runInChromium<BrowserDoctor>(
      `import { browserDoctor } from "/doctor.js";\npost(await browserDoctor(log));`,
      { files: { "/doctor.js": await Deno.readFile(`${dir}/doctor.js`) }, timeoutMs: 900_000 },
    ));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  log(r.adapter);
  log(`browser: ${r.userAgent}`);
  log(`limits: ${Object.entries(r.limits).map(([k, v]) => `${k} ${v}`).join(", ")}`);
  const want = ["shader-f16", "timestamp-query", "subgroups"];
  log(`features: ${want.map((f) => `${f} ${r.features.includes(f) ? "yes" : "no"}`).join(", ")}`);
  log("\nkernels against the float64 references, in Chromium:");
  const w = Math.max(...r.checks.map((c) => c.name.length));
  for (const c of r.checks) {
    log(
      `  ${c.ok ? "ok  " : "FAIL"} ${c.name.padEnd(w)}  error ${fmt(c.error)} (≤ ${
        fmt(c.tolerance)
      })`,
    );
  }
  const broken = r.checks.filter((c) => !c.ok);
  const took = ((performance.now() - t0) / 1000).toFixed(0);
  log(
    broken.length
      ? `\nverdict: broken in Chromium — ${broken.map((c) => c.name).join(", ")} (${took} s)`
      : `\nverdict: every kernel is correct in Chromium (${took} s)`,
  );
  return broken.length ? 1 : 0;
}

if (import.meta.main) {
  const unknown = Deno.args.filter((a) => a !== "--browser");
  if (unknown.length) {
    console.error(`doctor: unknown argument ${unknown[0]} (usage: deno task doctor [--browser])`);
    Deno.exit(2);
  }
  Deno.exit(await (Deno.args.includes("--browser") ? browserDoctor() : doctor()));
}
