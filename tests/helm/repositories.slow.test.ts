/**
 * Charts from real repositories on loopback: an HTTP chart repository (index
 * and archives built with `helm package` / `helm repo index`), a real OCI
 * registry (charts pushed with `helm push`), one behind a token-auth front.
 * Version resolution, credentials, the chart cache (one fetch for many
 * releases, none on the next run), and bad archives and references, each
 * failing only its own release.
 */
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultHelmOptions } from "../../src/controllers/helmrelease/options.js";
import type { KubeObject } from "../../src/flux/objects.js";
import { render, type RenderRequest, type RenderResult } from "../../src/run.js";
import { startChartServer, type ChartServer } from "../support/chart-server.js";
import { startGitServer, TestRepo, type GitServer } from "../support/git-server.js";
import { startRegistry, type Registry } from "../support/registry.js";
import { bootstrap, fluxKustomization, makeRepo } from "../support/repo.js";
import {
  addToIndex,
  chartFiles,
  docs,
  helmRelease,
  helmRepository,
  indexCharts,
  packageCharts,
  pushCharts,
  startAuthProxy,
  tarGz,
  type AuthProxy,
  type PackagedRepo,
} from "./support.js";

const PASSWORD = "s3cret-Pa55word";

let charts: PackagedRepo;
let server: ChartServer;
let authServer: ChartServer;
let registry: Registry;
let proxy: AuthProxy;
let scratch: string;
let digests: Record<string, string>;
let gitServer: GitServer;

beforeAll(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), "flux-local-helm-repos-"));
  charts = await packageCharts({ podinfo: ["6.5.3", "6.5.4", "6.6.0", "7.0.0-rc.1"] });
  server = await startChartServer(charts.dir);
  authServer = await startChartServer(charts.dir, {
    auth: { username: "reader", password: PASSWORD },
  });
  await indexCharts(charts);
  // Hostile and broken archives, served from the same index.
  await addToIndex(
    charts,
    "traversal",
    "1.0.0",
    tarGz([
      {
        name: "traversal/Chart.yaml",
        content: "apiVersion: v2\nname: traversal\nversion: 1.0.0\n",
      },
      { name: "traversal/../../escape.txt", content: "pwned" },
    ]),
  );
  await addToIndex(
    charts,
    "linked",
    "1.0.0",
    tarGz([
      { name: "linked/Chart.yaml", content: "apiVersion: v2\nname: linked\nversion: 1.0.0\n" },
      { name: "linked/templates/passwd.yaml", type: "2", linkname: "/etc/passwd" },
    ]),
  );
  await addToIndex(charts, "corrupt", "1.0.0", Buffer.from("this is not a gzip archive at all"));
  await addToIndex(
    charts,
    "flat",
    "1.0.0",
    tarGz([{ name: "Chart.yaml", content: "apiVersion: v2\nname: flat\nversion: 1.0.0\n" }]),
  );
  registry = await startRegistry();
  digests = await pushCharts(charts, registry.host, [
    "podinfo-6.5.4.tgz",
    "podinfo-6.6.0.tgz",
    "podinfo-7.0.0-rc.1.tgz",
  ]);
  gitServer = await startGitServer();
  proxy = await startAuthProxy(registry.host, { username: "puller", password: PASSWORD });
}, 120_000);

afterAll(async () => {
  await server?.stop();
  await authServer?.stop();
  await proxy?.stop();
  await gitServer?.stop();
  await registry?.stop();
  await charts?.cleanup();
  await rm(scratch, { recursive: true, force: true });
});

async function renderRepo(
  files: Record<string, string>,
  request: Partial<RenderRequest> & { cacheDir: string },
): Promise<RenderResult> {
  const repo = await makeRepo({
    "clusters/prod/flux-system/gotk.yaml": bootstrap(),
    "clusters/prod/apps.yaml": fluxKustomization("apps", { path: "./apps" }),
    ...files,
  });
  try {
    return await render({
      path: "clusters/prod",
      cwd: repo.root,
      helm: defaultHelmOptions(),
      ...request,
    });
  } finally {
    await repo.cleanup();
  }
}

