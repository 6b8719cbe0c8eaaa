// Model specs: parameter counts as PyTorch counts them, names, shapes, FLOPs, printing, JSON (no GPU).
import { assert, assertEquals, assertThrows } from "./assert.ts";
import {
  basic,
  bottle,
  downsample,
  resnet,
  resnet101,
  resnet152,
  resnet18,
  resnet18a,
  resnet34,
  resnet34a,
  resnet50,
} from "../models/resnet.ts";
import { widenet } from "../models/widenet.ts";
import { batchNormNames, formatSpec, parameterCount, paramInfos } from "../models/spec.ts";
import { formatSummary, summary } from "../models/summary.ts";

Deno.test("parameter counts match PyTorch (docs/recipes.md and torchvision)", () => {
  assertEquals(parameterCount(resnet18a(10)), 11_173_962);
  assertEquals(parameterCount(resnet18(10)), 11_181_642);
  assertEquals(parameterCount(resnet34a(10)), 21_282_122);
  assertEquals(parameterCount(resnet50(10)), 23_528_522);
  assertEquals(parameterCount(widenet(16, 8, 0.3, 10)), 10_961_370);
  assertEquals(parameterCount(widenet(28, 10, 0.3, 10)), 36_479_194);
  // torchvision with 1000 classes (its published counts)
  assertEquals(parameterCount(resnet18(1000)), 11_689_512);
  assertEquals(parameterCount(resnet34(1000)), 21_797_672);
  assertEquals(parameterCount(resnet50(1000)), 25_557_032);
  assertEquals(parameterCount(resnet101(1000)), 44_549_160);
  assertEquals(parameterCount(resnet152(1000)), 60_192_808);
});

Deno.test("parameter names follow torchvision's ResNet state dict", () => {
  const names = paramInfos(resnet18a(10)).map((p) => p.name);
  const expect = [
    "conv1.weight",
    "bn1.weight",
    "bn1.bias",
    "bn1.running_mean",
    "bn1.running_var",
    "layer1.0.conv1.weight",
    "layer1.0.bn1.weight",
    "layer1.0.conv2.weight",
    "layer1.1.bn2.running_var",
    "layer2.0.downsample.0.weight",
    "layer2.0.downsample.1.weight",
    "layer2.0.downsample.1.running_mean",
    "layer4.1.bn2.bias",
    "fc.weight",
    "fc.bias",
  ];
  for (const n of expect) assert(names.includes(n), `missing ${n}`);
  assert(!names.some((n) => n.startsWith("layer1.0.downsample")), "layer1.0 has no downsample");
  assertEquals(new Set(names).size, names.length);
  // torchvision resnet18 has 62 trainable tensors + 40 running-stat tensors (+ 20 num_batches_tracked)
  assertEquals(names.length, 102);
  assertEquals(batchNormNames(resnet18a(10)).length, 20);
  const shapes = new Map(paramInfos(resnet50(10)).map((p) => [p.name, p.shape]));
  assertEquals(shapes.get("layer1.0.conv3.weight"), [256, 64, 1, 1]);
  assertEquals(shapes.get("layer1.0.downsample.0.weight"), [256, 64, 1, 1]);
  assertEquals(shapes.get("layer3.2.conv2.weight"), [256, 256, 3, 3]);
  assertEquals(shapes.get("conv1.weight"), [64, 3, 7, 7]);
  assertEquals(shapes.get("fc.weight"), [10, 2048]);
});

Deno.test("parameter names follow the WRN state dict (conv1, layerG.B.*, bn, fc)", () => {
  const infos = paramInfos(widenet(16, 8, 0.3, 10));
  const shapes = new Map(infos.map((p) => [p.name, p.shape]));
  assertEquals(shapes.get("conv1.weight"), [16, 3, 3, 3]);
  assertEquals(shapes.get("layer1.0.bn1.weight"), [16]);
  assertEquals(shapes.get("layer1.0.conv1.weight"), [128, 16, 3, 3]);
  assertEquals(shapes.get("layer1.0.bn2.running_var"), [128]);
  assertEquals(shapes.get("layer1.0.conv2.weight"), [128, 128, 3, 3]);
  assertEquals(shapes.get("layer1.0.shortcut.weight"), [128, 16, 1, 1]);
  assertEquals(shapes.get("layer2.0.shortcut.weight"), [256, 128, 1, 1]);
  assertEquals(shapes.get("layer3.1.bn1.bias"), [512]);
  assertEquals(shapes.get("bn.running_mean"), [512]);
  assertEquals(shapes.get("fc.weight"), [10, 512]);
  assertEquals(shapes.get("fc.bias"), [10]);
  assert(!shapes.has("layer1.1.shortcut.weight"), "only first blocks have a shortcut");
  assertEquals(infos.filter((p) => p.role === "conv_weight").length, 1 + 3 * (2 * 2 + 1));
});

