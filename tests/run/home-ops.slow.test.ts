/**
 * The home-ops-style repository with its charts on a loopback registry:
 * `build all --enable-helm` and `test --enable-helm` render every release,
 * each chart fetched through its own OCIRepository.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseAllDocuments } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { packageCharts, pushCharts, type PackagedRepo } from "../helm/support.js";
import { runCli } from "../support/cli.js";
import { HOME_OPS_APPS, HOME_OPS_ENTRY, makeHomeOps } from "../support/home-ops.js";
import { startRegistry, type Registry } from "../support/registry.js";
import type { TempRepo } from "../support/repo.js";

let registry: Registry;
let charts: PackagedRepo;
let repo: TempRepo;
let cacheDir: string;

beforeAll(async () => {
  registry = await startRegistry();
  charts = await packageCharts({ podinfo: ["6.5.4"] });
  await pushCharts(charts, registry.host, ["podinfo-6.5.4.tgz"]);
  repo = await makeHomeOps(registry.host);
  cacheDir = await mkdtemp(path.join(os.tmpdir(), "flux-local-home-ops-cache-"));
}, 120_000);

afterAll(async () => {
  await repo?.cleanup();
  await charts?.cleanup();
  await registry?.stop();
  if (cacheDir) await rm(cacheDir, { recursive: true, force: true });
});

const cli = (...args: string[]) =>
  runCli([...args, "--path", HOME_OPS_ENTRY, "--cache-dir", cacheDir], { cwd: repo.root });

describe("a home-ops-style repository with its charts on a loopback registry", () => {
  it("build all --enable-helm renders every release", async () => {
    const out = await cli("build", "all", "--enable-helm");
    expect(out.stderr).not.toMatch(/failure/);
    expect(out.exitCode).toBe(0);
    // One Deployment per release, named after it (the test chart's template).
    const deployments = parseAllDocuments(out.stdout)
      .map((d) => d.toJS() as { kind: string; metadata: { name: string } })
      .filter((o) => o.kind === "Deployment")
      .map((o) => o.metadata.name)
      .sort();
    expect(deployments).toEqual(HOME_OPS_APPS.map((a) => a.split("/")[1]).sort());
    expect(out.stderr).not.toContain("not rendered");
  });

  it("test --enable-helm passes every Kustomization and release", async () => {
    const out = await cli("test", "--enable-helm");
    expect(out.exitCode).toBe(0);
    expect(out.stdout).toMatch(/9 passed, 0 failed, 0 skipped, 5 warnings in /);
  });
});