const newCache = () => mkdtemp(path.join(scratch, "cache-"));

function statusOf(result: RenderResult, name: string, namespace = "web") {
  return result.store.get({ kind: "HelmRelease", namespace, name })?.status;
}

function objectsOf(result: RenderResult, name: string, namespace = "web"): KubeObject[] {
  const entry = result.store.get({ kind: "HelmRelease", namespace, name });
  expect(entry?.status.phase, `${name}: ${entry?.status.message}`).toBe("Ready");
  return entry?.artifact?.type === "render" ? entry.artifact.objects : [];
}

/** The chart version a release rendered (from the chart's `helm.sh/chart` label). */
function chartOf(result: RenderResult, name: string): string | undefined {
  const deployment = objectsOf(result, name).find((o) => o.kind === "Deployment");
  return deployment?.metadata?.labels?.["helm.sh/chart"];
}

const httpRelease = (
  name: string,
  version: string | undefined,
  chart = "podinfo",
  repo = "charts",
) =>
  helmRelease(name, "web", {
    chart: {
      spec: {
        chart,
        ...(version ? { version } : {}),
        sourceRef: { kind: "HelmRepository", name: repo, namespace: "flux-system" },
      },
    },
  });

describe("charts from an HTTP repository", () => {
  it("resolves versions the way Flux does", async () => {
    const result = await renderRepo(
      {
        "clusters/prod/repos.yaml": docs(helmRepository("charts", { url: server.url })),
        "apps/releases.yaml": docs(
          httpRelease("pinned", "6.5.3"),
          httpRelease("tilde", "~6.5"),
          httpRelease("latest", undefined),
          httpRelease("star", "*"),
          httpRelease("pre", ">=7.0.0-0"),
          httpRelease("range", ">=6.5.0, <6.6.0"),
        ),
      },
      { cacheDir: await newCache() },
    );
    expect(chartOf(result, "pinned")).toBe("podinfo-6.5.3");
    expect(chartOf(result, "tilde")).toBe("podinfo-6.5.4");
    expect(chartOf(result, "latest")).toBe("podinfo-6.6.0");
    expect(chartOf(result, "star")).toBe("podinfo-6.6.0");
    expect(chartOf(result, "pre")).toBe("podinfo-7.0.0-rc.1");
    expect(chartOf(result, "range")).toBe("podinfo-6.5.4");
  });

  it("fetches a chart once for many releases, and not at all on the next run", async () => {
    const cacheDir = await newCache();
    const releases = Array.from({ length: 20 }, (_, i) => httpRelease(`app-${i}`, "6.5.4"));
    const files = {
      "clusters/prod/repos.yaml": docs(helmRepository("charts", { url: server.url })),
      "apps/releases.yaml": docs(...releases),
    };
    const archives = () => server.count("/podinfo-6.5.4.tgz");
    const indexes = () => server.count("/index.yaml");
    const before = { archives: archives(), indexes: indexes() };

    let started = performance.now();
    const first = await renderRepo(files, { cacheDir });
    const coldMs = performance.now() - started;
    for (let i = 0; i < 20; i++) expect(chartOf(first, `app-${i}`)).toBe("podinfo-6.5.4");
    expect(first.controllers.helmRelease?.charts.downloads).toBe(1);
    expect(archives() - before.archives).toBe(1);
    expect(indexes() - before.indexes).toBe(1);

    started = performance.now();
    const second = await renderRepo(files, { cacheDir });
    const warmMs = performance.now() - started;
    for (let i = 0; i < 20; i++) expect(chartOf(second, `app-${i}`)).toBe("podinfo-6.5.4");
    expect(second.controllers.helmRelease?.charts.downloads).toBe(0);
    // A pinned version in the cache needs no request at all.
    expect(archives() - before.archives).toBe(1);
    expect(indexes() - before.indexes).toBe(1);

    // And --offline works from the cache.
    const offline = await renderRepo(files, { cacheDir, offline: true });
    expect(chartOf(offline, "app-0")).toBe("podinfo-6.5.4");
    console.log(
      `20 releases of one chart: cold ${Math.round(coldMs)} ms (1 download), warm ${Math.round(warmMs)} ms (0 downloads)`,
    );
  });

  it("says what to do when a range was never resolved and --offline is set", async () => {
    const result = await renderRepo(
      {
        "clusters/prod/repos.yaml": docs(helmRepository("charts", { url: server.url })),
        "apps/releases.yaml": docs(httpRelease("ranged", "~6.5")),
      },
      { cacheDir: await newCache(), offline: true },
    );
    expect(statusOf(result, "ranged")).toMatchObject({
      phase: "Failed",
      reason: "ChartFailed",
      message: expect.stringMatching(/never fetched into the cache and --offline is set/) as string,
    });
  });

  it("authenticates with the HelmRepository's secretRef, given with --secret-file", async () => {
    const secretFile = path.join(scratch, "repo-auth.yaml");
    const secret = (password: string) =>
      docs({
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: "repo-auth", namespace: "flux-system" },
        stringData: { username: "reader", password },
      });
    const files = {
      "clusters/prod/repos.yaml": docs(
        helmRepository("private", { url: authServer.url, secretRef: { name: "repo-auth" } }),
      ),
      "apps/releases.yaml": docs(httpRelease("private", "6.5.4", "podinfo", "private")),
    };

    await writeFile(secretFile, secret(PASSWORD));
    const ok = await renderRepo(files, { cacheDir: await newCache(), secretFiles: [secretFile] });
    expect(chartOf(ok, "private")).toBe("podinfo-6.5.4");

    await writeFile(secretFile, secret("wrong-password-value"));
    const refused = await renderRepo(files, {
      cacheDir: await newCache(),
      secretFiles: [secretFile],
    });
    const status = statusOf(refused, "private");
    expect(status).toMatchObject({ phase: "Failed", reason: "ChartFailed" });
    expect(status?.message).toMatch(/401 Unauthorized \(the repository refused the credentials\)/);
    expect(status?.message).not.toContain("wrong-password-value");
    expect(status?.message).not.toContain(
      Buffer.from("reader:wrong-password-value").toString("base64"),
    );

    const anonymous = await renderRepo(files, { cacheDir: await newCache() });
    expect(statusOf(anonymous, "private")?.message).toMatch(/needs credentials.*--secret-file/);
  });

  it("fails only the release whose chart is missing, unmatched, corrupt or hostile", async () => {
    const cacheDir = await newCache();
    const result = await renderRepo(
      {
        "clusters/prod/repos.yaml": docs(helmRepository("charts", { url: server.url })),
        "apps/releases.yaml": docs(
          httpRelease("good", "6.5.4"),
          httpRelease("no-chart", "1.0.0", "nope"),
          httpRelease("no-version", "9.9.9"),
          httpRelease("bad-range", "not a range"),
          httpRelease("traversal", "1.0.0", "traversal"),
          httpRelease("linked", "1.0.0", "linked"),
          httpRelease("corrupt", "1.0.0", "corrupt"),
          httpRelease("flat", "1.0.0", "flat"),
          httpRelease("no-repo", "1.0.0", "podinfo", "missing-repo"),
        ),
      },
      { cacheDir },
    );
    expect(chartOf(result, "good")).toBe("podinfo-6.5.4");
    const message = (name: string) => {
      const status = statusOf(result, name);
      expect(status?.phase, name).toBe("Failed");
      return status?.message ?? "";
    };
    expect(message("no-chart")).toMatch(
      /HelmRepository flux-system\/charts: chart nope not found in http:\/\/127\.0\.0\.1/,
    );
    expect(message("no-version")).toMatch(
      /chart podinfo has no version matching "9\.9\.9".*available: /,
    );
    expect(message("bad-range")).toMatch(/invalid version constraint/);
    expect(message("traversal")).toMatch(/climbs out with '\.\.'/);
    expect(message("linked")).toMatch(/a symlink/);
    expect(message("corrupt")).toMatch(/not a gzip archive/);
    expect(message("flat")).toMatch(/must hold exactly one folder/);
    expect(statusOf(result, "no-repo")).toMatchObject({ reason: "SourceNotFound" });
    // Nothing escaped the cache folder, and nothing broken was kept.
    expect(await readdir(scratch)).not.toContain("escape.txt");
    const failed = result.store
      .list()
      .filter((e) => e.status.phase === "Failed")
      .map((e) => e.ref.name);
    expect(failed.sort()).toEqual(
      [
        "bad-range",
        "corrupt",
        "flat",
        "linked",
        "no-chart",
        "no-repo",
        "no-version",
        "traversal",
      ].sort(),
    );
  });

  it("renders a HelmChart given as chartRef", async () => {
    const result = await renderRepo(
      {
        "clusters/prod/repos.yaml": docs(helmRepository("charts", { url: server.url })),
        "apps/releases.yaml": docs(
          {
            apiVersion: "source.toolkit.fluxcd.io/v1",
            kind: "HelmChart",
            metadata: { name: "podinfo", namespace: "flux-system" },
            spec: {
              chart: "podinfo",
              version: "6.5.x",
              sourceRef: { kind: "HelmRepository", name: "charts" },
            },
          },
          helmRelease("by-ref", "web", {
            chartRef: { kind: "HelmChart", name: "podinfo", namespace: "flux-system" },
          }),
        ),
      },
      { cacheDir: await newCache() },
    );
    expect(chartOf(result, "by-ref")).toBe("podinfo-6.5.4");
  });
});

