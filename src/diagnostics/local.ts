/**
 * Which Flux Kustomizations build from this checkout, statically, by the rules
 * the render uses: a GitRepository source that is the bootstrap one
 * (flux-system/flux-system), has its URL, is defined nowhere (bootstrap or a
 * FluxInstance creates it), or whose Kustomization's `spec.path` exists in the
 * checkout. Everything else (OCIRepository, Bucket, another repository) is
 * built from content this check cannot see.
 */
import path from "node:path";
import { apiGroup, FLUX_GROUPS } from "../flux/objects.js";
import { isMapping, type ObjectDoc, type Repository } from "./model.js";

export interface FluxKustomization {
  obj: ObjectDoc;
  /** Built from this checkout. */
  local: boolean;
  /** Absolute folder it builds, when local. */
  dir?: string;
}

function str(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

/** Every folder holding a file that was read (and their parents up to the root). */
export function foldersOf(repo: Repository): Set<string> {
  const dirs = new Set<string>();
  for (const file of repo.files.keys()) {
    for (let dir = path.dirname(file); !dirs.has(dir); dir = path.dirname(dir)) {
      dirs.add(dir);
      if (dir === repo.root || path.dirname(dir) === dir) break;
    }
  }
  return dirs;
}

export function fluxKustomizations(
  repo: Repository,
  objects: readonly ObjectDoc[],
): FluxKustomization[] {
  const gitRepos = objects.filter(
    (o) => o.kind === "GitRepository" && apiGroup(o.apiVersion) === FLUX_GROUPS.source,
  );
  const urlOf = (o: ObjectDoc | undefined) =>
    o && isMapping(o.value.spec) ? str(o.value.spec.url) : undefined;
  const bootstrap = gitRepos.find(
    (o) => o.name === "flux-system" && (o.namespace ?? "flux-system") === "flux-system",
  );
  const bootstrapUrl = urlOf(bootstrap);
  const dirs = foldersOf(repo);
  const out: FluxKustomization[] = [];
  for (const obj of objects) {
    if (obj.kind !== "Kustomization" || apiGroup(obj.apiVersion) !== FLUX_GROUPS.kustomize)
      continue;
    const spec = isMapping(obj.value.spec) ? obj.value.spec : {};
    const sourceRef = isMapping(spec.sourceRef) ? spec.sourceRef : {};
    const dir = path.join(repo.root, str(spec.path) ?? "");
    const inside = !path.relative(repo.root, dir).startsWith("..");
    let local = false;
    if (sourceRef.kind === "GitRepository" && inside) {
      const name = str(sourceRef.name);
      const namespace = str(sourceRef.namespace) ?? obj.namespace;
      const candidates = gitRepos.filter(
        (g) =>
          g.name === name &&
          (namespace === undefined || g.namespace === undefined || g.namespace === namespace),
      );
      local =
        candidates.length === 0 ||
        candidates.some(
          (g) => g === bootstrap || (bootstrapUrl !== undefined && urlOf(g) === bootstrapUrl),
        ) ||
        dirs.has(dir);
    }
    out.push({ obj, local, ...(local ? { dir } : {}) });
  }
  return out;
}
