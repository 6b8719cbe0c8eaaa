// Elementwise ops with their gradients: add, mul, scale, relu.
import type { Tensor } from "../tensor.ts";
import { grid } from "../grid.ts";
import code from "../../kernels/elementwise.wgsl" with { type: "text" };

const SRC = { name: "elementwise.wgsl", code };

function sameShape(op: string, a: Tensor, b: Tensor): void {
  if (a.size !== b.size || a.shape.join() !== b.shape.join()) {
    throw new RangeError(`${op}: shapes differ: ${a} and ${b}`);
  }
}

function binary(entry: string, a: Tensor, b: Tensor): Tensor {
  const y = a.engine.tensor(a.shape);
  a.engine.run(SRC, entry, { x: a, b, y, p: { n: a.size, s: 0 } }, grid(a.size, 256));
  return y;
}

/** Elementwise a + b (same shapes). */
export function add(a: Tensor, b: Tensor): Tensor {
  sameShape("add", a, b);
  const y = binary("add", a, b);
  a.engine.record([a, b], y, (gy) => [scaleRaw(gy, 1), scaleRaw(gy, 1)]);
  return y;
}

/** Elementwise a · b (same shapes). */
export function mul(a: Tensor, b: Tensor): Tensor {
  sameShape("mul", a, b);
  const y = binary("mul", a, b);
  a.engine.record([a, b], y, (gy) => [
    a.requiresGrad ? binary("mul", gy, b) : null,
    b.requiresGrad ? binary("mul", gy, a) : null,
  ]);
  return y;
}

function scaleRaw(x: Tensor, s: number): Tensor {
  const y = x.engine.tensor(x.shape);
  x.engine.run(SRC, "scale", { x, y, p: { n: x.size, s } }, grid(x.size, 256));
  return y;
}

/** x · s for a constant s. */
export function scale(x: Tensor, s: number): Tensor {
  const y = scaleRaw(x, s);
  x.engine.record([x], y, (gy) => [scaleRaw(gy, s)]);
  return y;
}

/** max(x, 0). */
export function relu(x: Tensor): Tensor {
  const y = x.engine.tensor(x.shape);
  x.engine.run(SRC, "relu", { x, y, p: { n: x.size, s: 0 } }, grid(x.size, 256));
  x.engine.record([x], y, (gy) => [reluBackward(gy, y)]);
  return y;
}

/** The gradient of relu: gy where y > 0 (y the relu's output or input). */
export function reluBackward(gy: Tensor, y: Tensor): Tensor {
  const gx = gy.engine.tensor(gy.shape);
  gy.engine.run(
    SRC,
    "reluBackward",
    { x: y, gy, y: gx, p: { n: gy.size, s: 0 } },
    grid(gy.size, 256),
  );
  return gx;
}
