/**
 * The kustomize worker's own Go tests (worker/*_test.go): the order of keys
 * and the scalars of the objects it writes straight from kustomize's
 * resources, held to kustomize's YAML text and to the go-yaml encoder that
 * writes it. Run with the Go toolchain `npm run setup` built the worker with.
 */
import { execa } from "execa";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

describe("the kustomize worker's Go tests", () => {
  it("pass", { timeout: 300_000 }, async () => {
    const result = await execa("go", ["test", "./..."], {
      cwd: path.join(projectRoot, "worker"),
      reject: false,
      all: true,
    });
    expect(result.exitCode, String(result.all)).toBe(0);
  });
});
