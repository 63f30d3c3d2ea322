/**
 * Discovery to a fixed point: bootstrap source aliasing, namespace inheritance,
 * produced definitions superseding scanned ones, suspend.
 */
import { describe, expect, it } from "vitest";
import { render } from "../../src/run.js";
import { bootstrap, configMap, fluxKustomization, useTempRepos } from "../support/repo.js";

const makeRepo = useTempRepos();

describe("discovery", () => {
  it("maps a GitRepository defined nowhere to the local checkout (bootstrap aliasing)", async () => {
    const repo = await makeRepo({
      // No GitRepository at all: a FluxInstance creates it in the cluster.
      "clusters/prod/apps.yaml": fluxKustomization("apps", { path: "./apps" }),
      "apps/cm.yaml": configMap("a", { k: "v" }),
    });
    const result = await render({ path: "clusters/prod", cwd: repo.root });
    expect(result.store.get("Kustomization/flux-system/apps")?.status.phase).toBe("Ready");
  });

  it("treats a GitRepository that a root Kustomization builds itself from as this checkout", async () => {
    const repo = await makeRepo({
      "flux/config.yaml": `---
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: home-ops, namespace: flux-system}
spec: {url: "ssh://git@example.com/home-ops", ref: {branch: main}}
${fluxKustomization("cluster", { path: "./flux", sourceRef: { kind: "GitRepository", name: "home-ops" } })}`,
    });
    const result = await render({ path: "flux", cwd: repo.root });
    expect(result.store.get("GitRepository/flux-system/home-ops")?.status.message).toBe(
      "local checkout",
    );
    expect(result.store.get("Kustomization/flux-system/cluster")?.status.phase).toBe("Ready");
  });

  it("gives objects without a namespace their producer's targetNamespace", async () => {
    const repo = await makeRepo({
      "clusters/prod/flux-system/gotk.yaml": bootstrap(),
      "clusters/prod/apps.yaml": fluxKustomization("apps", {
        path: "./apps",
        targetNamespace: "team-a",
      }),
      "apps/kustomization.yaml": "resources: [ks.yaml, cm.yaml]\n",
      // A nested Flux Kustomization without namespace, and a ConfigMap.
      "apps/ks.yaml":
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: nested}\nspec: {path: ./nested, sourceRef: {kind: GitRepository, name: flux-system, namespace: flux-system}}\n",
      "apps/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {a: b}\n",
      "nested/cm.yaml": configMap("inner", { x: "y" }),
    });
    const result = await render({ path: "clusters/prod", cwd: repo.root });
    expect(result.store.get("ConfigMap/team-a/settings")).toBeDefined();
    expect(result.store.get("Kustomization/team-a/nested")?.status.phase).toBe("Ready");
  });

  it("rebuilds a Kustomization with the definition its producer renders (fixed point)", async () => {
    const repo = await makeRepo({
      "clusters/prod/flux-system/gotk.yaml": bootstrap(),
      "clusters/prod/vars.yaml": configMap("vars", { app_path: "./apps/real" }, "flux-system"),
      // As scanned, apps points at ${app_path}; as flux-system renders it, at ./apps/real.
      "clusters/prod/apps.yaml": fluxKustomization("apps", { path: "${app_path}" }),
      "clusters/prod/flux-system/kustomization.yaml":
        "resources: [gotk.yaml, ../vars.yaml, ../apps.yaml]\n",
      "apps/real/cm.yaml": configMap("real", { a: "b" }),
    });
    // flux-system itself substitutes from vars.
    const gotk = bootstrap().replace(
      "  path: ./clusters/prod\n",
      "  path: ./clusters/prod/flux-system\n  postBuild:\n    substituteFrom: [{kind: ConfigMap, name: vars}]\n",
    );
    const { writeFile } = await import("node:fs/promises");
    await writeFile(`${repo.root}/clusters/prod/flux-system/gotk.yaml`, gotk);
    const result = await render({ path: "clusters/prod", cwd: repo.root });
    const apps = result.store.get("Kustomization/flux-system/apps");
    expect(apps?.status.phase).toBe("Ready");
    expect((apps?.object.spec as { path: string }).path).toBe("./apps/real");
    expect(apps?.origin.producer).toBe("Kustomization/flux-system/flux-system");
  });

  it("reports suspended Kustomizations and does not build them", async () => {
    const repo = await makeRepo({
      "clusters/prod/flux-system/gotk.yaml": bootstrap(),
      "clusters/prod/off.yaml": fluxKustomization("off", {
        path: "./does-not-exist",
        suspend: true,
      }),
    });
    const result = await render({ path: "clusters/prod", cwd: repo.root });
    expect(result.store.get("Kustomization/flux-system/off")?.status).toMatchObject({
      phase: "Suspended",
      reason: "Suspended",
    });
  });
});
