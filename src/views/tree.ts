/**
 * The dependency view: Kustomizations and HelmReleases as the tree of what
 * produced what, with their dependsOn edges. Pure over the store's entries.
 */
import type { StoreEntry } from "../store/store.js";
import { typed } from "../store/typed.js";
import { compare } from "./kustomizations.js";

export interface TreeNode {
  entry: StoreEntry;
  /** Keys this object waits for (`spec.dependsOn`). */
  dependsOn: string[];
  children: TreeNode[];
}

/** What the tree shows: what renders, and what generates sources or objects. */
export const TREE_KINDS = new Set([
  "Kustomization",
  "HelmRelease",
  "ArtifactGenerator",
  "ExternalArtifact",
  "ResourceSet",
]);

function dependsOnKeys(entry: StoreEntry): string[] {
  const deps =
    entry.ref.kind === "HelmRelease"
      ? typed(entry, "HelmRelease")?.spec.dependsOn
      : typed(entry, "Kustomization")?.spec.dependsOn;
  return (deps ?? []).map(
    (d) => `${entry.ref.kind}/${d.namespace ?? entry.ref.namespace}/${d.name}`,
  );
}

/** Roots are objects no listed object produced; children are sorted by key. */
export function buildTree(entries: readonly StoreEntry[]): TreeNode[] {
  const listed = entries.filter((e) => TREE_KINDS.has(e.ref.kind));
  const nodes = new Map(
    listed.map((e) => [
      e.key,
      { entry: e, dependsOn: dependsOnKeys(e), children: [] as TreeNode[] },
    ]),
  );
  const roots: TreeNode[] = [];
  for (const node of nodes.values()) {
    const producer = node.entry.origin.producer;
    const parent = producer && producer !== node.entry.key ? nodes.get(producer) : undefined;
    if (parent) parent.children.push(node);
    else roots.push(node);
  }
  const sort = (list: TreeNode[]) => {
    list.sort((a, b) => compare(a.entry.key, b.entry.key));
    for (const n of list) sort(n.children);
  };
  sort(roots);
  return roots;
}

/** Lines of the tree, with box-drawing guides; `label` renders one node. */
export function renderTree(
  roots: readonly TreeNode[],
  label: (node: TreeNode) => string,
): string[] {
  const lines: string[] = [];
  const walk = (node: TreeNode, prefix: string, last: boolean, top: boolean) => {
    lines.push(top ? label(node) : `${prefix}${last ? "└── " : "├── "}${label(node)}`);
    const childPrefix = top ? "" : `${prefix}${last ? "    " : "│   "}`;
    node.children.forEach((child, i) =>
      walk(child, childPrefix, i === node.children.length - 1, false),
    );
  };
  roots.forEach((root) => walk(root, "", true, true));
  return lines;
}
