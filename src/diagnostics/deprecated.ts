/**
 * Deprecated Flux API versions: still served by some Flux releases, removed by
 * later ones. Warnings, not errors: the repository renders today.
 */
import { apiGroup } from "../flux/objects.js";
import { describe, type Finding, type ObjectDoc } from "./model.js";

interface Deprecation {
  group: string;
  versions: readonly string[];
  kinds: readonly string[];
  /** The version to use instead. */
  use: string;
}

export const DEPRECATIONS: readonly Deprecation[] = [
  {
    group: "kustomize.toolkit.fluxcd.io",
    versions: ["v1beta1", "v1beta2"],
    kinds: ["Kustomization"],
    use: "v1",
  },
  {
    group: "helm.toolkit.fluxcd.io",
    versions: ["v2beta1", "v2beta2"],
    kinds: ["HelmRelease"],
    use: "v2",
  },
  {
    group: "source.toolkit.fluxcd.io",
    versions: ["v1beta1", "v1beta2"],
    kinds: ["GitRepository", "HelmRepository", "HelmChart", "Bucket", "OCIRepository"],
    use: "v1",
  },
  {
    group: "notification.toolkit.fluxcd.io",
    versions: ["v1beta1", "v1beta2"],
    kinds: ["Alert", "Provider"],
    use: "v1beta3",
  },
  {
    group: "notification.toolkit.fluxcd.io",
    versions: ["v1beta1", "v1beta2"],
    kinds: ["Receiver"],
    use: "v1",
  },
  {
    group: "image.toolkit.fluxcd.io",
    versions: ["v1alpha1", "v1alpha2", "v1beta1"],
    kinds: ["ImageRepository", "ImagePolicy", "ImageUpdateAutomation"],
    use: "v1beta2",
  },
];

export function deprecationOf(apiVersion: string, kind: string): Deprecation | undefined {
  const group = apiGroup(apiVersion);
  const version = apiVersion.slice(group.length + 1);
  return DEPRECATIONS.find(
    (d) => d.group === group && d.versions.includes(version) && d.kinds.includes(kind),
  );
}

export function checkDeprecatedApis(objects: readonly ObjectDoc[]): Finding[] {
  const findings: Finding[] = [];
  for (const obj of objects) {
    const d = deprecationOf(obj.apiVersion, obj.kind);
    if (!d) continue;
    findings.push({
      severity: "warning",
      check: "deprecated",
      file: obj.file,
      line: obj.line,
      object: `${obj.kind}/${obj.namespace ?? ""}/${obj.name}`,
      message: `${describe(obj)} uses the deprecated API ${obj.apiVersion}: use ${d.group}/${d.use}`,
    });
  }
  return findings;
}