describe("charts from an OCI registry", () => {
  const ociRepo = (url: string) => helmRepository("oci", { type: "oci", url, insecure: true });
  const ociRelease = (name: string, version: string | undefined) =>
    httpRelease(name, version, "podinfo", "oci");

  it("resolves tags as versions and pulls the chart once", async () => {
    const cacheDir = await newCache();
    const result = await renderRepo(
      {
        "clusters/prod/repos.yaml": docs(ociRepo(`oci://${registry.host}/charts`)),
        "apps/releases.yaml": docs(
          ociRelease("exact", "6.5.4"),
          ociRelease("exact-again", "6.5.4"),
          ociRelease("caret", "^6"),
          ociRelease("pre", ">=7.0.0-0"),
          ociRelease("missing", "5.0.0"),
        ),
      },
      { cacheDir },
    );
    expect(chartOf(result, "exact")).toBe("podinfo-6.5.4");
    expect(chartOf(result, "exact-again")).toBe("podinfo-6.5.4");
    expect(chartOf(result, "caret")).toBe("podinfo-6.6.0");
    expect(chartOf(result, "pre")).toBe("podinfo-7.0.0-rc.1");
    expect(statusOf(result, "missing")).toMatchObject({
      phase: "Failed",
      reason: "ChartFailed",
      message: expect.stringMatching(/5\.0\.0.*(404|not found)/i) as string,
    });
    expect(result.controllers.helmRelease?.charts.downloads).toBe(3);
  });

  it("uses registry credentials, and never shows them when refused", async () => {
    const config = path.join(scratch, "registry-config.json");
    const auth = (password: string) =>
      JSON.stringify({
        auths: { [proxy.host]: { auth: Buffer.from(`puller:${password}`).toString("base64") } },
      });
    const files = {
      "clusters/prod/repos.yaml": docs(ociRepo(`oci://${proxy.host}/charts`)),
      "apps/releases.yaml": docs(ociRelease("private", "6.5.4")),
    };

    await writeFile(config, auth(PASSWORD));
    const ok = await renderRepo(files, { cacheDir: await newCache(), registryConfig: config });
    expect(chartOf(ok, "private")).toBe("podinfo-6.5.4");

    await writeFile(config, auth("not-the-password"));
    const refused = await renderRepo(files, { cacheDir: await newCache(), registryConfig: config });
    const status = statusOf(refused, "private");
    expect(status).toMatchObject({ phase: "Failed", reason: "ChartFailed" });
    expect(status?.message).toMatch(/refused the credentials/);
    expect(status?.message).not.toContain("not-the-password");
    expect(status?.message).not.toContain(
      Buffer.from("puller:not-the-password").toString("base64"),
    );
  });

  it("renders the chart of an OCIRepository given as chartRef", async () => {
    const ociRepository = (
      name: string,
      ref: Record<string, string>,
      layerSelector?: Record<string, string>,
    ) => ({
      apiVersion: "source.toolkit.fluxcd.io/v1",
      kind: "OCIRepository",
      metadata: { name, namespace: "flux-system" },
      spec: {
        interval: "10m",
        url: `oci://${registry.host}/charts/podinfo`,
        insecure: true,
        ref,
        ...(layerSelector ? { layerSelector } : {}),
      },
    });
    const result = await renderRepo(
      {
        "clusters/prod/repos.yaml": docs(
          ociRepository("by-tag", { tag: "6.5.4" }),
          ociRepository("by-semver", { semver: "~6.6" }),
          ociRepository("by-digest", { digest: digests["podinfo-6.6.0.tgz"] ?? "" }),
          ociRepository(
            "copied",
            { tag: "6.5.4" },
            { mediaType: "application/vnd.cncf.helm.chart.content.v1.tar+gzip", operation: "copy" },
          ),
        ),
        "apps/releases.yaml": docs(
          helmRelease("by-tag", "web", {
            chartRef: { kind: "OCIRepository", name: "by-tag", namespace: "flux-system" },
          }),
          helmRelease("by-semver", "web", {
            chartRef: { kind: "OCIRepository", name: "by-semver", namespace: "flux-system" },
          }),
          helmRelease("by-digest", "web", {
            chartRef: { kind: "OCIRepository", name: "by-digest", namespace: "flux-system" },
          }),
          helmRelease("copied", "web", {
            chartRef: { kind: "OCIRepository", name: "copied", namespace: "flux-system" },
          }),
        ),
      },
      { cacheDir: await newCache() },
    );
    expect(chartOf(result, "by-tag")).toBe("podinfo-6.5.4");
    expect(chartOf(result, "by-semver")).toBe("podinfo-6.6.0");
    expect(chartOf(result, "by-digest")).toBe("podinfo-6.6.0");
    expect(chartOf(result, "copied")).toBe("podinfo-6.5.4");
  });
});

