/**
 * Small builders for source tests: Flux source documents, a Kustomization
 * using a source, and reading what a run produced.
 */
import type { RenderResult } from "../../../src/run.js";

function sourceDocument(
  kind: string,
  name: string,
  spec: Record<string, unknown>,
  namespace: string,
): string {
  return `---\n${JSON.stringify(
    { apiVersion: "source.toolkit.fluxcd.io/v1", kind, metadata: { name, namespace }, spec },
    null,
    2,
  )}\n`;
}

export function gitRepository(
  name: string,
  spec: Record<string, unknown>,
  namespace = "flux-system",
): string {
  return sourceDocument("GitRepository", name, spec, namespace);
}

export function ociRepository(
  name: string,
  spec: Record<string, unknown>,
  namespace = "flux-system",
): string {
  return sourceDocument("OCIRepository", name, spec, namespace);
}

/** A Kustomization building `path` of a source (same name by default). */
export function kustomizationOf(
  name: string,
  source: { kind: string; name: string },
  path = "./",
  extra: Record<string, unknown> = {},
): string {
  return `---\n${JSON.stringify(
    {
      apiVersion: "kustomize.toolkit.fluxcd.io/v1",
      kind: "Kustomization",
      metadata: { name, namespace: "flux-system" },
      spec: { path, sourceRef: source, ...extra },
    },
    null,
    2,
  )}\n`;
}

export function secretManifest(
  name: string,
  stringData: Record<string, string>,
  type?: string,
): string {
  return `---\n${JSON.stringify(
    {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name, namespace: "flux-system" },
      ...(type ? { type } : {}),
      stringData,
    },
    null,
    2,
  )}\n`;
}

export function configMapYaml(name: string, data: Record<string, string>): string {
  return `---\n${JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: "default" }, data }, null, 2)}\n`;
}

/** Status of an object of the run. */
export function statusOf(result: RenderResult, key: string) {
  const entry = result.store.get(key);
  if (!entry) throw new Error(`no ${key} in the store`);
  return entry.status;
}

/** Revision of a source of the run. */
export function revisionOf(result: RenderResult, key: string): string | undefined {
  const a = result.store.get(key)?.artifact;
  return a?.type === "source" ? a.revision : undefined;
}

/** `data` of the ConfigMaps a Kustomization produced, by name. */
export function producedData(result: RenderResult, ksName: string): Record<string, unknown> {
  const a = result.store.get(`Kustomization/flux-system/${ksName}`)?.artifact;
  if (a?.type !== "render") return {};
  return Object.fromEntries(
    a.objects.filter((o) => o.kind === "ConfigMap").map((o) => [o.metadata?.name ?? "", o.data]),
  );
}

/** Every status message of the run, for checks that a secret never shows. */
export function allMessages(result: RenderResult): string {
  return result.store
    .list()
    .map((e) => `${e.key}: ${e.status.message}`)
    .join("\n");
}
