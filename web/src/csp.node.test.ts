// The CSP (style-src 'self') refuses style attributes, so React's `style` prop must never be used,
// and nothing may reach for Web Storage (credentials never live where scripts can read them).
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return /\.tsx?$/.test(entry.name) && !/\.test\.tsx?$/.test(entry.name) ? [path] : [];
  });
}

const root = join(import.meta.dirname, "..");
const files = [...sources(join(root, "src")), ...sources(join(root, "client/src"))];

describe("source rules", () => {
  it("finds the sources", () => {
    expect(files.length).toBeGreaterThan(10);
  });

  it.each(files.map((f) => [f.slice(root.length + 1), f]))("%s sets no inline style and uses no Web Storage", (_, file) => {
    const text = readFileSync(file, "utf8");
    expect(text).not.toMatch(/\bstyle=\{/);
    expect(text).not.toMatch(/dangerouslySetInnerHTML/);
    expect(text).not.toMatch(/\b(localStorage|sessionStorage)\s*[.[]/);
  });
});
