// What the engine asks of its host beyond WebGPU: Deno's environment. The browser build swaps
// this file for web/host.ts (a page has no environment variables).

/** The environment variable `name`, or undefined when unset or not readable (no --allow-env). */
export function env(name: string): string | undefined {
  try {
    return Deno.env.get(name) || undefined;
  } catch {
    return undefined;
  }
}

/** Mesa's Vulkan driver warns on every start without XDG_RUNTIME_DIR; give it /tmp when unset. */
export function quietLavapipe(): void {
  try {
    if (!Deno.env.get("XDG_RUNTIME_DIR")) Deno.env.set("XDG_RUNTIME_DIR", "/tmp");
  } catch {
    // no --allow-env: the warning is harmless
  }
}

/** The host's available memory in bytes (Linux /proc/meminfo MemAvailable), or null unknown. */
export function availableMemory(): number | null {
  try {
    const m = /^MemAvailable:\s+(\d+) kB/m.exec(Deno.readTextFileSync("/proc/meminfo"));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}
