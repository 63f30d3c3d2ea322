/**
 * Layers point down. Each top-level part of src/ may import only the parts
 * listed for it, so reconciling (store, controllers) stays above artifacts
 * (a reference in, bytes on disk out) and the CLI stays a thin shell.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const SRC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../src");

/** Who may import whom (besides itself). `run` is src/run.ts, `index` src/index.ts. */
const ALLOWED: Record<string, readonly string[]> = {
  util: [],
  exec: ["util"],
  flux: ["util"],
  store: ["flux", "util"],
  artifacts: ["flux", "util", "exec"],
  discovery: ["flux", "util", "store"],
  render: ["flux", "util", "exec", "discovery"],
  controllers: ["flux", "util", "exec", "store", "artifacts", "discovery", "render"],
  diagnostics: ["flux", "util", "discovery", "render"],
  run: ["flux", "util", "exec", "store", "artifacts", "discovery", "render", "controllers"],
  views: ["flux", "util", "store", "run"],
  /** `flux-local diff`: both sides of a change, matched and formatted. */
  diff: ["flux", "util", "exec", "store", "discovery", "render", "run", "views"],
  cli: [
    "flux",
    "util",
    "exec",
    "store",
    "artifacts",
    "discovery",
    "render",
    "controllers",
    "diagnostics",
    "run",
    "views",
    "diff",
  ],
  index: ["flux", "util", "store", "render", "run", "views"],
};

function layerOf(file: string): string {
  const rel = path.relative(SRC, file).split(path.sep);
  return rel.length === 1 ? rel[0]!.replace(/\.ts$/, "") : rel[0]!;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const full = path.join(dir, d.name);
    if (d.isDirectory()) return sourceFiles(full);
    return d.name.endsWith(".ts") ? [full] : [];
  });
}

const IMPORT = /(?:from\s+|import\(\s*)["'](\.{1,2}\/[^"']+)["']/g;

describe("layers", () => {
  const files = sourceFiles(SRC);

  it("every part of src/ has a rule", () => {
    const parts = new Set(files.map(layerOf));
    expect([...parts].filter((p) => !(p in ALLOWED))).toEqual([]);
  });

  it("no import runs up a layer", () => {
    const violations: string[] = [];
    for (const file of files) {
      const from = layerOf(file);
      for (const match of readFileSync(file, "utf8").matchAll(IMPORT)) {
        const target = path.resolve(path.dirname(file), match[1]!).replace(/\.js$/, ".ts");
        const to = layerOf(target);
        if (to !== from && !ALLOWED[from]?.includes(to)) {
          violations.push(`${path.relative(SRC, file)} imports ${path.relative(SRC, target)}`);
        }
      }
    }
    expect(violations).toEqual([]);
  });
});
