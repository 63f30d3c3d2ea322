import { describe, expect, it } from "vitest";
import { buildTree, renderTree } from "../../src/views/tree.js";
import type { StoreEntry } from "../../src/store/store.js";

function entry(kind: string, name: string, producer?: string, dependsOn?: string[]): StoreEntry {
  const ref = { kind, namespace: "flux-system", name };
  return {
    ref,
    key: `${kind}/flux-system/${name}`,
    object: {
      apiVersion:
        kind === "HelmRelease" ? "helm.toolkit.fluxcd.io/v2" : "kustomize.toolkit.fluxcd.io/v1",
      kind,
      metadata: { name, namespace: "flux-system" },
      spec: {
        sourceRef: { kind: "GitRepository", name: "flux-system" },
        ...(dependsOn ? { dependsOn: dependsOn.map((n) => ({ name: n })) } : {}),
      },
    },
    origin: producer ? { producer } : { file: "x.yaml" },
    status: { phase: "Ready", reason: "ReconciliationSucceeded", message: "" },
    generation: 1,
  };
}

describe("buildTree", () => {
  it("nests what each object produced, with dependsOn edges", () => {
    const root = "Kustomization/flux-system/flux-system";
    const tree = buildTree([
      entry("Kustomization", "flux-system", root),
      entry("Kustomization", "infra", root),
      entry("Kustomization", "apps", root, ["infra"]),
      entry("HelmRelease", "podinfo", "Kustomization/flux-system/apps"),
      entry("GitRepository", "flux-system", root),
    ]);
    const lines = renderTree(tree, (n) =>
      [n.entry.key, ...(n.dependsOn.length ? [`(after ${n.dependsOn.join(", ")})`] : [])].join(" "),
    );
    expect(lines).toEqual([
      "Kustomization/flux-system/flux-system",
      "├── Kustomization/flux-system/apps (after Kustomization/flux-system/infra)",
      "│   └── HelmRelease/flux-system/podinfo",
      "└── Kustomization/flux-system/infra",
    ]);
  });
});
