/** In-memory repositories for the pure checks: files parsed as diagnostics parses them. */
import path from "node:path";
import type { ParsedFile, Repository } from "../../src/diagnostics/model.js";
import { parseYamlFile } from "../../src/diagnostics/parse.js";

export const ROOT = "/repo";

export function repoOf(files: Record<string, string>): Repository {
  const map = new Map<string, ParsedFile>();
  for (const [rel, text] of Object.entries(files)) {
    const file = path.join(ROOT, rel);
    map.set(file, parseYamlFile(file, text));
  }
  return { root: ROOT, files: map };
}

export const show = (file: string) => path.relative(ROOT, file);

export function fluxKs(
  name: string,
  spec: Record<string, unknown>,
  namespace: string | undefined = "flux-system",
): string {
  return (
    "---\n" +
    JSON.stringify({
      apiVersion: "kustomize.toolkit.fluxcd.io/v1",
      kind: "Kustomization",
      metadata: { name, ...(namespace ? { namespace } : {}) },
      spec: { sourceRef: { kind: "GitRepository", name: "flux-system" }, ...spec },
    }) +
    "\n"
  );
}

export function object(
  kind: string,
  apiVersion: string,
  name: string,
  namespace?: string,
  extra = {},
) {
  return (
    "---\n" +
    JSON.stringify({
      apiVersion,
      kind,
      metadata: { name, ...(namespace ? { namespace } : {}) },
      ...extra,
    }) +
    "\n"
  );
}

export const GOTK = `---
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: flux-system
  namespace: flux-system
spec:
  url: https://example.com/fleet.git
`;
