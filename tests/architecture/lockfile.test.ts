/**
 * The lockfile in git is the one `npm install` (scripts/setup.sh) keeps: when
 * its root entry disagrees with package.json, npm rewrites it and a fresh
 * clone is dirty right after set-up.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "..", "..");
const read = (file: string) =>
  JSON.parse(readFileSync(path.join(root, file), "utf8")) as Record<string, unknown>;

describe("package-lock.json", () => {
  it("matches package.json, so setup leaves a fresh clone clean", () => {
    const pkg = read("package.json");
    const lock = read("package-lock.json") as {
      name: string;
      version: string;
      lockfileVersion: number;
      packages: Record<string, Record<string, unknown>>;
    };
    expect(lock.name).toBe(pkg.name);
    expect(lock.version).toBe(pkg.version);
    expect(lock.lockfileVersion).toBe(3);
    const rootEntry = lock.packages[""] ?? {};
    for (const field of ["dependencies", "devDependencies", "optionalDependencies", "engines"]) {
      expect({ [field]: rootEntry[field] }).toEqual({ [field]: pkg[field] });
    }
    // Every dependency named in package.json is locked.
    const named = {
      ...(pkg.dependencies as Record<string, string> | undefined),
      ...(pkg.devDependencies as Record<string, string> | undefined),
    };
    for (const name of Object.keys(named)) {
      expect(lock.packages[`node_modules/${name}`], name).toBeDefined();
    }
  });
});
