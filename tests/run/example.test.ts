import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { render } from "../../src/run.js";

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

describe("testdata/example", () => {
  it("renders every Kustomization with Flux's semantics", async () => {
    const result = await render({ path: "testdata/example", cwd: projectRoot });
    expect(result.issues).toEqual([]);
    const statuses = Object.fromEntries(
      result.store.list("Kustomization").map((e) => [e.ref.name, e.status.phase]),
    );
    expect(statuses).toEqual({
      "flux-system": "Ready",
      apps: "Ready",
      infrastructure: "Ready",
      experiments: "Suspended",
    });
    const apps = result.store.get("Kustomization/flux-system/apps");
    const objects = apps?.artifact?.type === "render" ? apps.artifact.objects : [];
    const byKind = (kind: string) => objects.find((o) => o.kind === kind);

    const deployment = byKind("Deployment") as Record<string, any>;
    // namePrefix and targetNamespace
    expect(deployment.metadata.name).toBe("prod-podinfo");
    expect(deployment.metadata.namespace).toBe("podinfo");
    // substituteFrom ConfigMap, typed after substitution; default not used
    expect(deployment.spec.replicas).toBe(3);
    // images
    expect(deployment.spec.template.spec.containers[0].image).toBe(
      "ghcr.io/stefanprodan/podinfo:6.7.1",
    );
    // SOPS Secret values become placeholders; bare $VAR stays
    expect(deployment.spec.template.spec.containers[0].env).toEqual([
      { name: "API_TOKEN", value: "..PLACEHOLDER_api_token.." },
      { name: "SHELL_HOME", value: "$HOME" },
    ]);
    // patches
    expect(deployment.metadata.annotations["example.com/owner"]).toBe("platform");
    // labels Flux adds
    expect(deployment.metadata.labels).toMatchObject({
      "kustomize.toolkit.fluxcd.io/name": "apps",
      "kustomize.toolkit.fluxcd.io/namespace": "flux-system",
    });
    // components
    expect(byKind("PodDisruptionBudget")?.metadata?.name).toBe("prod-podinfo");
    // the substitute: disabled opt-out
    expect(byKind("Ingress")?.metadata?.annotations?.["example.com/template"]).toBe(
      "${not_substituted}",
    );
    // inline substitute in a generated ConfigMap
    expect((byKind("ConfigMap") as Record<string, any>).data.PODINFO_UI_MESSAGE).toBe(
      "Hello from production",
    );

    // generated kustomization and commonMetadata
    const infra = result.store.get("Kustomization/flux-system/infrastructure");
    const infraObjects = infra?.artifact?.type === "render" ? infra.artifact.objects : [];
    expect(infraObjects.map((o) => `${o.kind}/${o.metadata?.name}`).sort()).toEqual([
      "IngressClass/nginx",
      "Namespace/ingress",
      "Namespace/podinfo",
    ]);
    for (const obj of infraObjects) {
      expect(obj.metadata?.labels?.["toolkit.example.com/tier"]).toBe("infrastructure");
    }
  });
});
