import { describe, expect, it } from "vitest";
import { includeCrds, releaseName } from "../../src/controllers/helmrelease/controller.js";
import { defaultHelmOptions } from "../../src/controllers/helmrelease/options.js";
import type { HelmRelease } from "../../src/flux/schema.js";
import { resolveValuesFrom } from "../../src/controllers/helmrelease/values-from.js";
import { cleanHelmMessage, helmEnvironment, templateArgs } from "../../src/render/helm/template.js";
import { postRenderKustomization } from "../../src/render/helm/post-render.js";
import { helmRenderOptions } from "../../src/cli/options.js";

const hr = (spec: Partial<HelmRelease["spec"]> = {}, name = "podinfo"): HelmRelease => ({
  apiVersion: "helm.toolkit.fluxcd.io/v2",
  kind: "HelmRelease",
  metadata: { name, namespace: "web" },
  spec,
});

describe("helm template invocation", () => {
  it("builds the exact argv", () => {
    expect(
      templateArgs({
        releaseName: "podinfo",
        namespace: "web",
        chartDir: "/c/podinfo",
        valuesFile: "/s/values.yaml",
        includeCrds: true,
        kubeVersion: "1.31.0",
        apiVersions: ["batch/v1/CronJob", "monitoring.coreos.com/v1"],
        isUpgrade: true,
        noHooks: true,
        showOnly: ["templates/a.yaml", "templates/b.yaml"],
        disableOpenApiValidation: true,
        skipSchemaValidation: true,
        enableDns: true,
        registryConfig: "/r/config.json",
      }),
    ).toEqual([
      "template",
      "podinfo",
      "/c/podinfo",
      "--namespace",
      "web",
      "--values",
      "/s/values.yaml",
      "--skip-tests",
      "--include-crds",
      "--kube-version",
      "1.31.0",
      "--api-versions",
      "batch/v1/CronJob",
      "--api-versions",
      "monitoring.coreos.com/v1",
      "--is-upgrade",
      "--no-hooks",
      "--show-only",
      "templates/a.yaml",
      "--show-only",
      "templates/b.yaml",
      "--disable-openapi-validation",
      "--skip-schema-validation",
      "--enable-dns",
      "--registry-config",
      "/r/config.json",
    ]);
    expect(
      templateArgs({
        releaseName: "r",
        namespace: "n",
        chartDir: "/c",
        valuesFile: "/v",
        includeCrds: false,
      }),
    ).toEqual(["template", "r", "/c", "--namespace", "n", "--values", "/v", "--skip-tests"]);
  });

  it("isolates helm from the user's configuration", () => {
    const env = helmEnvironment("/scratch/home");
    for (const key of [
      "HELM_CACHE_HOME",
      "HELM_CONFIG_HOME",
      "HELM_DATA_HOME",
      "HELM_PLUGINS",
      "KUBECONFIG",
    ]) {
      expect(env[key]).toMatch(/^\/scratch\/home\//);
    }
  });

  it("keeps helm's message, without its logs and scratch paths", () => {
    const stderr =
      'level=INFO msg="found symbolic link in path"\nError: execution error at (podinfo/templates/x.yaml:2:4): boom in /tmp/s/chart\n';
    expect(cleanHelmMessage(stderr, "/tmp/s/chart", "podinfo")).toBe(
      "execution error at (podinfo/templates/x.yaml:2:4): boom in podinfo",
    );
  });

  it("names releases as helm-controller does", () => {
    expect(releaseName(hr())).toBe("podinfo");
    expect(releaseName(hr({ targetNamespace: "shop" }))).toBe("shop-podinfo");
    expect(releaseName(hr({ targetNamespace: "shop", releaseName: "custom" }))).toBe("custom");
    const long = releaseName(
      hr({ targetNamespace: "a-very-long-target-namespace-name" }, "and-a-long-release-name"),
    );
    expect(long).toHaveLength(53);
    expect(long).toMatch(/^a-very-long-target-namespace-name-and-a--[0-9a-f]{12}$/);
  });

  it("includes CRDs by the user's flag and the release's CRD policy", () => {
    const opts = defaultHelmOptions();
    expect(includeCrds(hr(), opts)).toBe(true);
    expect(includeCrds(hr(), { ...opts, skipCrds: true })).toBe(false);
    expect(includeCrds(hr({ install: { crds: "Skip" } }), opts)).toBe(false);
    expect(includeCrds(hr({ install: { skipCRDs: true } }), opts)).toBe(false);
    expect(includeCrds(hr(), { ...opts, isUpgrade: true })).toBe(false);
    expect(
      includeCrds(hr({ upgrade: { crds: "CreateReplace" } }), { ...opts, isUpgrade: true }),
    ).toBe(true);
  });

  it("maps flux-local's helm flags", () => {
    expect(
      helmRenderOptions({
        apiVersions: ["batch/v1/CronJob,policy/v1", "x/v1"],
        showOnly: ["templates/a.yaml"],
        hooks: false,
        isUpgrade: true,
        skipCrds: true,
        kubeVersion: "1.30",
      }),
    ).toEqual({
      kubeVersion: "1.30",
      apiVersions: ["batch/v1/CronJob", "policy/v1", "x/v1"],
      isUpgrade: true,
      noHooks: true,
      showOnly: ["templates/a.yaml"],
      enableDns: false,
      skipCrds: true,
      skipInvalidPaths: true,
    });
  });

  it("writes a post-renderer as a kustomization over the rendered objects", () => {
    expect(
      postRenderKustomization({
        images: [{ name: "nginx", newTag: "1.27" }],
        patches: [
          { patch: "- op: remove\n  path: /spec/replicas\n", target: { kind: "Deployment" } },
        ],
      }),
    ).toEqual({
      apiVersion: "kustomize.config.k8s.io/v1beta1",
      kind: "Kustomization",
      resources: ["resources.yaml"],
      sortOptions: { order: "fifo" },
      patches: [
        { patch: "- op: remove\n  path: /spec/replicas\n", target: { kind: "Deployment" } },
      ],
      images: [{ name: "nginx", newTag: "1.27" }],
    });
  });
});

describe("valuesFrom resolution", () => {
  const objects: Record<string, Record<string, unknown>> = {
    "ConfigMap/cm": { kind: "ConfigMap", data: { "values.yaml": "a: 1\n", port: "8080" } },
    "Secret/sec": { kind: "Secret", data: { "values.yaml": "c2VjcmV0", token: "c2VjcmV0" } },
  };
  const lookup = {
    find: (kind: "ConfigMap" | "Secret", name: string) =>
      Promise.resolve(objects[`${kind}/${name}`]),
    producedInCluster: (name: string) => name === "sealed",
    allowMissingSecrets: false,
  };

  it("reads ConfigMaps, and Secrets as placeholders", async () => {
    const resolved = await resolveValuesFrom(
      [
        { kind: "ConfigMap", name: "cm" },
        { kind: "ConfigMap", name: "cm", valuesKey: "port", targetPath: "service.port" },
        { kind: "Secret", name: "sec", valuesKey: "token", targetPath: "auth.token" },
        { kind: "Secret", name: "sec" },
        { kind: "Secret", name: "sealed" },
        { kind: "ConfigMap", name: "gone", optional: true },
        { kind: "ConfigMap", name: "cm", valuesKey: "gone", optional: true },
      ],
      "web",
      lookup,
    );
    expect(resolved.sources).toEqual([
      { kind: "document", values: { a: 1 } },
      { kind: "path", targetPath: "service.port", value: "8080", literal: false },
      { kind: "path", targetPath: "auth.token", value: "..PLACEHOLDER_token..", literal: false },
    ]);
    expect(resolved.notes).toHaveLength(4);
    expect(JSON.stringify(resolved)).not.toContain("secret");
  });

  it("fails clearly on missing objects and keys", async () => {
    await expect(
      resolveValuesFrom([{ kind: "ConfigMap", name: "nope" }], "web", lookup),
    ).rejects.toThrow(
      "could not resolve ConfigMap chart values reference 'web/nope' with key 'values.yaml': ConfigMap not found",
    );
    await expect(
      resolveValuesFrom([{ kind: "Secret", name: "sec", valuesKey: "nope" }], "web", lookup),
    ).rejects.toThrow("'web/sec' with key 'nope': key not found");
    await expect(
      resolveValuesFrom([{ kind: "Deployment", name: "x" }], "web", lookup),
    ).rejects.toThrow(/unsupported values reference kind/);
  });
});
