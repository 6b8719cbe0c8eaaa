// Assertions from node:assert/strict, in the shape the tests use (JSR's @std/assert is unreachable here).
import nodeAssert from "node:assert/strict";

/** Asserts a condition. */
export function assert(cond: unknown, msg = "assertion failed"): asserts cond {
  nodeAssert.ok(cond, msg);
}

/** Asserts deep equality. */
export function assertEquals<T>(actual: T, expected: T, msg?: string): void {
  nodeAssert.deepStrictEqual(actual, expected, msg);
}

// deno-lint-ignore no-explicit-any
type ErrorClass = new (...args: any[]) => Error;

function check(e: unknown, cls?: ErrorClass, includes?: string): void {
  if (cls && !(e instanceof cls)) {
    throw new Error(`expected ${cls.name}, got ${(e as Error)?.name}: ${(e as Error)?.message}`);
  }
  if (includes && !String((e as Error)?.message).includes(includes)) {
    throw new Error(`expected message containing "${includes}", got "${(e as Error)?.message}"`);
  }
}

/** Asserts fn throws (optionally of class cls, with a message containing `includes`). */
export function assertThrows(fn: () => unknown, cls?: ErrorClass, includes?: string): Error {
  try {
    fn();
  } catch (e) {
    check(e, cls, includes);
    return e as Error;
  }
  throw new Error("expected a throw");
}

/** Asserts the promise from fn rejects (optionally of class cls, with `includes` in the message). */
export async function assertRejects(
  fn: () => Promise<unknown>,
  cls?: ErrorClass,
  includes?: string,
): Promise<Error> {
  try {
    await fn();
  } catch (e) {
    check(e, cls, includes);
    return e as Error;
  }
  throw new Error("expected a rejection");
}

/** Asserts that `actual` contains `expected`, showing both when it does not. */
export function assertStringIncludes(actual: string, expected: string, msg?: string): void {
  nodeAssert.ok(
    actual.includes(expected),
    `${msg ? msg + ": " : ""}expected to find "${expected}" in:\n${actual}`,
  );
}

/** Asserts that `actual` matches `re`. */
export function assertMatch(actual: string, re: RegExp, msg?: string): void {
  nodeAssert.match(actual, re, msg);
}
