// Adapter and device: the adapter's own limits, optional features, and loud errors.
/// <reference types="@webgpu/types" />
import { env, quietLavapipe } from "./host.ts";

/** No WebGPU adapter could be found on this machine. */
export class NoAdapterError extends Error {
  /** `detail` says what was tried. */
  constructor(detail = "") {
    super(
      "No WebGPU adapter found" + (detail ? ` (${detail})` : "") +
        ": install a GPU driver, or Mesa's software Vulkan driver with " +
        "`apt-get install -y mesa-vulkan-drivers libvulkan1`.",
    );
    this.name = "NoAdapterError";
  }
}

/** The GPU device was lost or reported an error; the work since the last sync is invalid. */
export class DeviceError extends Error {
  /** `message` says what the device reported. */
  constructor(message: string) {
    super(message);
    this.name = "DeviceError";
  }
}

/** What the engine knows about the device it runs on. */
export interface Gpu {
  /** The device the engine dispatches on. */
  device: GPUDevice;
  /** Adapter name as the driver reports it, e.g. "llvmpipe (LLVM 15.0.6, 256 bits)". */
  name: string;
  /** True for software (CPU) adapters such as lavapipe and llvmpipe. */
  software: boolean;
  /** Whether the adapter offers `shader-f16` (detected; not used yet). */
  f16: boolean;
  /** Whether the adapter offers `timestamp-query` (the profiler and GPU timing need it). */
  timestamps: boolean;
  /** Whether the device has `subgroups` (Chromium's Dawn; not Deno 2.9's wgpu): reductions may use them. */
  subgroups: boolean;
  /** What the adapter says of itself (vendor, architecture, device, description). */
  info: { vendor: string; architecture: string; device: string; description: string };
  /** Every feature the adapter offers (the device enables only those the engine uses). */
  features: string[];
  /** The limits the device was created with (the adapter's own maxima where the engine asks for them). */
  limits: {
    maxStorageBufferBindingSize: number;
    maxBufferSize: number;
    maxStorageBuffersPerShaderStage: number;
    maxComputeWorkgroupsPerDimension: number;
    minStorageBufferOffsetAlignment: number;
    maxComputeWorkgroupStorageSize: number;
    maxComputeInvocationsPerWorkgroup: number;
  };
  /** Whether the device was asked for the adapter's maxima or WebGPU's defaults. */
  limitsMode: GpuLimitsMode;
}

/** Options for {@linkcode createGpu}. */
export interface GpuOptions {
  /** Passed to `requestAdapter`. */
  powerPreference?: GPUPowerPreference;
  /**
   * "adapter" (the default): ask for the adapter's maxima of the limits the engine uses;
   * "default": ask for none, so the device has WebGPU's default limits, what any adapter and
   * browser grants (8 storage buffers per stage, 128 MiB per binding, 16 KiB of workgroup
   * memory). Default: $RESNET_WEBGPU_LIMITS when set ("adapter" or "default"), else "adapter".
   */
  limits?: GpuLimitsMode;
}

/** Which limits the device is requested with (see {@linkcode GpuOptions.limits}). */
export type GpuLimitsMode = "adapter" | "default";

/** The limits mode from `options`, else $RESNET_WEBGPU_LIMITS; a wrong value is named. */
function limitsMode(options: GpuOptions): GpuLimitsMode {
  const asked = options.limits ?? env("RESNET_WEBGPU_LIMITS") ?? "adapter";
  if (asked !== "adapter" && asked !== "default") {
    const where = options.limits ? "GpuOptions.limits" : "$RESNET_WEBGPU_LIMITS";
    throw new RangeError(`${where} must be "adapter" or "default", got "${asked}"`);
  }
  return asked;
}

const LIMIT_NAMES = [
  "maxStorageBufferBindingSize",
  "maxBufferSize",
  "maxStorageBuffersPerShaderStage",
  "maxComputeWorkgroupStorageSize",
  "maxComputeInvocationsPerWorkgroup",
  "maxComputeWorkgroupSizeX",
  "maxComputeWorkgroupSizeY",
] as const;

/** Requests an adapter and a device with the adapter's maximum buffer and binding sizes. */
export async function createGpu(options: GpuOptions = {}): Promise<Gpu> {
  if (!("gpu" in navigator) || !navigator.gpu) {
    throw new NoAdapterError("navigator.gpu is missing in this runtime");
  }
  const mode = limitsMode(options);
  quietLavapipe();
  const adapter = await navigator.gpu.requestAdapter({
    powerPreference: options.powerPreference ?? "high-performance",
  });
  if (!adapter) throw new NoAdapterError();
  const requiredLimits: Record<string, number> = {};
  if (mode === "adapter") {
    for (const name of LIMIT_NAMES) requiredLimits[name] = adapter.limits[name];
  }
  const wanted = ["shader-f16", "timestamp-query", "subgroups"] as GPUFeatureName[];
  const requiredFeatures = wanted.filter((f) => adapter.features.has(f));
  const device = await adapter.requestDevice({
    requiredLimits,
    requiredFeatures,
  });
  const info = adapter.info;
  const name = info.description || info.device || info.vendor || "unknown adapter";
  const software = /llvmpipe|lavapipe|swiftshader|softpipe|warp/i.test(name) ||
    (info as unknown as { isFallbackAdapter?: boolean }).isFallbackAdapter === true ||
    info.architecture === "cpu";
  return {
    device,
    name,
    software,
    f16: device.features.has("shader-f16"),
    timestamps: device.features.has("timestamp-query"),
    subgroups: device.features.has("subgroups" as GPUFeatureName),
    info: {
      vendor: String(info.vendor ?? ""),
      architecture: String(info.architecture ?? ""),
      device: String(info.device ?? ""),
      description: String(info.description ?? ""),
    },
    features: [...adapter.features].map(String).sort(),
    limits: {
      maxStorageBufferBindingSize: device.limits.maxStorageBufferBindingSize,
      maxBufferSize: device.limits.maxBufferSize,
      maxStorageBuffersPerShaderStage: device.limits.maxStorageBuffersPerShaderStage,
      maxComputeWorkgroupsPerDimension: device.limits.maxComputeWorkgroupsPerDimension,
      minStorageBufferOffsetAlignment: device.limits.minStorageBufferOffsetAlignment,
      maxComputeWorkgroupStorageSize: device.limits.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: device.limits.maxComputeInvocationsPerWorkgroup,
    },
    limitsMode: mode,
  };
}

/** One line naming the adapter, marked when it is a software adapter. */
export function describeGpu(gpu: Gpu): string {
  const kind = gpu.software ? "software adapter" : "hardware adapter";
  const extras = [gpu.f16 ? "shader-f16" : "", gpu.timestamps ? "timestamp-query" : ""]
    .filter(Boolean).join(", ");
  const limits = gpu.limitsMode === "default" ? "; WebGPU default limits" : "";
  return `WebGPU: ${gpu.name} (${kind}${extras ? "; " + extras : ""}${limits})`;
}
