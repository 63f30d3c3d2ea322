import { describe, expect, it } from "vitest";
import { checkDocuments, checkSchemas } from "../../src/diagnostics/documents.js";
import { objectsOf } from "../../src/diagnostics/model.js";
import { parseYamlFile } from "../../src/diagnostics/parse.js";
import { repoOf } from "./helpers.js";

describe("parseYamlFile", () => {
  it("keeps every document with its line, empty ones left out", () => {
    const parsed = parseYamlFile("/f.yaml", "---\na: 1\n---\n---\n- x\n--- var\n");
    // (each document also carries lineOf, the line of any of its fields)
    expect(parsed.documents).toMatchObject([
      { value: { a: 1 }, line: 2, index: 0 },
      { value: ["x"], line: 5, index: 1 },
      { value: "var", line: 6, index: 2 },
    ]);
    expect(parsed.error).toBeUndefined();
  });

  it("stops at the first error, with its line, keeping the documents before it", () => {
    const parsed = parseYamlFile("/f.yaml", "a: 1\n---\nb: [1\nc: 2\n");
    expect(parsed.documents).toHaveLength(1);
    expect(parsed.error?.line).toBeGreaterThanOrEqual(3);
    expect(parsed.error?.message).toMatch(/^failed to parse as yaml: .*\(line \d+, column \d+\)$/);
  });

  it("refuses what PyYAML refuses, in its words", () => {
    expect(parseYamlFile("/f.yaml", "a: 1\nb: \u0000").error).toEqual({
      line: 2,
      message:
        'failed to parse as yaml: unacceptable character #x0000: special characters are not allowed\n  in "<unicode string>", position 8',
    });
  });
});

describe("checkDocuments", () => {
  it("reports documents that are not mappings as flux-local did", () => {
    const findings = checkDocuments(
      repoOf({ "list.yaml": "- entry\n", "scalar.yaml": "entry\n--- var\n...\n" }),
    );
    expect(findings.map((f) => [f.file, f.line, f.message, f.legacy])).toEqual([
      ["/repo/list.yaml", 1, "expected dictionary but was list: ['entry']", true],
      ["/repo/scalar.yaml", 1, "was not a dictionary: <class 'str'>: entry", true],
      ["/repo/scalar.yaml", 2, "was not a dictionary: <class 'str'>: var", true],
    ]);
  });

  it("reports half objects, but not plain config files or kustomization files", () => {
    const findings = checkDocuments(
      repoOf({
        "a.yaml": "kind: ConfigMap\nmetadata:\n  name: x\n",
        "b.yaml": "---\nvalues: 1\n---\napiVersion: v1\nmetadata:\n  name: y\n",
        "kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nresources: []\n",
        "broken.yaml": "a: [\n",
      }),
    );
    expect(findings.map((f) => [f.file, f.line, f.check, f.severity, f.message])).toEqual([
      ["/repo/a.yaml", 1, "document", "error", "document has kind ConfigMap but no apiVersion"],
      ["/repo/b.yaml", 4, "document", "error", "document has apiVersion v1 but no kind"],
      ["/repo/broken.yaml", 2, "yaml", "error", expect.stringMatching(/^failed to parse as yaml/)],
    ]);
  });
});

describe("checkSchemas", () => {
  it("validates Flux objects, not patches and not other kinds", () => {
    const repo = repoOf({
      "ks.yaml":
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: apps\nspec:\n  path: ./apps\n",
      "hr-patch.yaml":
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: podinfo\nspec:\n  values: {}\n",
      "kustomization.yaml": "resources: []\npatches:\n  - path: hr-patch.yaml\n",
      "cm.yaml": "apiVersion: v1\nkind: Thing\n",
    });
    const findings = checkSchemas(objectsOf(repo));
    expect(findings.map((f) => [f.file, f.line, f.message])).toEqual([
      [
        "/repo/ks.yaml",
        1,
        "invalid Kustomization apps: spec.sourceRef: Invalid input: expected object, received undefined",
      ],
    ]);
  });
});
