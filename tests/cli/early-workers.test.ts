/**
 * The kustomize workers start when a rendering command starts, before the
 * rest of the program loads (src/cli/entry.ts), and never outlive it: a run
 * that builds uses them, a run that fails before building stops them, help
 * starts none. The real CLI and the real worker, behind a script that notes
 * each start and each process id.
 */
import { access, chmod, constants, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../support/cli.js";
import { workerFile } from "../support/worker.js";
import { workerCount } from "../../src/render/kustomize/runner.js";

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const example = path.join(projectRoot, "testdata", "example");

let dir: string;
let wrapper: string;
let log: string;

beforeAll(async () => {
  await expect(
    access(workerFile, constants.X_OK),
    "the kustomize worker is built by `npm run setup`",
  ).resolves.toBeUndefined();
  dir = await mkdtemp(path.join(os.tmpdir(), "flux-local-early-"));
  log = path.join(dir, "starts.log");
  wrapper = path.join(dir, "worker.sh");
  await writeFile(wrapper, `#!/bin/sh\necho "$$" >> "${log}"\nexec "${workerFile}" "$@"\n`);
  await chmod(wrapper, 0o755);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function starts(): Promise<number[]> {
  const text = await readFile(log, "utf8").catch(() => "");
  const pids = text.split("\n").filter(Boolean).map(Number);
  await rm(log, { force: true });
  return pids;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function cli(args: string[]) {
  return runCli(args, {
    cwd: projectRoot,
    runCache: true,
    env: {
      FLUX_LOCAL_KUSTOMIZE_WORKER: wrapper,
      FLUX_LOCAL_RUN_CACHE: "0",
      FLUX_LOCAL_CACHE_DIR: path.join(dir, "cache"),
    },
  });
}

describe("kustomize workers started with the command", () => {
  it("serve the run's builds and are gone when it ends", async () => {
    const result = await cli([
      "build",
      "ks",
      "--path",
      example,
      "--concurrency",
      "2",
      "--no-cache",
    ]);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toContain("kind: Kustomization");
    const pids = await starts();
    expect(pids.length).toBe(workerCount(2));
    expect(pids.filter(alive)).toEqual([]);
  });

  it("are stopped when the command fails before it builds", async () => {
    const result = await cli(["build", "ks", "--path", path.join(dir, "missing"), "--no-cache"]);
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toContain("missing");
    // Started early or not at all (a fast failure may beat the start), never left running.
    expect((await starts()).filter(alive)).toEqual([]);
  });

  it("are stopped after a usage error", async () => {
    const result = await cli(["build", "ks", "--path", example, "--no-such-flag"]);
    expect(result.exitCode).toBe(2);
    expect((await starts()).filter(alive)).toEqual([]);
  });

  it("do not start for help, nor for a --concurrency the command refuses", async () => {
    expect((await cli(["build", "ks", "--help"])).exitCode).toBe(0);
    const refused = await cli(["build", "ks", "--path", example, "--concurrency", "0"]);
    expect(refused.exitCode).toBe(2);
    expect(await starts()).toEqual([]);
  });
});

describe("workerCount", () => {
  it("is the concurrency, at most the cores less one, one at least", () => {
    const cores = os.availableParallelism();
    expect(workerCount(1)).toBe(1);
    expect(workerCount(1000)).toBe(Math.max(1, cores - 1));
    expect(workerCount(2)).toBe(Math.max(1, Math.min(2, cores - 1)));
  });
});