describe("charts in a fetched GitRepository", () => {
  it("renders a chart path of the remote source, with valuesFiles from it", async () => {
    const remote = await TestRepo.create(gitServer, "charts");
    try {
      await remote.commit({
        ...(await chartFiles("podinfo", "charts/podinfo")),
        "values/prod.yaml": "replicaCount: 3\nimage:\n  tag: prod\n",
      });
      remote.push();
      const result = await renderRepo(
        {
          "clusters/prod/sources.yaml": docs({
            apiVersion: "source.toolkit.fluxcd.io/v1",
            kind: "GitRepository",
            metadata: { name: "charts", namespace: "flux-system" },
            spec: { interval: "10m", url: `${gitServer.url}/charts.git`, ref: { branch: "main" } },
          }),
          "apps/releases.yaml": docs(
            helmRelease("from-git", "web", {
              chart: {
                spec: {
                  chart: "./charts/podinfo",
                  sourceRef: { kind: "GitRepository", name: "charts", namespace: "flux-system" },
                  valuesFiles: ["charts/podinfo/values.yaml", "values/prod.yaml"],
                },
              },
            }),
          ),
        },
        { cacheDir: await newCache() },
      );
      const deployment = objectsOf(result, "from-git").find((o) => o.kind === "Deployment") as {
        spec: { replicas: number; template: { spec: { containers: Array<{ image: string }> } } };
      };
      expect(deployment.spec.replicas).toBe(3);
      expect(deployment.spec.template.spec.containers[0]?.image).toBe(
        "ghcr.io/stefanprodan/podinfo:prod",
      );
    } finally {
      await remote.remove();
    }
  });
});
