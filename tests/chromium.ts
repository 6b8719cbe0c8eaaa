// The Chromium driver lives in tasks/chromium.ts (`deno task doctor --browser` uses it too).
export * from "../tasks/chromium.ts";
