/**
 * The run cache and where charts come from. The network: a run that fetched
 * a pinned reference (an exact chart version, from a real Helm repository on
 * loopback) into the source cache is kept and replayed next time, as the run
 * after it, served from the cache, would be; a run whose pinned fetch failed,
 * or that used a moving reference (a version range), is not. The checkout: a
 * run over a chart in it is kept; a changed chart file, or a file added in one
 * of its folders, renders again (the chart's files are listed one folder at a
 * time, so each listing is checked on replay).
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startChartServer, type ChartServer } from "../support/chart-server.js";
import { runCli, type CliResult } from "../support/cli.js";
import { bootstrap, fluxKustomization, useTempRepos } from "../support/repo.js";
import {
  chartFiles,
  docs,
  gitChart,
  helmRelease,
  helmRepository,
  indexCharts,
  packageCharts,
  type PackagedRepo,
} from "../helm/support.js";

const REPLAYED = "run cache: replayed";
const makeRepo = useTempRepos();

let charts: PackagedRepo;
let server: ChartServer;
beforeAll(async () => {
  charts = await packageCharts({ podinfo: ["6.5.4"] });
  server = await startChartServer(charts.dir);
  await indexCharts(charts, server.url);
});
afterAll(async () => {
  await server?.stop();
  await charts?.cleanup();
});

let cacheDir: string;
beforeEach(async () => {
  cacheDir = await mkdtemp(path.join(os.tmpdir(), "flux-local-run-cache-net-"));
});
afterEach(async () => {
  await rm(cacheDir, { recursive: true, force: true });
});

function cluster(url: string, version: string): Record<string, string> {
  return {
    "clusters/prod/flux-system/gotk.yaml": bootstrap(),
    "clusters/prod/apps.yaml": fluxKustomization("apps", { path: "./apps" }),
    "apps/repo.yaml": docs(helmRepository("charts", { url })),
    "apps/release.yaml": docs(
      helmRelease("podinfo", "web", {
        chart: {
          spec: {
            chart: "podinfo",
            version,
            sourceRef: { kind: "HelmRepository", name: "charts", namespace: "flux-system" },
          },
        },
      }),
    ),
  };
}

function build(root: string): Promise<CliResult> {
  return runCli(["build", "all", "--path", "clusters/prod", "--enable-helm", "-v"], {
    cwd: root,
    env: { FLUX_LOCAL_CACHE_DIR: cacheDir },
    runCache: true,
  });
}

describe("the run cache and the network", () => {
  it("keeps a run that fetched a pinned chart, and replays it with no request", async () => {
    const repo = await makeRepo(cluster(server.url, "6.5.4"));
    const before = server.requests.length;
    const first = await build(repo.root);
    expect(first.exitCode, first.stderr).toBe(0);
    expect(server.requests.length).toBeGreaterThan(before);
    expect(first.stderr).not.toContain("not kept");
    const fetched = server.requests.length;
    const second = await build(repo.root);
    expect(second.stderr).toContain(REPLAYED);
    expect(second.stdout).toBe(first.stdout);
    expect(server.requests.length).toBe(fetched);
  });

  it("does not keep a run whose pinned fetch failed", async () => {
    const repo = await makeRepo(cluster(server.url, "9.9.9"));
    const first = await build(repo.root);
    expect(first.exitCode).not.toBe(0);
    expect(first.stderr).toMatch(/run cache: this run is not kept \(.*fetching .*9\.9\.9.* failed/);
    const second = await build(repo.root);
    expect(second.stderr).not.toContain(REPLAYED);
  });

  it("does not keep a run that used a version range", async () => {
    const repo = await makeRepo(cluster(server.url, ">=6.0.0"));
    const first = await build(repo.root);
    expect(first.exitCode, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/run cache: this run is not kept \(.*may move/);
    expect((await build(repo.root)).stderr).not.toContain(REPLAYED);
  });
});

describe("the run cache and a chart in the checkout", () => {
  it("replays a run that rendered it, and renders again when a file is added in a chart folder", async () => {
    const repo = await makeRepo({
      "clusters/prod/flux-system/gotk.yaml": bootstrap(),
      "clusters/prod/apps.yaml": fluxKustomization("apps", { path: "./apps" }),
      ...(await chartFiles("podinfo", "charts/podinfo")),
      "apps/release.yaml": docs(
        helmRelease("podinfo", "web", { chart: gitChart("./charts/podinfo") }),
      ),
    });
    const first = await build(repo.root);
    expect(first.exitCode, first.stderr).toBe(0);
    expect(first.stderr).not.toContain("not kept");
    const second = await build(repo.root);
    expect(second.stderr).toContain(REPLAYED);
    expect(second.stdout).toBe(first.stdout);

    const sub = path.join(repo.root, "charts", "podinfo", "templates", "extra");
    await mkdir(sub);
    await writeFile(
      path.join(sub, "added.yaml"),
      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: added\n",
    );
    const third = await build(repo.root);
    expect(third.stderr).not.toContain(REPLAYED);
    expect(third.exitCode, third.stderr).toBe(0);
    expect(third.stdout).toContain("name: added");
    expect((await build(repo.root)).stderr).toContain(REPLAYED);
  });
});
