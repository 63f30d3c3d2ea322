import { describe, expect, it } from "vitest";
import { checkSchemas } from "../../src/diagnostics/documents.js";
import { checkExpressions } from "../../src/diagnostics/expressions.js";
import { checkDeprecatedApis } from "../../src/diagnostics/deprecated.js";
import { objectsOf } from "../../src/diagnostics/model.js";
import { repoOf } from "./helpers.js";

const ks = (name: string, apiVersion: string, extra: string) =>
  `---
apiVersion: ${apiVersion}
kind: Kustomization
metadata:
  name: ${name}
  namespace: flux-system
spec:
  path: ./apps
  sourceRef:
    kind: GitRepository
    name: flux-system
${extra}`;

describe("CEL expressions in diagnostics", () => {
  it("reports an invalid readyExpr at the line of the expression", () => {
    const repo = repoOf({
      "ks.yaml": ks(
        "apps",
        "kustomize.toolkit.fluxcd.io/v1",
        `  dependsOn:
    - name: infra
      readyExpr: dep.status.ready == true
    - name: db
      readyExpr: "this is ((( not cel"
  healthCheckExprs:
    - apiVersion: example.com/v1
      kind: Thing
      current: status.phase == 'Ready'
      failed: "status.phase =="
`,
      ),
    });
    expect(checkExpressions(objectsOf(repo))).toEqual([
      {
        severity: "error",
        check: "expression",
        file: "/repo/ks.yaml",
        line: 16,
        object: "Kustomization/flux-system/apps",
        message:
          "Kustomization flux-system/apps: spec.dependsOn[1].readyExpr: invalid CEL: at 1:6: found i but expecting end of input",
      },
      {
        severity: "error",
        check: "expression",
        file: "/repo/ks.yaml",
        line: 21,
        object: "Kustomization/flux-system/apps",
        message: expect.stringMatching(
          /^Kustomization flux-system\/apps: spec\.healthCheckExprs\[0\]\.failed: invalid CEL: at 1:/,
        ) as string,
      },
    ]);
  });
});

describe("a ResourceSet's readyExpr in diagnostics", () => {
  it("reports one the Flux Operator would not parse (ready: true), at its line", () => {
    const repo = repoOf({
      "rset.yaml": `apiVersion: fluxcd.controlplane.io/v1
kind: ResourceSet
metadata:
  name: apps
  namespace: flux-system
spec:
  dependsOn:
    - kind: Kustomization
      name: infra
      ready: true
      readyExpr: "this is ((( not cel"
  resources: []
`,
    });
    expect(checkExpressions(objectsOf(repo)).map((f) => [f.line, f.message])).toEqual([
      [
        11,
        "ResourceSet flux-system/apps: spec.dependsOn[0].readyExpr: invalid CEL: at 1:6: found i but expecting end of input",
      ],
    ]);
  });
});

describe("API versions in diagnostics", () => {
  it("warns on a version Flux 2.8 removed and fails an unknown one", () => {
    const repo = repoOf({
      "a.yaml":
        ks("old", "kustomize.toolkit.fluxcd.io/v1beta2", "") +
        ks("future", "kustomize.toolkit.fluxcd.io/v9", ""),
    });
    const objects = objectsOf(repo);
    expect(checkDeprecatedApis(objects).map((f) => [f.severity, f.line, f.message])).toEqual([
      [
        "warning",
        2,
        "Kustomization flux-system/old uses kustomize.toolkit.fluxcd.io/v1beta2, which Flux 2.8 removed: use kustomize.toolkit.fluxcd.io/v1 (`flux migrate` rewrites it; rendered as kustomize.toolkit.fluxcd.io/v1)",
      ],
    ]);
    expect(checkSchemas(objects).map((f) => [f.severity, f.line, f.message])).toEqual([
      [
        "error",
        13,
        "invalid Kustomization future: apiVersion: kustomize.toolkit.fluxcd.io/v9 is not a version of Kustomization (known: v1, v1beta1, v1beta2)",
      ],
    ]);
  });
});
