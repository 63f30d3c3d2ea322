/**
 * Deprecated Flux API versions. The kinds we render follow Flux 2.8
 * (../flux/versions.ts): a version it removed is a warning naming the
 * replacement (the object still renders); an unknown version is a schema error
 * (documents.ts). Other Flux kinds (notifications, image automation) are
 * checked against the table below.
 */
import { apiGroup } from "../flux/objects.js";
import { apiVersionProblem, checkApiVersion } from "../flux/versions.js";
import { describe, type Finding, type ObjectDoc } from "./model.js";

interface Deprecation {
  group: string;
  versions: readonly string[];
  kinds: readonly string[];
  /** The version to use instead. */
  use: string;
}

/** Kinds we do not render; the rendered ones are in ../flux/versions.ts. */
export const DEPRECATIONS: readonly Deprecation[] = [
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
  const verdict = checkApiVersion(apiVersion, kind);
  if (verdict.status === "removed") {
    return {
      group: apiGroup(apiVersion),
      versions: [apiVersion.slice(apiGroup(apiVersion).length + 1)],
      kinds: [kind],
      use: verdict.use.slice(verdict.use.indexOf("/") + 1),
    };
  }
  if (verdict.status !== "unchecked") return undefined;
  const group = apiGroup(apiVersion);
  const version = apiVersion.slice(group.length + 1);
  return DEPRECATIONS.find(
    (d) => d.group === group && d.versions.includes(version) && d.kinds.includes(kind),
  );
}

export function checkDeprecatedApis(objects: readonly ObjectDoc[]): Finding[] {
  const findings: Finding[] = [];
  for (const obj of objects) {
    const problem = apiVersionProblem(obj.apiVersion, obj.kind);
    const d = problem?.severity === "warning" ? undefined : deprecationOf(obj.apiVersion, obj.kind);
    const why =
      problem?.severity === "warning"
        ? problem.message
        : d && `uses the deprecated API ${obj.apiVersion}: use ${d.group}/${d.use}`;
    if (!why) continue;
    findings.push({
      severity: "warning",
      check: "deprecated",
      file: obj.file,
      line: obj.line,
      object: `${obj.kind}/${obj.namespace ?? ""}/${obj.name}`,
      message: `${describe(obj)} ${why}`,
    });
  }
  return findings;
}
