/**
 * The API versions of the Flux kinds we render, as Flux 2.8 serves them: the
 * current version of each kind, the versions Flux 2.8 removed (still rendered,
 * with a warning naming the replacement, as `flux migrate` would rewrite
 * them: their schema is the same), and everything else, an unknown version of
 * a known group (`kustomize.toolkit.fluxcd.io/v9`), which is an error.
 */
import { apiGroup } from "./objects.js";

/** The Flux release whose API versions (and rendering) we match. */
export const FLUX_VERSION = "2.8";

interface KindVersions {
  /** The version Flux 2.8 serves. */
  current: string;
  /** Versions this kind had that Flux 2.8 no longer serves. */
  removed: readonly string[];
}

const v1Source: KindVersions = { current: "v1", removed: ["v1beta1", "v1beta2"] };

/** By group, then kind. */
export const FLUX_API_VERSIONS: Readonly<Record<string, Readonly<Record<string, KindVersions>>>> = {
  "kustomize.toolkit.fluxcd.io": {
    Kustomization: { current: "v1", removed: ["v1beta1", "v1beta2"] },
  },
  "helm.toolkit.fluxcd.io": {
    HelmRelease: { current: "v2", removed: ["v2beta1", "v2beta2"] },
  },
  "source.toolkit.fluxcd.io": {
    GitRepository: v1Source,
    HelmRepository: v1Source,
    HelmChart: v1Source,
    Bucket: v1Source,
    OCIRepository: { current: "v1", removed: ["v1beta2"] },
    ExternalArtifact: { current: "v1", removed: [] },
  },
  "source.extensions.fluxcd.io": {
    ArtifactGenerator: { current: "v1beta1", removed: [] },
  },
  "fluxcd.controlplane.io": {
    ResourceSet: { current: "v1", removed: [] },
    ResourceSetInputProvider: { current: "v1", removed: [] },
    FluxInstance: { current: "v1", removed: [] },
    FluxReport: { current: "v1", removed: [] },
  },
};

export type ApiVersionVerdict =
  /** Not a group we render (or not a kind of it we know): nothing to say. */
  | { status: "unchecked" }
  | { status: "current" }
  /** Removed by Flux 2.8: renders, with a warning. */
  | { status: "removed"; use: string }
  /** No Flux release serves this version: an error. */
  | { status: "unknown"; known: string[] };

export function checkApiVersion(apiVersion: string, kind: string): ApiVersionVerdict {
  const group = apiGroup(apiVersion);
  const versions = FLUX_API_VERSIONS[group]?.[kind];
  if (!versions) return { status: "unchecked" };
  const version = apiVersion.slice(group.length + 1);
  if (version === versions.current) return { status: "current" };
  if (versions.removed.includes(version)) {
    return { status: "removed", use: `${group}/${versions.current}` };
  }
  return { status: "unknown", known: [versions.current, ...versions.removed] };
}

/** The warning for a removed version, or the error for an unknown one (undefined when fine). */
export function apiVersionProblem(
  apiVersion: string,
  kind: string,
): { severity: "warning" | "error"; message: string } | undefined {
  const verdict = checkApiVersion(apiVersion, kind);
  if (verdict.status === "removed") {
    return {
      severity: "warning",
      message: `uses ${apiVersion}, which Flux ${FLUX_VERSION} removed: use ${verdict.use} (\`flux migrate\` rewrites it; rendered as ${verdict.use})`,
    };
  }
  if (verdict.status === "unknown") {
    return {
      severity: "error",
      message: `uses ${apiVersion}, which is not a version of ${kind} (known: ${verdict.known.join(", ")})`,
    };
  }
  return undefined;
}
