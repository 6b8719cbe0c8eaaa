// A device's errors as named exceptions: validation and out-of-memory errors with the kernel's
// label, and the loss of the device (driver reset, GPU removed, destroyed by someone else).
/// <reference types="@webgpu/types" />
import { DeviceError } from "./device.ts";

/** Labels wgpu and Dawn put in messages: `… with 'conv2d.wgsl:forward' label …`, `[… "label"]`. */
const LABEL = /with '([^']+)' label|\[\w+ "([^"]+)"\]/;

/**
 * An error the GPU reported for work already recorded (WebGPU reports them late, at the next
 * sync): the results since the last sync are not to be trusted. `kernel` is the label of the
 * kernel whose pipeline or bind group failed, when the driver's messages name one.
 */
export class GpuError extends DeviceError {
  /** "validation", "out-of-memory" or "internal". */
  readonly kind: string;
  /** The driver's first message. */
  readonly detail: string;
  /** The label of the failing kernel (`file.wgsl:entry`), when a message names it. */
  kernel: string | undefined;
  /** An error of `kind` with the driver's message and, when known, the kernel's label. */
  constructor(kind: string, detail: string, kernel?: string) {
    super("");
    this.name = kind === "out-of-memory" ? "GpuOutOfMemoryError" : "GpuValidationError";
    this.kind = kind;
    this.detail = detail;
    this.kernel = kernel;
    this.message = this.#text();
  }

  /** Names the kernel once a later message of the same failure gives its label. */
  nameKernel(kernel: string): void {
    this.kernel ??= kernel;
    this.message = this.#text();
  }

  #text(): string {
    const where = this.kernel ? ` in kernel ${this.kernel}` : "";
    const what = this.kind === "out-of-memory"
      ? "GPU out of memory"
      : this.kind === "internal"
      ? "GPU internal error"
      : "GPU validation error";
    return `${what}${where}: ${this.detail}`;
  }
}

/** The device was lost while in use (not closed by the engine): nothing more runs on it. */
export class DeviceLostError extends DeviceError {
  /** The reason the device's `lost` promise gave ("destroyed" or "unknown"). */
  readonly reason: string;
  /** A loss for `reason`, with the driver's message. */
  constructor(reason: string, detail: string) {
    super(
      `the GPU device was lost (${reason}${
        detail && detail !== "device was lost" ? `: ${detail}` : ""
      }): the driver was reset, the GPU removed, or the device destroyed while in use`,
    );
    this.name = "DeviceLostError";
    this.reason = reason;
  }
}

function kindOf(error: GPUError): string {
  const name = error.constructor?.name ?? "";
  if (name.includes("OutOfMemory")) return "out-of-memory";
  if (name.includes("Internal")) return "internal";
  return "validation";
}

/**
 * Watches `device`: the first uncaptured error or a loss the engine did not cause (`closing()`
 * false) becomes {@linkcode DeviceErrors.first}; later messages only add the kernel's label.
 */
export class DeviceErrors {
  /** The first error: what every later dispatch, sync and read throws. */
  first: DeviceError | null = null;
  #pending: Promise<void>[] = [];
  static #byDevice = new WeakMap<GPUDevice, DeviceErrors>();

  /** Watches `device`; `closing()` tells a loss the engine caused (its own close) from others. */
  constructor(device: GPUDevice, closing: () => boolean) {
    DeviceErrors.#byDevice.set(device, this);
    device.addEventListener("uncapturederror", (e) => {
      const error = (e as GPUUncapturedErrorEvent).error;
      const m = LABEL.exec(error.message);
      this.#note(error, m ? (m[1] ?? m[2]) : undefined);
    });
    device.lost.then((info) => {
      if (!closing()) this.first ??= new DeviceLostError(info.reason ?? "unknown", info.message);
    });
  }

  /**
   * Runs `create` (a bind group's creation) inside a validation error scope, so that its error,
   * reported later, carries `label`: the kernel the bind group is for. Without a watcher for
   * `device` it just runs `create`.
   */
  static scoped<T>(device: GPUDevice, label: string, create: () => T): T {
    const self = DeviceErrors.#byDevice.get(device);
    if (!self) return create();
    device.pushErrorScope("validation");
    try {
      return create();
    } finally {
      self.#pending.push(
        device.popErrorScope().then((e) => {
          if (e) self.#note(e, label);
        }, () => {}),
      );
    }
  }

  /** Waits for the scopes opened so far to report. */
  async settled(): Promise<void> {
    while (this.#pending.length) {
      const pending = this.#pending;
      this.#pending = [];
      await Promise.all(pending);
    }
  }

  #note(error: GPUError, label: string | undefined): void {
    if (!this.first) this.first = new GpuError(kindOf(error), error.message, label);
    else if (label && this.first instanceof GpuError) this.first.nameKernel(label);
  }
}
