/**
 * The render cache for HelmReleases: a second run with nothing changed starts
 * no helm; a changed chart file or changed values render again; --no-cache
 * and --enable-dns neither read nor write it. Counted with one helm process
 * per render (FLUX_LOCAL_HELM_WORKER=0).
 */
import { appendFile, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { defaultHelmOptions } from "../../src/controllers/helmrelease/options.js";
import { onCommand } from "../../src/exec/run.js";
import { render, type RenderRequest } from "../../src/run.js";
import { bootstrap, fluxKustomization, useTempRepos } from "../support/repo.js";
import { useEnv } from "../support/worker.js";
import { chartFiles, docs, gitChart, helmRelease } from "./support.js";

describe("helm render cache", () => {
  const makeRepo = useTempRepos();
  useEnv("FLUX_LOCAL_HELM_WORKER", "0");
  let cacheDir: string;
  beforeEach(async () => {
    cacheDir = await mkdtemp(path.join(os.tmpdir(), "flux-local-helm-cache-"));
  });
  afterEach(async () => {
    await rm(cacheDir, { recursive: true, force: true });
  });

  async function repo(replicas: number) {
    return makeRepo({
      "clusters/prod/flux-system/gotk.yaml": bootstrap(),
      "clusters/prod/apps.yaml": fluxKustomization("apps", { path: "./apps" }),
      ...(await chartFiles("podinfo", "charts/podinfo")),
      "apps/release.yaml": docs(
        helmRelease("podinfo", "web", {
          chart: gitChart("./charts/podinfo"),
          values: { replicaCount: replicas },
        }),
      ),
    });
  }

  async function counted(request: RenderRequest, dns = false) {
    let templates = 0;
    const stop = onCommand(({ argv }) => {
      if (argv.includes("template")) templates++;
    });
    try {
      const result = await render({
        cacheDir,
        ...request,
        helm: { ...defaultHelmOptions(), enableDns: dns },
      });
      const entry = result.store.get({ kind: "HelmRelease", namespace: "web", name: "podinfo" });
      expect(entry?.status.phase, entry?.status.message).toBe("Ready");
      return { templates, output: stringify(entry?.artifact) };
    } finally {
      stop();
    }
  }

  it("renders once, then serves the same objects with no helm", async () => {
    const r = await repo(2);
    const cold = await counted({ path: "clusters/prod", cwd: r.root });
    expect(cold.templates).toBe(1);
    const warm = await counted({ path: "clusters/prod", cwd: r.root });
    expect(warm.templates).toBe(0);
    expect(warm.output).toBe(cold.output);
  });

  it("renders again when a chart file or the values change", async () => {
    const r = await repo(2);
    await counted({ path: "clusters/prod", cwd: r.root });
    await appendFile(
      path.join(r.root, "charts/podinfo/templates/service.yaml"),
      "\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: added-by-test\n",
    );
    const chart = await counted({ path: "clusters/prod", cwd: r.root });
    expect(chart.templates).toBe(1);
    expect(chart.output).toContain("added-by-test");

    const other = await repo(7);
    expect((await counted({ path: "clusters/prod", cwd: other.root })).templates).toBe(1);
    const values = await counted({ path: "clusters/prod", cwd: other.root });
    expect(values.templates).toBe(0);
    expect(values.output).toContain("replicas: 7");
  });

  it("is neither read nor written with --no-cache or --enable-dns", async () => {
    const r = await repo(2);
    const a = await counted({ path: "clusters/prod", cwd: r.root, noCache: true });
    const b = await counted({ path: "clusters/prod", cwd: r.root, noCache: true });
    const c = await counted({ path: "clusters/prod", cwd: r.root }, true);
    const d = await counted({ path: "clusters/prod", cwd: r.root }, true);
    expect([a.templates, b.templates, c.templates, d.templates]).toEqual([1, 1, 1, 1]);
  });
});
