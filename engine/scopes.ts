// The engine's stack of tensor scopes: which temporaries a scope frees at its end, and which
// survive (returned from it, or kept).
import { Tensor } from "./tensor.ts";

/** Every tensor in a scope's result: the value itself, array items, plain objects' values. */
function tensorsIn(value: unknown, into = new Set<Tensor>()): Set<Tensor> {
  if (value instanceof Tensor) into.add(value);
  else if (Array.isArray(value)) value.forEach((v) => tensorsIn(v, into));
  else if (
    value && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype
  ) {
    Object.values(value).forEach((v) => tensorsIn(v, into));
  }
  return into;
}

/** Nested scopes of tensors; the innermost owns each new tensor. */
export class ScopeStack {
  #scopes: Set<Tensor>[] = [];

  /** Gives a new tensor to the innermost scope (none outside every scope). */
  add(t: Tensor): void {
    this.#scopes.at(-1)?.add(t);
  }

  /** Takes a tensor out of every scope, so no scope frees it. */
  remove(t: Tensor): void {
    for (const s of this.#scopes) s.delete(t);
  }

  /** Runs `fn` in a new scope; frees what it created except the tensors it returns. */
  run<T>(fn: () => T): T {
    const s = new Set<Tensor>();
    this.#scopes.push(s);
    let result: T;
    try {
      result = fn();
      if (result instanceof Promise) throw new TypeError("scope: fn must be synchronous");
    } finally {
      this.#scopes.pop();
    }
    const survivors = tensorsIn(result);
    for (const t of s) {
      if (survivors.has(t)) this.add(t);
      else t.dispose();
    }
    return result;
  }

  /** Runs `fn` outside every scope (a planned step's tensors belong to its own pool). */
  outside<T>(fn: () => T): T {
    const scopes = this.#scopes;
    this.#scopes = [];
    try {
      return fn();
    } finally {
      this.#scopes = scopes;
    }
  }
}
