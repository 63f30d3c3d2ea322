/**
 * Selecting objects of a run the way the CLI's filters do: a name, a namespace
 * (or all of them), label selectors.
 */
import type { StoreEntry } from "../store/store.js";
import type { RenderResult } from "../run.js";

export interface Selection {
  name?: string;
  namespace: string;
  allNamespaces: boolean;
  /** Every pair must match the object's labels. */
  labels: Record<string, string>;
}

export const DEFAULT_NAMESPACE = "flux-system";

export function parseLabelSelector(values: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const value of values) {
    for (const part of value.split(",")) {
      if (!part.trim()) continue;
      const eq = part.indexOf("=");
      if (eq <= 0) throw new Error(`label selector "${part}" must be key=value`);
      out[part.slice(0, eq).trim()] = part
        .slice(eq + 1)
        .replace(/^=/, "")
        .trim();
    }
  }
  return out;
}

export function matches(entry: StoreEntry, selection: Selection): boolean {
  if (!selection.allNamespaces && entry.ref.namespace !== selection.namespace) return false;
  if (selection.name && entry.ref.name !== selection.name) return false;
  const labels = entry.object.metadata?.labels ?? {};
  return Object.entries(selection.labels).every(([k, v]) => labels[k] === v);
}

/** Entries of a kind, in discovery order, that the selection matches. */
export function selectEntries(
  result: RenderResult,
  kind: string,
  selection: Selection,
): StoreEntry[] {
  return result.store.list(kind).filter((e) => matches(e, selection));
}

/**
 * The failed Kustomizations not among `listed`: what they would have produced
 * is missing from any listing, so a command reports them with its own objects.
 */
export function failedKustomizations(
  result: RenderResult,
  listed: readonly StoreEntry[] = [],
): StoreEntry[] {
  const keys = new Set(listed.map((e) => e.key));
  return result.store
    .list("Kustomization")
    .filter((e) => e.status.phase === "Failed" && !keys.has(e.key));
}