Deno.test("blocks and the downsample rule", () => {
  assertEquals(basic(3, 64, 1, 1).layers.map((l) => l.name), [
    "conv1",
    "bn1",
    "relu1",
    "conv2",
    "bn2",
  ]);
  const b = bottle(3, 64, 1, 4);
  assertEquals(b.layers.map((l) => l.kind === "conv2d" ? `${l.in}>${l.out}k${l.kernel}` : l.name), [
    "3>64k1",
    "bn1",
    "relu1",
    "64>64k3",
    "bn2",
    "relu2",
    "64>256k1",
    "bn3",
  ]);
  assertEquals(downsample(64, 64, 1, 1), null);
  assert(downsample(64, 64, 2, 1) !== null, "stride 2 needs a downsample");
  assert(downsample(64, 64, 1, 4) !== null, "expansion needs a downsample");
  assertEquals(downsample(256, 64, 1, 4), null);
  assertThrows(() => widenet(15, 8, 0.3, 10), RangeError, "6·n + 4");
  assertThrows(() => resnet("basic", [2, 2, 2], 10, { stem: "cifar" }), RangeError, "4 positive");
});

Deno.test("output shapes and FLOPs per image match docs/recipes.md", () => {
  const r = summary(resnet18a(10), { input: [3, 32, 32] });
  assertEquals(r.output, [10]);
  assertEquals(r.params, 11_173_962);
  assert(Math.abs(r.flops / 1e9 - 1.11) < 0.005, `resnet18a ${r.flops / 1e9} GFLOP`);
  const shape = (name: string) => r.rows.find((x) => x.name === name)?.output;
  assertEquals(shape("layer1"), [64, 32, 32]);
  assertEquals(shape("layer2.0.downsample"), [128, 16, 16]);
  assertEquals(shape("layer4"), [512, 4, 4]);
  assertEquals(shape("avgpool"), [512, 1, 1]);
  const w = summary(widenet(16, 8, 0.3, 10));
  assert(Math.abs(w.flops / 1e9 - 3.10) < 0.01, `WRN-16-8 ${w.flops / 1e9} GFLOP`);
  assertEquals(w.rows.find((x) => x.name === "layer3")?.output, [512, 8, 8]);
  // ImageNet stem and size: torchvision's well-known 1.82 / 4.11 GMAC (×2 for FLOPs)
  const i18 = summary(resnet18(1000), { input: [3, 224, 224] });
  assert(Math.abs(i18.flops / 2e9 - 1.81) < 0.02, `resnet18 ${i18.flops / 2e9} GMAC`);
  assertEquals(i18.rows.find((x) => x.name === "maxpool")?.output, [64, 56, 56]);
  const i50 = summary(resnet50(1000), { input: [3, 224, 224] });
  assert(Math.abs(i50.flops / 2e9 - 4.09) < 0.03, `resnet50 ${i50.flops / 2e9} GMAC`);
  assertThrows(
    () => summary(widenet(16, 8, 0.3, 10), { input: [3, 16, 16] }),
    RangeError,
    "avgpool",
  );
  assertThrows(() => summary(resnet18a(10), { input: [1, 32, 32] }), RangeError, "conv1");
});

Deno.test("formatSpec prints a readable tree; formatSummary a table", () => {
  const text = formatSpec(resnet18a(10));
  const lines = text.split("\n");
  assertEquals(
    lines[0],
    'resnet18a = resnet("basic", [2, 2, 2, 2], 10, { stem: "cifar" }): 11,173,962 parameters',
  );
  const line = (start: string) => lines.find((l) => l.trimStart().startsWith(start)) ?? "";
  assert(
    /^├─ conv1 +conv2d 3→64, 3×3, stride 1, pad 1, no bias +1,728$/.test(line("├─ conv1")),
    text,
  );
  assert(text.includes("residual basic: relu(body(x) + downsample(x))"), text);
  assert(/└─ 1 +batchnorm2d 128 +256$/m.test(text), "downsample BN row");
  assert(/^└─ fc +linear 512→10, bias +5,130$/m.test(text), "fc row");
  assertEquals(lines.length, 1 + 10 + 4 * 2 * (1 + 5) + 3 * 3); // title, root, blocks, downsamples
  const wide = formatSpec(widenet(16, 8, 0.3, 10), { depth: 2 });
  assert(wide.includes("residual wide: a = pre(x); body(a) + shortcut(a)"), wide);
  assert(!wide.includes("dropout p=0.3"), "depth 2 hides block layers");
  assert(formatSpec(widenet(16, 8, 0.3, 10)).includes("pre bn1"), "pre layers are marked");
  const table = formatSummary(summary(resnet18a(10)));
  assert(table.includes("1.111 GFLOP forward per image"), table);
  assert(/layer4 +sequential: 2 basic blocks +\[512, 4, 4\] +8,393,728/.test(table), table);
});

Deno.test("specs survive a JSON round trip and stay plain data", () => {
  for (const spec of [resnet18a(10), resnet50(100), widenet(16, 8, 0.3, 10)]) {
    const back = JSON.parse(JSON.stringify(spec));
    assertEquals(back, spec);
    assertEquals(parameterCount(back), parameterCount(spec));
    assertEquals(formatSpec(back), formatSpec(spec));
  }
  assertEquals(
    resnet18a(10, { width: 16 }).builder,
    'resnet("basic", [2, 2, 2, 2], 10, { stem: "cifar", width: 16 })',
  );
  assertEquals(widenet(10, 2, 0, 10).builder, "widenet(10, 2, 0, 10)");
});
