/**
 * One side of a diff from a run: the selected Kustomizations',
 * HelmReleases' and ResourceSets' objects, grouped by owner, with their
 * render inputs and failures.
 */
import path from "node:path";
import type { KubeObject } from "../flux/objects.js";
import type { RenderResult } from "../run.js";
import { matches, type Selection } from "../views/select.js";
import type { RenderInputs } from "../render/inputs.js";
import { failureOf } from "../views/failures.js";
import type { StoreEntry } from "../store/store.js";
import { typed } from "../store/typed.js";
import { ownerKey, type Group, type OwnerKind, type Side } from "./model.js";

export interface CollectOptions {
  kustomizations?: Selection;
  helmReleases?: Selection;
  resourceSets?: Selection;
  /** Which rendered objects to compare (`--skip-crds`, `--skip-secrets`, `--skip-kinds`). */
  filter: (objects: readonly KubeObject[]) => KubeObject[];
}

export interface CollectedSide {
  side: Side;
  /** Render inputs per owner key, for the "why it changed" report. */
  inputs: Map<string, RenderInputs>;
  /** Owners found at all (selected or not), to tell "not found" apart. */
  selected: number;
}

function toPosix(p: string): string {
  return p.split(path.sep).join("/");
}

function kustomizationPath(entry: StoreEntry, repoRoot: string): string {
  const built = entry.artifact?.type === "render" ? entry.artifact.path : undefined;
  if (built) {
    const rel = path.relative(repoRoot, built);
    if (!rel.startsWith("..") && !path.isAbsolute(rel)) return toPosix(rel) || ".";
    return toPosix(built);
  }
  const p = typed(entry, "Kustomization")?.spec.path ?? "";
  return p.replace(/^\.?\//, "").replace(/\/$/, "") || ".";
}

/** flux-local's `kustomization_path` of an owner. */
function ownerPath(result: RenderResult, entry: StoreEntry, kind: OwnerKind): string {
  const repoRoot = result.options.repoRoot;
  if (kind === "Kustomization") return kustomizationPath(entry, repoRoot);
  if (kind === "ResourceSet") {
    // Where the Kustomization that produced it built.
    const producer = entry.origin.producer ? result.store.get(entry.origin.producer) : undefined;
    if (producer?.ref.kind === "Kustomization") return kustomizationPath(producer, repoRoot);
  }
  return ".";
}

function groupOf(
  result: RenderResult,
  entry: StoreEntry,
  kind: OwnerKind,
  filter: CollectOptions["filter"],
): Group {
  const repoRoot = result.options.repoRoot;
  const owner = {
    kind,
    namespace: entry.ref.namespace,
    name: entry.ref.name,
    path: ownerPath(result, entry, kind),
  };
  if (entry.status.phase === "Failed") {
    const failure = failureOf(result, entry, repoRoot);
    const root = failure.rootCause
      ? ` (root cause: ${failure.rootCause.object}: ${failure.rootCause.message})`
      : "";
    return {
      owner,
      objects: [],
      failure: {
        reason: failure.reason,
        message: `${failure.message}${root}`,
        ...(failure.location ? { location: failure.location } : {}),
      },
    };
  }
  const objects = entry.artifact?.type === "render" ? filter(entry.artifact.objects) : [];
  return { owner, objects };
}

export function collectSide(result: RenderResult, options: CollectOptions): CollectedSide {
  const side: Side = new Map();
  const inputs = new Map<string, RenderInputs>();
  let selected = 0;
  const add = (kind: OwnerKind, selection: Selection | undefined) => {
    if (!selection) return;
    for (const entry of result.store.list(kind)) {
      if (!matches(entry, selection)) continue;
      selected++;
      const group = groupOf(result, entry, kind, options.filter);
      const key = ownerKey(group.owner);
      side.set(key, group);
      const recorded = entry.artifact?.type === "render" ? entry.artifact.inputs : undefined;
      if (recorded) inputs.set(key, recorded);
    }
  };
  add("Kustomization", options.kustomizations);
  add("HelmRelease", options.helmReleases);
  add("ResourceSet", options.resourceSets);
  return { side, inputs, selected };
}
