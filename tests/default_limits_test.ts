// WebGPU's default limits (8 storage buffers per stage, 128 MiB per binding, 16 KiB of workgroup
// memory): what a browser may grant. A device asked for them runs the kernel tests unchanged.
import { assert, assertEquals, assertMatch, assertRejects } from "./assert.ts";
import { Engine } from "../engine/engine.ts";
import type { GpuLimitsMode } from "../engine/device.ts";

Deno.test('limits: "default" asks for WebGPU\'s defaults, "adapter" for the adapter\'s maxima', async () => {
  const d = await Engine.create({ limits: "default" });
  const a = await Engine.create({ limits: "adapter" });
  try {
    assertEquals(d.gpu.limitsMode, "default");
    assertEquals(d.gpu.limits.maxStorageBuffersPerShaderStage, 8);
    assertEquals(d.gpu.limits.maxStorageBufferBindingSize, 128 << 20);
    assertEquals(d.gpu.limits.maxComputeWorkgroupStorageSize, 16384);
    assertEquals(d.device.limits.maxStorageBuffersPerShaderStage, 8);
    const adapter = await navigator.gpu.requestAdapter();
    assertEquals(
      a.gpu.limits.maxStorageBuffersPerShaderStage,
      adapter!.limits.maxStorageBuffersPerShaderStage,
    );
  } finally {
    await d.close();
    await a.close();
  }
});

Deno.test("limits: a wrong mode is refused, naming where it came from", async () => {
  await assertRejects(
    () => Engine.create({ limits: "max" as unknown as GpuLimitsMode }),
    RangeError,
    "GpuOptions.limits",
  );
  Deno.env.set("RESNET_WEBGPU_LIMITS", "low");
  try {
    await assertRejects(
      () => Engine.create(),
      RangeError,
      '$RESNET_WEBGPU_LIMITS must be "adapter" or "default", got "low"',
    );
  } finally {
    Deno.env.delete("RESNET_WEBGPU_LIMITS");
  }
});

/** The kernel tests that run again under the default limits (every op family, every conv variant). */
const KERNEL_TESTS = [
  "ops_test.ts",
  "conv2d_test.ts",
  "winograd_test.ts",
  "batch_norm_test.ts",
  "pool_test.ts",
  "dropout_test.ts",
  "optim_test.ts",
];

Deno.test({
  name: "limits: the kernel tests pass on a device with only WebGPU's default limits",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const dir = new URL(".", import.meta.url).pathname;
    const r = await new Deno.Command(Deno.execPath(), {
      args: ["test", "-A", ...KERNEL_TESTS.map((f) => dir + f)],
      env: { RESNET_WEBGPU_LIMITS: "default", NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const out = new TextDecoder().decode(r.stdout) + new TextDecoder().decode(r.stderr);
    const summary = /^(ok|FAILED) \| (\d+) passed \| (\d+) failed/m.exec(out);
    assert(summary, `no test summary in:\n${out.slice(-3000)}`);
    assertEquals(summary[3], "0", `failures under the default limits:\n${out.slice(-6000)}`);
    assert(Number(summary[2]) > 30, `only ${summary[2]} tests ran`);
    // Every engine of those files was on the default limits (describeGpu says so).
    assertMatch(out, /WebGPU: .*WebGPU default limits\)/);
    assert(!/WebGPU: (?!.*WebGPU default limits\)).*\)$/m.test(out), "an engine with other limits");
  },
});
