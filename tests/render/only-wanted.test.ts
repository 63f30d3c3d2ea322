/**
 * `build ks NAME` (and `build hr NAME`, `get ks|hr NAME`) builds only what NAME needs: the Kustomizations that
 * produce it, its dependencies, and — when it waits for an object nobody
 * needed yet — whatever may produce that. The output is a full run's.
 * Counted with one kustomize process per build (FLUX_LOCAL_KUSTOMIZE_WORKER=0).
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { onCommand } from "../../src/exec/run.js";
import { render, type RenderRequest } from "../../src/run.js";
import { bootstrap, configMap, fluxKustomization, useTempRepos } from "../support/repo.js";

describe("build ks NAME: only what NAME needs", () => {
  const makeRepo = useTempRepos();
  let saved: string | undefined;
  beforeEach(() => {
    saved = process.env.FLUX_LOCAL_KUSTOMIZE_WORKER;
    process.env.FLUX_LOCAL_KUSTOMIZE_WORKER = "0";
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.FLUX_LOCAL_KUSTOMIZE_WORKER;
    else process.env.FLUX_LOCAL_KUSTOMIZE_WORKER = saved;
  });

  // clusters/prod -> apps (produced) -> one, two (two dependsOn one), three, vars
  const files = {
    "clusters/prod/flux-system.yaml": bootstrap(),
    "clusters/prod/apps.yaml": fluxKustomization("apps", { path: "./apps" }),
    "apps/ks.yaml":
      fluxKustomization("one", { path: "./apps/one" }) +
      fluxKustomization("two", { path: "./apps/two", dependsOn: [{ name: "one" }] }) +
      fluxKustomization("three", { path: "./apps/three" }) +
      fluxKustomization("vars", { path: "./apps/vars" }) +
      fluxKustomization("four", {
        path: "./apps/four",
        postBuild: { substituteFrom: [{ kind: "ConfigMap", name: "settings" }] },
      }),
    "apps/kustomization.yaml": "resources: [ks.yaml]\n",
    "apps/one/cm.yaml": configMap("one", { a: "1" }),
    "apps/two/cm.yaml": configMap("two", { a: "2" }),
    "apps/three/cm.yaml": configMap("three", { a: "3" }),
    "apps/three/release.yaml": [
      "apiVersion: helm.toolkit.fluxcd.io/v2",
      "kind: HelmRelease",
      "metadata: { name: podinfo, namespace: flux-system }",
      "spec:",
      "  interval: 1h",
      "  chart:",
      "    spec:",
      "      chart: podinfo",
      "      sourceRef: { kind: HelmRepository, name: charts }",
      "",
    ].join("\n"),
    "apps/vars/cm.yaml": configMap("settings", { greeting: "hi" }, "flux-system"),
    "apps/four/cm.yaml": configMap("four", { text: "${greeting}" }),
  };

  async function run(request: Omit<RenderRequest, "noCache">) {
    const built: string[] = [];
    const stop = onCommand(({ argv }) => {
      if (argv.includes("build")) built.push(argv[argv.indexOf("build") + 1]!);
    });
    try {
      const result = await render({ ...request, noCache: true });
      const status = Object.fromEntries(
        result.store.list("Kustomization").map((e) => [e.ref.name, e.status.phase]),
      );
      const artifact = (name: string) =>
        stringify(result.store.get(`Kustomization/flux-system/${name}`)?.artifact);
      const hasRelease = (name: string) => result.store.has(`HelmRelease/flux-system/${name}`);
      return { builds: built.length, status, artifact, hasRelease };
    } finally {
      stop();
    }
  }

  it("builds the producers and the dependencies of NAME, and skips the rest", async () => {
    const repo = await makeRepo(files);
    const full = await run({ path: "clusters/prod", cwd: repo.root });
    expect(full.builds).toBe(7);
    const two = await run({
      path: "clusters/prod",
      cwd: repo.root,
      wanted: { kind: "Kustomization", name: "two", namespace: "flux-system" },
    });
    expect(two.builds).toBe(4); // flux-system, apps, one, two
    expect(two.status).toEqual({
      "flux-system": "Ready",
      apps: "Ready",
      one: "Ready",
      two: "Ready",
      three: "Skipped",
      vars: "Skipped",
      four: "Skipped",
    });
    expect(two.artifact("two")).toBe(full.artifact("two"));
  });

  it("builds what may produce an object NAME waits for", async () => {
    const repo = await makeRepo(files);
    const full = await run({ path: "clusters/prod", cwd: repo.root });
    const four = await run({
      path: "clusters/prod",
      cwd: repo.root,
      wanted: { kind: "Kustomization", name: "four", namespace: "flux-system" },
    });
    expect(four.status.four).toBe("Ready");
    expect(four.status.vars).toBe("Ready");
    expect(four.artifact("four")).toBe(full.artifact("four"));
    expect(four.artifact("four")).toContain("text: hi");
  });

  it("builds everything for a name that matches nothing", async () => {
    const repo = await makeRepo(files);
    const none = await run({
      path: "clusters/prod",
      cwd: repo.root,
      wanted: { kind: "Kustomization", name: "nope", namespace: "flux-system" },
    });
    expect(none.builds).toBe(7);
  });

  it("looks for a HelmRelease NAME first in the Kustomization of the same name", async () => {
    const repo = await makeRepo({
      ...files,
      "apps/three/release.yaml": files["apps/three/release.yaml"].replace("podinfo", "three"),
    });
    const three = await run({
      path: "clusters/prod",
      cwd: repo.root,
      wanted: { kind: "HelmRelease", name: "three", namespace: "flux-system" },
    });
    expect(three.builds).toBe(3); // flux-system, apps, three
    expect(three.status).toMatchObject({ three: "Ready", one: "Skipped", four: "Skipped" });
    expect(three.hasRelease("three")).toBe(true);
  });

  it("finds a HelmRelease NAME in a Kustomization of another name", async () => {
    const repo = await makeRepo(files);
    const podinfo = await run({
      path: "clusters/prod",
      cwd: repo.root,
      wanted: { kind: "HelmRelease", name: "podinfo", namespace: "flux-system" },
    });
    expect(podinfo.status).toMatchObject({ "flux-system": "Ready", apps: "Ready", three: "Ready" });
    expect(podinfo.hasRelease("podinfo")).toBe(true);
  });
});
