/**
 * The kustomize worker `npm run setup` builds, for the tests that run it:
 * its path, a check (before the file's tests) that it is there, and pools
 * that are closed after each test.
 */
import { access, constants } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeAll, beforeEach, expect } from "vitest";
import { stringify } from "yaml";
import { WorkerPool, WORKER_NAME } from "../../src/render/kustomize/runner.js";
import type { RenderResult } from "../../src/run.js";

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

export const workerFile = path.join(projectRoot, ".tools", "bin", WORKER_NAME);

/** Call at a test file's top level: a factory of pools of `size` workers of `file`. */
export function useWorkerPools(defaultSize: number): (file?: string, size?: number) => WorkerPool {
  beforeAll(async () => {
    await expect(
      access(workerFile, constants.X_OK),
      "the kustomize worker is built by `npm run setup`",
    ).resolves.toBeUndefined();
  });
  const pools: WorkerPool[] = [];
  afterEach(async () => {
    await Promise.all(pools.splice(0).map((p) => p.close()));
  });
  return (file = workerFile, size = defaultSize) => {
    const made = new WorkerPool(file, size);
    pools.push(made);
    return made;
  };
}

/**
 * Call at a describe's top level: every test in it runs with `name` set to
 * `value` (FLUX_LOCAL_HELM_WORKER=0: one helm process per render, each seen
 * by onCommand), restored after.
 */
export function useEnv(name: string, value: string): void {
  let saved: string | undefined;
  beforeEach(() => {
    saved = process.env[name];
    process.env[name] = value;
  });
  afterEach(() => {
    if (saved === undefined) delete process.env[name];
    else process.env[name] = saved;
  });
}

/** Run `body` with `name` set to `value` in process.env, restored after. */
export async function withEnv<T>(name: string, value: string, body: () => Promise<T>): Promise<T> {
  const saved = process.env[name];
  process.env[name] = value;
  try {
    return await body();
  } finally {
    if (saved === undefined) delete process.env[name];
    else process.env[name] = saved;
  }
}

/**
 * A run's issues and every object's status and artifact, as text to compare
 * runs by; objects by key (the store keeps them in the order they came, which
 * depends on which render finished first).
 */
export function runSnapshot(result: RenderResult): string {
  const entries = [...result.store.list()].sort((a, b) => a.key.localeCompare(b.key));
  return stringify({
    issues: result.issues,
    entries: entries.map((e) => ({
      key: e.key,
      phase: e.status.phase,
      reason: e.status.reason,
      message: e.status.message,
      artifact: e.artifact,
    })),
  });
}
