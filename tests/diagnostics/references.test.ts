import { describe, expect, it } from "vitest";
import { objectsOf } from "../../src/diagnostics/model.js";
import { checkReferences } from "../../src/diagnostics/references.js";
import { fluxKs, GOTK, object, repoOf } from "./helpers.js";

function check(files: Record<string, string>) {
  const repo = repoOf(files);
  return checkReferences(repo, objectsOf(repo)).map((f) => `${f.severity} ${f.line} ${f.message}`);
}

const HR = (spec: Record<string, unknown>, namespace = "apps") =>
  object("HelmRelease", "helm.toolkit.fluxcd.io/v2", "web", namespace, { spec });

describe("checkReferences", () => {
  it("accepts references that resolve, including generated ConfigMaps and produced Secrets", () => {
    expect(
      check({
        "gotk.yaml": GOTK + fluxKs("apps", { path: "./apps", dependsOn: [{ name: "infra" }] }),
        "infra.yaml": fluxKs("infra", {
          path: "./infra",
          postBuild: {
            substituteFrom: [
              { kind: "ConfigMap", name: "vars" },
              { kind: "Secret", name: "sealed" },
              { kind: "Secret", name: "absent", optional: true },
            ],
          },
        }),
        "kustomization.yaml":
          "resources: []\nconfigMapGenerator:\n  - name: vars\n    literals: [a=b]\n",
        "sealed.yaml": object("SealedSecret", "bitnami.com/v1alpha1", "sealed", "flux-system"),
        "apps/repo.yaml": object(
          "HelmRepository",
          "source.toolkit.fluxcd.io/v1",
          "charts",
          "flux-system",
        ),
        "apps/hr.yaml": HR({
          chart: {
            spec: {
              chart: "web",
              sourceRef: { kind: "HelmRepository", name: "charts", namespace: "flux-system" },
            },
          },
        }),
      }),
    ).toEqual([]);
  });

  it("reports sources, dependencies and ConfigMaps that do not exist", () => {
    expect(
      check({
        "gotk.yaml": GOTK,
        "ks.yaml": fluxKs("apps", {
          path: "./apps",
          sourceRef: { kind: "OCIRepository", name: "manifests" },
          dependsOn: [{ name: "infra" }],
          postBuild: { substituteFrom: [{ kind: "ConfigMap", name: "vars" }] },
        }),
      }),
    ).toEqual([
      // The Kustomization's own (remote) output cannot explain what it references itself.
      "error 2 Kustomization flux-system/apps: spec.sourceRef refers to OCIRepository flux-system/manifests, which is not defined in the repository",
      "error 2 Kustomization flux-system/apps: spec.dependsOn refers to Kustomization flux-system/infra, which is not defined in the repository",
      "error 2 Kustomization flux-system/apps: spec.postBuild.substituteFrom refers to ConfigMap flux-system/vars, which is not defined in the repository",
    ]);
  });

  it("names the namespace where a same-named object lives", () => {
    expect(
      check({
        "repo.yaml": object(
          "HelmRepository",
          "source.toolkit.fluxcd.io/v1",
          "charts",
          "flux-system",
        ),
        "hr.yaml": HR({
          chart: { spec: { chart: "web", sourceRef: { kind: "HelmRepository", name: "charts" } } },
        }),
      }),
    ).toEqual([
      "error 2 HelmRelease apps/web: spec.chart.spec.sourceRef refers to HelmRepository apps/charts, which is not defined in the repository (there is one in namespace flux-system)",
    ]);
  });

  it("matches any namespace when neither side names one (kustomize may set it later)", () => {
    expect(
      check({
        "repo.yaml": object("OCIRepository", "source.toolkit.fluxcd.io/v1", "chart"),
        "hr.yaml": object("HelmRelease", "helm.toolkit.fluxcd.io/v2", "web", undefined, {
          spec: { chartRef: { kind: "OCIRepository", name: "chart" } },
        }),
      }),
    ).toEqual([]);
  });

  it("only warns for Secrets and GitRepositories, and says nothing of the bootstrap one", () => {
    expect(
      check({
        "ks.yaml":
          fluxKs("apps", { path: "./apps" }) +
          fluxKs("other", {
            path: "./apps",
            sourceRef: { kind: "GitRepository", name: "other-repo" },
          }),
        "hr.yaml": HR({
          chart: {
            spec: {
              chart: "web",
              sourceRef: { kind: "GitRepository", name: "flux-system", namespace: "flux-system" },
            },
          },
          valuesFrom: [{ kind: "Secret", name: "creds" }],
        }),
      }),
    ).toEqual([
      "warning 4 Kustomization flux-system/other: spec.sourceRef refers to GitRepository flux-system/other-repo, which is not defined in the repository; flux-local builds it from this checkout",
      "warning 2 HelmRelease apps/web: spec.valuesFrom refers to Secret apps/creds, which is not defined in the repository; if the cluster has it, render with --allow-missing-secrets (or add an ExternalSecret or SealedSecret)",
    ]);
  });

  it("downgrades to a warning when a Kustomization built from elsewhere may produce the target", () => {
    expect(
      check({
        "gotk.yaml": GOTK,
        "remote.yaml":
          object("OCIRepository", "source.toolkit.fluxcd.io/v1", "manifests", "flux-system") +
          fluxKs("remote", { path: "./", sourceRef: { kind: "OCIRepository", name: "manifests" } }),
        "ks.yaml": fluxKs("apps", { path: "./apps", dependsOn: [{ name: "made-remotely" }] }),
      }),
    ).toEqual([
      "warning 2 Kustomization flux-system/apps: spec.dependsOn refers to Kustomization flux-system/made-remotely, which is not defined in the repository (it may come from Kustomization flux-system/remote, whose output is not in this repository)",
    ]);
  });
});

