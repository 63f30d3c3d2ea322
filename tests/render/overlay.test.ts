import { describe, expect, it } from "vitest";
import { applyFluxSpec } from "../../src/render/kustomize/overlay.js";

const sourceRef = { kind: "GitRepository", name: "flux-system" };

describe("applyFluxSpec", () => {
  it("edits the kustomization in place: namespace, prefix, suffix", () => {
    const doc = applyFluxSpec(
      { resources: ["a.yaml"], namespace: "old" },
      { sourceRef, targetNamespace: "new", namePrefix: "p-", nameSuffix: "-s" },
    );
    expect(doc).toEqual({
      resources: ["a.yaml"],
      namespace: "new",
      namePrefix: "p-",
      nameSuffix: "-s",
    });
  });

  it("replaces a same-named image as a unit and appends others", () => {
    const doc = applyFluxSpec(
      {
        images: [
          { name: "nginx", newTag: "1.0", digest: "sha256:aaa" },
          { name: "redis", newTag: "7" },
        ],
      },
      {
        sourceRef,
        images: [
          { name: "nginx", newName: "mirror/nginx" },
          { name: "busybox", newTag: "1.36" },
        ],
      },
    );
    expect(doc.images).toEqual([
      { name: "nginx", newName: "mirror/nginx" },
      { name: "redis", newTag: "7" },
      { name: "busybox", newTag: "1.36" },
    ]);
  });

  it("appends patches, legacy patches and components after the user's own", () => {
    const doc = applyFluxSpec(
      { patches: [{ path: "mine.yaml" }], components: ["../c1"] },
      {
        sourceRef,
        patches: [{ patch: "- op: remove\n  path: /x", target: { kind: "Deployment", name: "" } }],
        patchesStrategicMerge: [{ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x" } }],
        patchesJson6902: [
          { target: { kind: "Service", name: "s" }, patch: [{ op: "remove", path: "/y" }] },
        ],
        components: ["../c2", "../missing"],
        ignoreMissingComponents: true,
      },
      { existingComponents: new Set(["../c2"]) },
    );
    expect(doc.patches).toEqual([
      { path: "mine.yaml" },
      { patch: "- op: remove\n  path: /x", target: { kind: "Deployment" } },
    ]);
    expect(doc.patchesStrategicMerge).toEqual([
      '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"}}',
    ]);
    expect(doc.patchesJson6902).toEqual([
      { patch: '[{"op":"remove","path":"/y"}]', target: { kind: "Service", name: "s" } },
    ]);
    expect(doc.components).toEqual(["../c1", "../c2"]);
  });

  it("keeps missing components unless told to ignore them (kustomize then reports them)", () => {
    const doc = applyFluxSpec(
      {},
      { sourceRef, components: ["../gone"] },
      { existingComponents: new Set() },
    );
    expect(doc.components).toEqual(["../gone"]);
  });

  it("does not modify its input", () => {
    const input = { images: [{ name: "a", newTag: "1" }] };
    applyFluxSpec(input, { sourceRef, images: [{ name: "a", newTag: "2" }] });
    expect(input).toEqual({ images: [{ name: "a", newTag: "1" }] });
  });
});
