/**
 * The generic Kubernetes object as read from YAML, and the keys we index it by.
 * Flux kinds are validated further by the zod schemas in ./schema.ts; every other
 * kind is carried as a raw object and re-emitted unchanged.
 */

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [key: string]: unknown;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  [key: string]: unknown;
}

/** Where an object came from: a file and line, or the object that produced it. */
export interface Origin {
  /** Path relative to the repository root (or absolute when outside it). */
  file?: string;
  line?: number;
  /** `Kind/namespace/name` of the Kustomization or HelmRelease that produced it. */
  producer?: string;
}

export interface ObjectRef {
  kind: string;
  namespace: string;
  name: string;
}

export function refString(ref: ObjectRef): string {
  return `${ref.kind}/${ref.namespace}/${ref.name}`;
}

/** Human form used in messages: `Kustomization flux-system/apps`. */
export function refDisplay(ref: ObjectRef): string {
  return ref.namespace ? `${ref.kind} ${ref.namespace}/${ref.name}` : `${ref.kind} ${ref.name}`;
}

export function apiGroup(apiVersion: string | undefined): string {
  if (!apiVersion) return "";
  const slash = apiVersion.indexOf("/");
  return slash < 0 ? "" : apiVersion.slice(0, slash);
}

/** Identity of an output object: group, kind, namespace, name (as kubectl sees it). */
export function objectIdentity(obj: KubeObject): string {
  const md = obj.metadata ?? {};
  return `${apiGroup(obj.apiVersion)}/${obj.kind ?? ""}/${md.namespace ?? ""}/${md.name ?? ""}`;
}

export const FLUX_GROUPS = {
  kustomize: "kustomize.toolkit.fluxcd.io",
  helm: "helm.toolkit.fluxcd.io",
  source: "source.toolkit.fluxcd.io",
  sourceExtensions: "source.extensions.fluxcd.io",
  operator: "fluxcd.controlplane.io",
} as const;

/** Any Flux API group (the toolkit's, including notifications and image automation, and the operator's). */
export function isFluxApiVersion(apiVersion: string | undefined): boolean {
  if (!apiVersion) return false;
  const group = apiGroup(apiVersion);
  return group.endsWith(".fluxcd.io") || group === FLUX_GROUPS.operator;
}

/** The source kinds, in the order listings show them. */
export const SOURCE_KINDS = [
  "GitRepository",
  "OCIRepository",
  "Bucket",
  "ExternalArtifact",
  "HelmRepository",
  "HelmChart",
] as const;

/** Sources that hold manifests (what a Kustomization may point at). */
export const ARTIFACT_SOURCE_KINDS = new Set([
  "GitRepository",
  "OCIRepository",
  "Bucket",
  "ExternalArtifact",
]);

export function isKind(obj: KubeObject, group: string, kind: string): boolean {
  return obj.kind === kind && apiGroup(obj.apiVersion) === group;
}

export function isSecret(obj: KubeObject): boolean {
  return obj.kind === "Secret" && (obj.apiVersion === "v1" || obj.apiVersion === undefined);
}

export function isConfigMap(obj: KubeObject): boolean {
  return obj.kind === "ConfigMap" && (obj.apiVersion === "v1" || obj.apiVersion === undefined);
}

export function isCustomResourceDefinition(obj: KubeObject): boolean {
  return (
    obj.kind === "CustomResourceDefinition" && apiGroup(obj.apiVersion) === "apiextensions.k8s.io"
  );
}

export function deepClone<T>(value: T): T {
  return structuredClone(value);
}