describe("checkReferences and ArtifactGenerators", () => {
  it("resolves an ExternalArtifact that an ArtifactGenerator of the repository generates", () => {
    const generator = `---
apiVersion: source.extensions.fluxcd.io/v1beta1
kind: ArtifactGenerator
metadata:
  name: gen
  namespace: flux-system
spec:
  sources:
    - alias: repo
      kind: GitRepository
      name: flux-system
  artifacts:
    - name: apps
      copy:
        - from: "@repo/apps/**"
          to: "@artifact/"
`;
    const repo = repoOf({
      "gotk.yaml": GOTK,
      "gen.yaml": generator,
      "ks.yaml":
        fluxKs("apps", { path: "./", sourceRef: { kind: "ExternalArtifact", name: "apps" } }) +
        fluxKs("other", { path: "./", sourceRef: { kind: "ExternalArtifact", name: "nope" } }),
    });
    const findings = checkReferences(repo, objectsOf(repo));
    expect(findings.map((f) => f.message)).toEqual([
      expect.stringContaining("refers to ExternalArtifact flux-system/nope"),
    ]);
  });
});

describe("checkReferences and ResourceSets", () => {
  it("finds a ResourceSetInputProvider that inputsFrom names and nobody defines", () => {
    const rset = (name: string, provider: string) => `---
apiVersion: fluxcd.controlplane.io/v1
kind: ResourceSet
metadata:
  name: ${name}
  namespace: flux-system
spec:
  inputsFrom:
    - kind: ResourceSetInputProvider
      name: ${provider}
    - kind: ResourceSetInputProvider
      selector:
        matchLabels:
          none: "true"
  resources:
    - apiVersion: v1
      kind: Namespace
      metadata:
        name: ns-<< inputs.id >>
`;
    const repo = repoOf({
      "gotk.yaml": GOTK,
      "rset.yaml":
        rset("apps", "envs") +
        `---
apiVersion: fluxcd.controlplane.io/v1
kind: ResourceSetInputProvider
metadata:
  name: envs
  namespace: flux-system
spec:
  type: Static
`,
      "other.yaml": rset("other", "nope"),
    });
    const findings = checkReferences(repo, objectsOf(repo));
    expect(findings.map((f) => [f.severity, f.message, f.line])).toEqual([
      [
        "warning",
        "ResourceSet flux-system/other: spec.inputsFrom refers to ResourceSetInputProvider flux-system/nope, which is not defined in the repository (it may come from ResourceSet flux-system/apps, whose output is not in this repository)",
        2,
      ],
    ]);
    // Alone, nothing else could produce it: an error.
    const alone = repoOf({ "gotk.yaml": GOTK, "other.yaml": rset("other", "nope") });
    expect(checkReferences(alone, objectsOf(alone)).map((f) => f.severity)).toEqual(["error"]);
  });
});
