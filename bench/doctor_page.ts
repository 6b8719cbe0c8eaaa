// `deno task doctor --browser`'s page (bundled by tasks/doctor.ts with the browser build's swaps):
// the adapter Chromium gives a page, its limits and features, and every kernel family's check
// against the float64 references, the same checks `deno task doctor` runs in Deno.
import { Engine } from "../engine/engine.ts";
import { describeGpu } from "../engine/device.ts";
import { type Check, kernelChecks } from "./doctor_checks.ts";

/** What the page reports. */
export interface BrowserDoctor {
  adapter: string;
  userAgent: string;
  limits: Record<string, number>;
  features: string[];
  checks: Check[];
}

const LIMITS = [
  "maxStorageBuffersPerShaderStage",
  "maxStorageBufferBindingSize",
  "maxBufferSize",
  "maxComputeWorkgroupStorageSize",
  "maxComputeInvocationsPerWorkgroup",
  "minStorageBufferOffsetAlignment",
] as const;

/** Runs the checks on the page's adapter; `progress` hears each family as it is checked. */
export async function browserDoctor(
  progress: (line: string) => void = () => {},
): Promise<BrowserDoctor> {
  const engine = await Engine.create();
  try {
    progress(describeGpu(engine.gpu));
    const limits: Record<string, number> = {};
    for (const k of LIMITS) limits[k] = engine.device.limits[k];
    const checks = await kernelChecks(engine);
    return {
      adapter: describeGpu(engine.gpu),
      userAgent: navigator.userAgent,
      limits,
      features: engine.gpu.features,
      checks,
    };
  } finally {
    await engine.close();
  }
}
