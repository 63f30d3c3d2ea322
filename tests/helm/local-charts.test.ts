/**
 * HelmReleases whose charts live in the checkout (GitRepository sources),
 * rendered with the real helm and kustomize: values in Flux's order, the
 * install/upgrade switches, post-renderers, dependencies, and bad input that
 * fails only the release concerned.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import {
  defaultHelmOptions,
  type HelmRenderOptions,
} from "../../src/controllers/helmrelease/options.js";
import { onCommand } from "../../src/exec/run.js";
import type { KubeObject } from "../../src/flux/objects.js";
import { render, type RenderResult } from "../../src/run.js";
import { bootstrap, fluxKustomization, makeRepo, type TempRepo } from "../support/repo.js";
import { chartFiles, docs, gitChart, helmRelease } from "./support.js";

let cacheDir: string;
beforeAll(async () => {
  cacheDir = await mkdtemp(path.join(os.tmpdir(), "flux-local-cache-"));
});
afterAll(async () => {
  await rm(cacheDir, { recursive: true, force: true });
});

async function withRepo(
  files: Record<string, string>,
  helm: Partial<HelmRenderOptions> | undefined,
  check: (result: RenderResult, repo: TempRepo) => Promise<void> | void,
  extra: { allowMissingSecrets?: boolean } = {},
): Promise<void> {
  const repo = await makeRepo({
    "clusters/prod/flux-system/gotk.yaml": bootstrap(),
    "clusters/prod/apps.yaml": fluxKustomization("apps", { path: "./apps" }),
    ...(await chartFiles("podinfo", "charts/podinfo")),
    ...(await chartFiles("umbrella", "charts/umbrella")),
    ...files,
  });
  try {
    const result = await render({
      path: "clusters/prod",
      cwd: repo.root,
      cacheDir,
      ...(helm ? { helm: { ...defaultHelmOptions(), ...helm } } : {}),
      ...extra,
    });
    await check(result, repo);
  } finally {
    await repo.cleanup();
  }
}

function objectsOf(result: RenderResult, namespace: string, name: string): KubeObject[] {
  const entry = result.store.get({ kind: "HelmRelease", namespace, name });
  expect(entry?.status.phase, `HelmRelease ${namespace}/${name}: ${entry?.status.message}`).toBe(
    "Ready",
  );
  return entry?.artifact?.type === "render" ? entry.artifact.objects : [];
}

function find(objects: KubeObject[], kind: string, name?: string): KubeObject | undefined {
  return objects.find((o) => o.kind === kind && (name === undefined || o.metadata?.name === name));
}

function container(objects: KubeObject[]): Record<string, unknown> & { replicas?: number } {
  const deployment = find(objects, "Deployment") as
    | {
        spec: {
          replicas: number;
          template: { spec: { containers: Array<Record<string, unknown>> } };
        };
      }
    | undefined;
  return { replicas: deployment?.spec.replicas, ...deployment?.spec.template.spec.containers[0] };
}

function statusOf(result: RenderResult, namespace: string, name: string) {
  return result.store.get({ kind: "HelmRelease", namespace, name })?.status;
}

const configMap = (name: string, namespace: string, data: Record<string, string>) => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, namespace },
  data,
});

describe("HelmRelease rendering of charts in the checkout", () => {
  it("composes values in Flux's order and renders with the real helm", async () => {
    await withRepo(
      {
        "values/shared.yaml": "image:\n  tag: from-values-file\nreplicaCount: 5\n",
        "apps/release.yaml": docs(
          configMap("podinfo-values", "web", {
            "values.yaml":
              "replicaCount: 2\nredis:\n  enabled: true\npodAnnotations:\n  a: from-configmap\n",
            "redis-tag": "7.2.4",
            patch: "replicaCount: 3\n",
          }),
          {
            apiVersion: "v1",
            kind: "Secret",
            metadata: { name: "podinfo-secret", namespace: "web" },
            stringData: { token: "hunter2" },
          },
          helmRelease("podinfo", "web", {
            chart: {
              spec: {
                ...(gitChart("./charts/podinfo").spec as object),
                valuesFiles: ["charts/podinfo/values.yaml", "values/shared.yaml"],
              },
            },
            valuesFrom: [
              { kind: "ConfigMap", name: "podinfo-values" },
              { kind: "ConfigMap", name: "podinfo-values", valuesKey: "patch" },
              {
                kind: "ConfigMap",
                name: "podinfo-values",
                valuesKey: "redis-tag",
                targetPath: "redis.tag",
              },
              {
                kind: "Secret",
                name: "podinfo-secret",
                valuesKey: "token",
                targetPath: "secretToken",
              },
              { kind: "ConfigMap", name: "absent", optional: true },
            ],
            values: { podAnnotations: { b: "from-spec" }, replicaCount: 4 },
          }),
        ),
      },
      {},
      (result) => {
        const objects = objectsOf(result, "web", "podinfo");
        const c = container(objects);
        // spec.values wins over valuesFrom, which wins over valuesFiles.
        expect(c.replicas).toBe(4);
        // valuesFiles replaced the chart's values.yaml: its image.tag is used.
        expect(c.image).toBe("ghcr.io/stefanprodan/podinfo:from-values-file");
        const deployment = find(objects, "Deployment") as {
          spec: { template: { metadata: { annotations: Record<string, string> } } };
        };
        expect(deployment.spec.template.metadata.annotations).toEqual({
          a: "from-configmap",
          b: "from-spec",
        });
        // targetPath: the string "7.2.4" (not a number), at redis.tag.
        expect((find(objects, "ConfigMap", "podinfo-redis") as { data: unknown }).data).toEqual({
          tag: "7.2.4",
        });
        // The Secret's value is never used: its placeholder is.
        const secret = find(objects, "Secret", "podinfo-token") as {
          stringData: Record<string, string>;
        };
        expect(secret.stringData.token).toBe("..PLACEHOLDER_token..");
        expect(JSON.stringify(objects)).not.toContain("hunter2");
        expect(statusOf(result, "web", "podinfo")?.message).toMatch(
          /absent not found \(optional, skipped\)/,
        );
        // Hooks are rendered, tests are not, CRDs are (no --skip-crds).
        expect(find(objects, "Job", "podinfo-migrate")).toBeDefined();
        expect(find(objects, "Pod")).toBeUndefined();
        expect(find(objects, "CustomResourceDefinition")).toBeDefined();
      },
    );
  });

  it("gives a targetPath precedence over spec.values, with --set semantics", async () => {
    await withRepo(
      {
        "apps/release.yaml": docs(
          configMap("v", "web", { replicas: "7", flag: '"true"', annotation: "x.y/z" }),
          helmRelease("podinfo", "web", {
            chart: gitChart("./charts/podinfo"),
            values: { replicaCount: 1, service: { annotations: { keep: "me" } } },
            valuesFrom: [
              { kind: "ConfigMap", name: "v", valuesKey: "replicas", targetPath: "replicaCount" },
              {
                kind: "ConfigMap",
                name: "v",
                valuesKey: "flag",
                targetPath: "service.annotations.flag",
              },
              {
                kind: "ConfigMap",
                name: "v",
                valuesKey: "annotation",
                targetPath: "service.annotations.example\\.com/owner",
              },
            ],
          }),
        ),
      },
      {},
      (result) => {
        const objects = objectsOf(result, "web", "podinfo");
        expect(container(objects).replicas).toBe(7);
        const service = find(objects, "Service") as {
          metadata: { annotations: Record<string, string> };
        };
        expect(service.metadata.annotations).toEqual({
          keep: "me",
          flag: "true",
          "example.com/owner": "x.y/z",
        });
      },
    );
  });

  it("uses releaseName, targetNamespace and the CLI's helm flags", async () => {
    // One helm process per render, to see its command line.
    const saved = process.env.FLUX_LOCAL_HELM_WORKER;
    process.env.FLUX_LOCAL_HELM_WORKER = "0";
    onTestFinished(() => {
      if (saved === undefined) delete process.env.FLUX_LOCAL_HELM_WORKER;
      else process.env.FLUX_LOCAL_HELM_WORKER = saved;
    });
    const argvs: string[][] = [];
    const stop = onCommand(({ argv }) => {
      if (argv.includes("template")) argvs.push([...argv]);
    });
    try {
      await withRepo(
        {
          "apps/release.yaml": docs(
            helmRelease("podinfo", "web", {
              chart: gitChart("./charts/podinfo"),
              targetNamespace: "shop",
              upgrade: { crds: "CreateReplace", disableHooks: true },
            }),
            helmRelease("named", "web", {
              chart: gitChart("./charts/podinfo"),
              releaseName: "custom",
            }),
          ),
        },
        { isUpgrade: true, apiVersions: ["batch/v1/CronJob"], kubeVersion: "1.30.0", showOnly: [] },
        (result) => {
          const objects = objectsOf(result, "web", "podinfo");
          expect(find(objects, "Deployment")?.metadata?.name).toBe("shop-podinfo");
          const env = container(objects).env as Array<{ name: string; value: string }>;
          expect(env).toContainEqual({ name: "RELEASE_NAMESPACE", value: "shop" });
          expect(env).toContainEqual({ name: "IS_UPGRADE", value: "true" });
          expect(find(objects, "CronJob")).toBeDefined(); // -a batch/v1/CronJob
          expect(find(objects, "CustomResourceDefinition")).toBeDefined(); // upgrade.crds
          expect(find(objects, "Job")).toBeUndefined(); // upgrade.disableHooks
          const named = objectsOf(result, "web", "named");
          expect(find(named, "Deployment")?.metadata?.name).toBe("custom");
          // Default upgrade CRD policy is Skip.
          expect(find(named, "CustomResourceDefinition")).toBeUndefined();
        },
      );
    } finally {
      stop();
    }
    const argv = argvs.find((a) => a.includes("shop-podinfo"));
    expect(argv?.slice(1)).toEqual([
      "template",
      "shop-podinfo",
      expect.stringContaining("podinfo") as string,
      "--namespace",
      "shop",
      "--values",
      expect.stringMatching(/values\.yaml$/) as string,
      "--skip-tests",
      "--include-crds",
      "--kube-version",
      "1.30.0",
      "--api-versions",
      "batch/v1/CronJob",
      "--is-upgrade",
      "--no-hooks",
    ]);
  });

  it("follows spec.install switches: CRD policy, schema validation", async () => {
    await withRepo(
      {
        "apps/release.yaml": docs(
          helmRelease("strict", "web", {
            chart: gitChart("./charts/podinfo"),
            values: { replicaCount: -1 },
          }),
          helmRelease("lenient", "web", {
            chart: gitChart("./charts/podinfo"),
            values: { replicaCount: -1 },
            install: { disableSchemaValidation: true, crds: "Skip" },
          }),
        ),
      },
      {},
      (result) => {
        expect(statusOf(result, "web", "strict")).toMatchObject({
          phase: "Failed",
          reason: "InstallFailed",
          message: expect.stringMatching(/replicaCount/) as string,
        });
        const objects = objectsOf(result, "web", "lenient");
        expect(container(objects).replicas).toBe(-1);
        expect(find(objects, "CustomResourceDefinition")).toBeUndefined();
      },
    );
  });

  it("applies post-renderers (patches and images) with kustomize", async () => {
    await withRepo(
      {
        "apps/release.yaml": docs(
          helmRelease("podinfo", "web", {
            chart: gitChart("./charts/podinfo"),
            postRenderers: [
              {
                kustomize: {
                  images: [
                    {
                      name: "ghcr.io/stefanprodan/podinfo",
                      newName: "registry.example.com/podinfo",
                      newTag: "9.9.9",
                    },
                  ],
                  patches: [
                    {
                      target: { kind: "Service" },
                      patch:
                        "- op: add\n  path: /metadata/annotations\n  value:\n    patched: 'yes'\n",
                    },
                  ],
                },
              },
            ],
          }),
        ),
      },
      {},
      (result) => {
        const objects = objectsOf(result, "web", "podinfo");
        expect(container(objects).image).toBe("registry.example.com/podinfo:9.9.9");
        expect(find(objects, "Service")?.metadata?.annotations).toEqual({ patched: "yes" });
      },
    );
  });

  it("builds a missing file:// dependency and renders the subchart", async () => {
    await withRepo(
      {
        "apps/release.yaml": docs(
          helmRelease("shop", "web", { chart: gitChart("./charts/umbrella") }),
        ),
      },
      {},
      (result) => {
        const objects = objectsOf(result, "web", "shop");
        expect(find(objects, "ConfigMap", "shop-umbrella")).toBeDefined();
        expect(container(objects).replicas).toBe(2);
      },
    );
  });

  it("looks valuesFrom objects up in every Kustomization's output, and waits for dependsOn", async () => {
    await withRepo(
      {
        "clusters/prod/config.yaml": fluxKustomization("config", { path: "./config" }),
        "config/values.yaml": docs(
          configMap("shared", "web", { "values.yaml": "replicaCount: 6\n" }),
        ),
        "apps/release.yaml": docs(
          helmRelease("first", "web", { chart: gitChart("./charts/podinfo") }),
          helmRelease("second", "web", {
            chart: gitChart("./charts/podinfo"),
            dependsOn: [{ name: "first" }],
            valuesFrom: [{ kind: "ConfigMap", name: "shared" }],
          }),
          helmRelease("after-broken", "web", {
            chart: gitChart("./charts/podinfo"),
            dependsOn: [{ name: "broken" }],
          }),
          helmRelease("broken", "web", {
            chart: gitChart("./charts/podinfo"),
            values: { fail: true },
          }),
          helmRelease("orphan", "web", {
            chart: gitChart("./charts/podinfo"),
            dependsOn: [{ name: "nobody" }],
          }),
        ),
      },
      {},
      (result) => {
        expect(container(objectsOf(result, "web", "second")).replicas).toBe(6);
        expect(statusOf(result, "web", "after-broken")).toMatchObject({
          phase: "Failed",
          reason: "DependencyNotReady",
          rootCause: "HelmRelease/web/broken",
        });
        expect(statusOf(result, "web", "orphan")).toMatchObject({
          phase: "Failed",
          reason: "DependencyNotFound",
        });
      },
    );
  });

  it("fails only the release with bad input, naming the object and helm's message", async () => {
    await withRepo(
      {
        "apps/release.yaml": docs(
          configMap("values", "web", {
            "values.yaml": "replicaCount: [1, 2\n",
            ok: "replicaCount: 1\n",
          }),
          helmRelease("good", "web", { chart: gitChart("./charts/podinfo") }),
          helmRelease("no-configmap", "web", {
            chart: gitChart("./charts/podinfo"),
            valuesFrom: [{ kind: "ConfigMap", name: "missing-values" }],
          }),
          helmRelease("no-key", "web", {
            chart: gitChart("./charts/podinfo"),
            valuesFrom: [{ kind: "ConfigMap", name: "values", valuesKey: "nope" }],
          }),
          helmRelease("not-yaml", "web", {
            chart: gitChart("./charts/podinfo"),
            valuesFrom: [{ kind: "ConfigMap", name: "values" }],
          }),
          helmRelease("template-fails", "web", {
            chart: gitChart("./charts/podinfo"),
            values: { fail: true },
          }),
          helmRelease("no-chart", "web", { chart: gitChart("./charts/nowhere") }),
          helmRelease("no-secret", "web", {
            chart: gitChart("./charts/podinfo"),
            valuesFrom: [
              {
                kind: "Secret",
                name: "cluster-only",
                valuesKey: "token",
                targetPath: "secretToken",
              },
            ],
          }),
        ),
      },
      { skipInvalidPaths: false },
      (result) => {
        expect(objectsOf(result, "web", "good").length).toBeGreaterThan(0);
        expect(statusOf(result, "web", "no-configmap")).toMatchObject({
          phase: "Failed",
          reason: "ValuesFailed",
          message: expect.stringContaining(
            "ConfigMap chart values reference 'web/missing-values'",
          ) as string,
        });
        expect(statusOf(result, "web", "no-key")).toMatchObject({
          reason: "ValuesFailed",
          message: expect.stringMatching(/'web\/values' with key 'nope': key not found/) as string,
        });
        expect(statusOf(result, "web", "not-yaml")).toMatchObject({
          reason: "ValuesFailed",
          message: expect.stringMatching(
            /'web\/values' with key 'values.yaml': not valid YAML/,
          ) as string,
        });
        expect(statusOf(result, "web", "template-fails")).toMatchObject({
          phase: "Failed",
          reason: "InstallFailed",
          message: expect.stringContaining("values.fail is set: refusing to render") as string,
        });
        expect(statusOf(result, "web", "no-chart")).toMatchObject({
          phase: "Failed",
          reason: "PathNotFound",
          message: expect.stringContaining("chart path charts/nowhere not found") as string,
        });
        expect(statusOf(result, "web", "no-secret")).toMatchObject({
          phase: "Failed",
          reason: "ValuesFailed",
          message: expect.stringContaining("--allow-missing-secrets") as string,
        });
        // Nothing else failed.
        const failed = result.store.list().filter((e) => e.status.phase === "Failed");
        expect(failed.map((e) => e.ref.name).sort()).toEqual([
          "no-chart",
          "no-configmap",
          "no-key",
          "no-secret",
          "not-yaml",
          "template-fails",
        ]);
      },
    );
  });

  it("leaves out Secrets made in the cluster, or tolerated with --allow-missing-secrets", async () => {
    const files = {
      "apps/release.yaml": docs(
        {
          apiVersion: "external-secrets.io/v1beta1",
          kind: "ExternalSecret",
          metadata: { name: "db", namespace: "web" },
          spec: { target: { name: "db-credentials" } },
        },
        helmRelease("external", "web", {
          chart: gitChart("./charts/podinfo"),
          valuesFrom: [{ kind: "Secret", name: "db-credentials" }],
        }),
        helmRelease("allowed", "web", {
          chart: gitChart("./charts/podinfo"),
          valuesFrom: [
            {
              kind: "Secret",
              name: "somewhere-else",
              valuesKey: "token",
              targetPath: "secretToken",
            },
          ],
        }),
      ),
    };
    await withRepo(
      files,
      {},
      (result) => {
        objectsOf(result, "web", "external");
        expect(statusOf(result, "web", "external")?.message).toMatch(
          /db-credentials is created in the cluster/,
        );
        objectsOf(result, "web", "allowed");
        expect(statusOf(result, "web", "allowed")?.message).toMatch(/--allow-missing-secrets/);
      },
      { allowMissingSecrets: true },
    );
  });

  it("skips a missing chart path with --skip-invalid-helm-release-paths", async () => {
    await withRepo(
      {
        "apps/release.yaml": docs(helmRelease("gone", "web", { chart: gitChart("./charts/gone") })),
      },
      { skipInvalidPaths: true },
      (result) => {
        expect(statusOf(result, "web", "gone")).toMatchObject({
          phase: "Skipped",
          reason: "PathNotFound",
        });
      },
    );
  });

  it("only lists HelmReleases when helm is not enabled (no failure)", async () => {
    await withRepo(
      {
        "apps/release.yaml": docs(
          helmRelease("podinfo", "web", { chart: gitChart("./charts/podinfo") }),
        ),
      },
      undefined,
      (result) => {
        const entry = result.store.get({ kind: "HelmRelease", namespace: "web", name: "podinfo" });
        expect(entry?.status.phase).toBe("Pending");
        expect(result.store.list().filter((e) => e.status.phase === "Failed")).toEqual([]);
      },
    );
  });

  it("renders only the selected releases; the others are Ready without output", async () => {
    await withRepo(
      {
        "apps/release.yaml": docs(
          helmRelease("wanted", "web", {
            chart: gitChart("./charts/podinfo"),
            dependsOn: [{ name: "other" }],
          }),
          helmRelease("other", "web", {
            chart: gitChart("./charts/podinfo"),
            values: { fail: true },
          }),
        ),
      },
      { select: (e) => e.ref.name === "wanted" },
      (result) => {
        expect(objectsOf(result, "web", "wanted").length).toBeGreaterThan(0);
        const other = result.store.get({ kind: "HelmRelease", namespace: "web", name: "other" });
        expect(other?.status).toMatchObject({
          phase: "Ready",
          message: "not selected: not rendered",
        });
        expect(other?.artifact).toBeUndefined();
      },
    );
  });
});
