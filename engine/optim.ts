// SGD exactly as torch.optim.SGD (momentum, dampening, weight decay, Nesterov), one fused kernel.
import type { ParamStore } from "./params.ts";
import type { Tensor } from "./tensor.ts";
import { grid } from "./grid.ts";
import code from "../kernels/sgd.wgsl" with { type: "text" };

const SRC = { name: "sgd.wgsl", code };

/** Hyper-parameters of {@linkcode SGD}, named as in PyTorch. */
export interface SgdOptions {
  /** Learning rate. */
  lr: number;
  /** Momentum factor (default 0). */
  momentum?: number;
  /** Dampening of the momentum (default 0). */
  dampening?: number;
  /** L2 weight decay added to the gradient (default 0). */
  weightDecay?: number;
  /** Nesterov momentum (default false; needs momentum > 0 and dampening 0). */
  nesterov?: boolean;
}

/** Stochastic gradient descent over every parameter of a {@linkcode ParamStore}, in place. */
export class SGD {
  /** The parameters it updates. */
  readonly store: ParamStore;
  /** Learning rate, read at every step (and every replay of a planned step). */
  lr: number;
  /** Momentum factor. */
  readonly momentum: number;
  /** Dampening of the momentum. */
  readonly dampening: number;
  /** L2 weight decay. */
  readonly weightDecay: number;
  /** Whether the update is Nesterov's. */
  readonly nesterov: boolean;
  /** The momentum buffer, same flat layout as the weights. */
  readonly momentumBuffer: Tensor;
  /** Steps taken so far (0 means the momentum buffer is not yet initialised). */
  steps = 0;

  /** SGD over every parameter of `store`, as `torch.optim.SGD` computes it. */
  constructor(store: ParamStore, options: SgdOptions) {
    const { lr, momentum = 0, dampening = 0, weightDecay = 0, nesterov = false } = options;
    if (!(lr >= 0)) throw new RangeError(`SGD: invalid learning rate ${lr}`);
    if (!(momentum >= 0)) throw new RangeError(`SGD: invalid momentum ${momentum}`);
    if (!(weightDecay >= 0)) throw new RangeError(`SGD: invalid weight decay ${weightDecay}`);
    if (nesterov && (momentum <= 0 || dampening !== 0)) {
      throw new RangeError("SGD: Nesterov momentum requires a momentum and zero dampening");
    }
    this.store = store;
    this.lr = lr;
    this.momentum = momentum;
    this.dampening = dampening;
    this.weightDecay = weightDecay;
    this.nesterov = nesterov;
    this.momentumBuffer = store.engine.persistent(store.weights.shape);
    store.engine.fill(this.momentumBuffer, 0);
  }

  /**
   * Records one update of every parameter from its gradient (dispatched in binding-sized chunks).
   * In a planned step the learning rate is read at every replay and the step count advances.
   */
  step(): void {
    const e = this.store.engine;
    let first = this.steps === 0;
    this.steps++;
    e.onReplay(() => {
      first = this.steps === 0;
      this.steps++;
    });
    const total = this.store.weights.size;
    const maxFloats = Math.floor(e.gpu.limits.maxStorageBufferBindingSize / 4 / 256) * 256;
    for (let start = 0; start < total; start += maxFloats) {
      const n = Math.min(maxFloats, total - start);
      const view = (t: Tensor) => e.view(t.buffer, t.offset + start * 4, [n]);
      e.run(SRC, "step", {
        w: view(this.store.weights),
        g: view(this.store.grads),
        m: view(this.momentumBuffer),
        p: () => ({
          n4: n / 4,
          lr: this.lr,
          momentum: this.momentum,
          dampening: this.dampening,
          weightDecay: this.weightDecay,
          nesterov: this.nesterov ? 1 : 0,
          first: first ? 1 : 0,
        }),
      }, grid(n / 4, 256));
    }
  }

  /** Frees the momentum buffer. */
  dispose(): void {
    this.momentumBuffer.dispose();
  }
}
