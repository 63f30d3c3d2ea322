/**
 * What `get ks` and `get cluster` show about Kustomizations.
 */
import path from "node:path";
import { apiGroup, FLUX_GROUPS, type KubeObject } from "../flux/objects.js";
import type { RenderResult } from "../run.js";
import type { StoreEntry } from "../store/store.js";
import { typed } from "../store/typed.js";
import { selectEntries, type Selection } from "./select.js";

export interface KustomizationInfo {
  entry: StoreEntry;
  name: string;
  namespace: string;
  /** The built directory, relative to the repository root when inside it (as flux-local). */
  path: string;
  objects: KubeObject[];
}

export function displayPath(abs: string, cwd: string): string {
  const rel = path.relative(cwd, abs);
  if (rel === "") return ".";
  return rel.startsWith("..") || path.isAbsolute(rel) ? abs : rel;
}

function specPath(entry: StoreEntry): string {
  const p = typed(entry, "Kustomization")?.spec.path ?? "";
  return p.replace(/^\.?\//, "") || ".";
}

/**
 * Where listed paths are relative to: the repository root, as flux-local, so
 * they do not depend on the folder the command runs in; outside a git checkout,
 * the working directory.
 */
export function displayBase(result: RenderResult): string {
  return result.options.inGitCheckout ? result.options.repoRoot : process.cwd();
}

/** The Kustomizations a selection matches, with their paths relative to `base`. */
export function kustomizationInfos(
  result: RenderResult,
  selection: Selection,
  base: string = displayBase(result),
): KustomizationInfo[] {
  return selectEntries(result, "Kustomization", selection)
    .map((entry) => {
      const artifact = entry.artifact?.type === "render" ? entry.artifact : undefined;
      return {
        entry,
        name: entry.ref.name,
        namespace: entry.ref.namespace,
        path: artifact?.path ? displayPath(artifact.path, base) : specPath(entry),
        objects: artifact?.objects ?? [],
      };
    })
    .sort((a, b) => compare(a.namespace, b.namespace) || compare(a.name, b.name));
}

export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function ofKind(objects: readonly KubeObject[], group: string, kind: string): KubeObject[] {
  return objects.filter((o) => o.kind === kind && apiGroup(o.apiVersion) === group);
}

export function countHelmRepos(objects: readonly KubeObject[]): number {
  return ofKind(objects, FLUX_GROUPS.source, "HelmRepository").length;
}
export function countOciRepos(objects: readonly KubeObject[]): number {
  return ofKind(objects, FLUX_GROUPS.source, "OCIRepository").length;
}
export function countReleases(objects: readonly KubeObject[]): number {
  return ofKind(objects, FLUX_GROUPS.helm, "HelmRelease").length;
}
