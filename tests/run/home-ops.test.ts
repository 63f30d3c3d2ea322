/**
 * A repository of the usual home-ops shape (tests/fixtures/home-ops), with
 * every chart behind an OCIRepository on a registry that is stopped: without
 * --enable-helm nothing needs a chart, so `build all`, `test` and the listings
 * fetch nothing and exit 0 offline. The Secret the apps substitute from exists
 * only in the cluster: a warning, not a failure.
 */
import { mkdtemp, readdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseAllDocuments } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../support/cli.js";
import { HOME_OPS_APPS, HOME_OPS_ENTRY, makeHomeOps } from "../support/home-ops.js";
import { startRegistry } from "../support/registry.js";
import type { TempRepo } from "../support/repo.js";

let repo: TempRepo;
let cacheDir: string;

beforeAll(async () => {
  // A registry that served the charts once and is stopped now: its port refuses.
  const registry = await startRegistry();
  await registry.stop();
  repo = await makeHomeOps(registry.host);
  cacheDir = await mkdtemp(path.join(os.tmpdir(), "flux-local-home-ops-cache-"));
});

afterAll(async () => {
  await repo?.cleanup();
  if (cacheDir) await rm(cacheDir, { recursive: true, force: true });
});

const cli = (...args: string[]) =>
  runCli([...args, "--path", HOME_OPS_ENTRY, "--cache-dir", cacheDir], { cwd: repo.root });

/** What was fetched into the cache (the render cache's kustomize output is not a fetch). */
async function cacheEntries(): Promise<string[]> {
  const entries = await readdir(cacheDir, { recursive: true });
  return entries.filter((e) => e !== "renders" && !e.startsWith(`renders${path.sep}`));
}

describe("a home-ops-style repository, offline, without --enable-helm", () => {
  it("build all renders every Kustomization, fetches nothing and exits 0", async () => {
    const out = await cli("build", "all");
    expect(out.stderr).not.toMatch(/failure/);
    expect(out.exitCode).toBe(0);
    const objects = parseAllDocuments(out.stdout, { version: "1.1" }).map(
      (d) => d.toJS() as { kind: string; metadata: Record<string, unknown> },
    );
    const releases = objects.filter((o) => o.kind === "HelmRelease");
    expect(
      releases.map((o) => `${String(o.metadata.namespace)}/${String(o.metadata.name)}`).sort(),
    ).toEqual(HOME_OPS_APPS);
    // Each app's objects carry its Kustomization's own namespace (inherited from its folder).
    const whoami = releases.find((o) => o.metadata.name === "whoami");
    expect(
      (whoami?.metadata.labels as Record<string, string>)["kustomize.toolkit.fluxcd.io/namespace"],
    ).toBe("default");
    // Quoted strings stay strings for a YAML 1.1 reader.
    const echo = releases.find((o) => o.metadata.name === "echo") as unknown as {
      spec: { values: { podAnnotations: Record<string, unknown> } };
    };
    expect(echo.spec.values.podAnnotations).toMatchObject({
      allowFirstLastIPs: "No",
      logging: "off",
      confirm: "y",
      "backup-time": "12:30",
      "max-connections": "1_000",
      hostname: "echo.",
      app: "echo",
    });
    expect(out.stderr).toContain("note: 4 HelmReleases not rendered (use --enable-helm)");
    expect(out.stderr).toContain(
      "Kustomization default/echo (kubernetes/apps/default/echo/ks.yaml",
    );
    expect(out.stderr).toContain(
      "substituteFrom Secret default/cluster-secrets is not in the repository (it exists only in the cluster); variables left unset: SECRET_DOMAIN",
    );
    expect(await cacheEntries()).toEqual([]);
  });

  it("test passes every Kustomization and skips the releases", async () => {
    const out = await cli("test");
    expect(out.exitCode).toBe(0);
    expect(out.stdout).toMatch(/5 passed, 0 failed, 4 skipped, 5 warnings in /);
    expect(await cacheEntries()).toEqual([]);
  });

  it("get sources lists the chart sources as NotNeeded; get ks, hr and cluster exit 0", async () => {
    const sources = await cli("get", "sources", "-A");
    expect(sources.exitCode).toBe(0);
    const rows = sources.stdout.trim().split("\n").slice(1);
    expect(rows).toHaveLength(4);
    for (const row of rows) expect(row).toMatch(/ocirepository\/\S+\s+Unknown\s+NotNeeded: /);
    for (const args of [
      ["get", "ks", "-A"],
      ["get", "hr", "-A"],
      ["get", "cluster"],
    ]) {
      const out = await cli(...args);
      expect(out.stderr).toBe("");
      expect(out.exitCode).toBe(0);
    }
    expect(await cacheEntries()).toEqual([]);
  });

  it("--strict-substitute makes the Secret that exists only in the cluster a failure", async () => {
    const out = await cli("build", "all", "--strict-substitute");
    expect(out.exitCode).toBe(1);
    expect(out.stderr).toContain(
      "substituteFrom Secret flux-system/cluster-secrets not found in the repository",
    );
  });

  it("--allow-missing-secrets tolerates it quietly", async () => {
    const out = await cli("build", "all", "--allow-missing-secrets");
    expect(out.exitCode).toBe(0);
    expect(out.stderr).not.toContain("warning");
  });
});
