import { describe, expect, it } from "vitest";
import { checkDeprecatedApis, deprecationOf } from "../../src/diagnostics/deprecated.js";
import { objectsOf } from "../../src/diagnostics/model.js";
import { object, repoOf } from "./helpers.js";

describe("deprecated Flux APIs", () => {
  it("knows which versions are deprecated for which kinds", () => {
    expect(deprecationOf("kustomize.toolkit.fluxcd.io/v1beta2", "Kustomization")?.use).toBe("v1");
    expect(deprecationOf("helm.toolkit.fluxcd.io/v2beta1", "HelmRelease")?.use).toBe("v2");
    expect(deprecationOf("helm.toolkit.fluxcd.io/v2", "HelmRelease")).toBeUndefined();
    expect(deprecationOf("source.toolkit.fluxcd.io/v1beta2", "OCIRepository")?.use).toBe("v1");
    expect(deprecationOf("source.toolkit.fluxcd.io/v1beta2", "ExternalArtifact")).toBeUndefined();
    expect(deprecationOf("notification.toolkit.fluxcd.io/v1beta2", "Alert")?.use).toBe("v1beta3");
    expect(deprecationOf("kustomize.config.k8s.io/v1beta1", "Kustomization")).toBeUndefined();
  });

  it("warns at the object's line", () => {
    const repo = repoOf({
      "a.yaml":
        object("HelmRepository", "source.toolkit.fluxcd.io/v1", "ok", "flux-system") +
        object("HelmRepository", "source.toolkit.fluxcd.io/v1beta2", "old", "flux-system"),
    });
    expect(checkDeprecatedApis(objectsOf(repo))).toEqual([
      {
        severity: "warning",
        check: "deprecated",
        file: "/repo/a.yaml",
        line: 4,
        object: "HelmRepository/flux-system/old",
        message:
          "HelmRepository flux-system/old uses source.toolkit.fluxcd.io/v1beta2, which Flux 2.8 removed: use source.toolkit.fluxcd.io/v1 (`flux migrate` rewrites it; rendered as source.toolkit.fluxcd.io/v1)",
      },
    ]);
  });
});
