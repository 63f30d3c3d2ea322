/**
 * The pure core of `flux-local diff`: what each side rendered, grouped by the
 * Kustomization or HelmRelease that owns it, matched across the two sides.
 *
 * Groups are matched by their owner's identity (kind, namespace, name), so a
 * Kustomization whose path changed is one group that changed, not one removed
 * and one added. Objects are matched by kind, namespace and name within a
 * group; an object that leaves one group and appears in another is a move.
 */
import { dumpYaml } from "../discovery/yaml.js";
import type { KubeObject } from "../flux/objects.js";
import type { InputChange } from "../render/inputs.js";
import { secretDigest } from "../render/secrets.js";

/** What owns rendered objects: Kustomizations, HelmReleases and (in `diff all`) ResourceSets. */
export type OwnerKind = "Kustomization" | "HelmRelease" | "ResourceSet";

export interface Owner {
  kind: OwnerKind;
  namespace: string;
  name: string;
  /**
   * flux-local's `kustomization_path`: the built directory relative to the
   * repository root of its side (`.` for HelmReleases; a ResourceSet's is
   * that of the Kustomization that produced it).
   */
  path: string;
}

/** A render that failed on one side: its diff is withheld. */
export interface GroupFailure {
  reason: string;
  message: string;
  /** Where the owner is defined, relative to its side's repository root. */
  location?: string;
}

export interface Group {
  owner: Owner;
  objects: KubeObject[];
  failure?: GroupFailure;
}

/** One side of the comparison: groups by owner key (`Kind/namespace/name`). */
export type Side = Map<string, Group>;

export interface ObjectId {
  kind: string;
  /** `metadata.namespace`, else the owner's namespace (as flux-local keyed them). */
  namespace: string;
  name: string;
}

export type ChangeType = "added" | "removed" | "changed" | "moved";

export interface ObjectChange {
  id: ObjectId;
  type: ChangeType;
  /** The object on the original side (absent when added). */
  before?: KubeObject;
  /** The object on the current side (absent when removed). */
  after?: KubeObject;
  /** For a move: the group it came from. */
  from?: Owner;
  /** A Secret whose values changed (they are never shown). */
  secretValuesChanged?: boolean;
}

export type GroupStatus = "added" | "removed" | "changed" | "unchanged" | "failed";

export interface GroupDiff {
  key: string;
  /** The current side's owner when it exists, else the original's. */
  owner: Owner;
  /** The original side's owner (its path may differ). */
  ownerBefore?: Owner;
  status: GroupStatus;
  changes: ObjectChange[];
  /** Failures per side, when the render failed on either. */
  failures?: { before?: GroupFailure; after?: GroupFailure };
  /** Why it changed: the inputs that differ between the sides. */
  causes?: InputChange[];
}

export interface DiffOptions {
  /** Labels and annotations to drop before comparing (globs with `*`). */
  stripAttrs?: readonly string[];
}

export const OWNER_ORDER: Record<OwnerKind, number> = {
  Kustomization: 0,
  HelmRelease: 1,
  ResourceSet: 2,
};

export function ownerKey(owner: Pick<Owner, "kind" | "namespace" | "name">): string {
  return `${owner.kind}/${owner.namespace}/${owner.name}`;
}

export function objectId(obj: KubeObject, owner: Owner): ObjectId {
  return {
    kind: obj.kind ?? "",
    namespace: obj.metadata?.namespace ?? owner.namespace,
    name: obj.metadata?.name ?? "",
  };
}

export function idKey(id: ObjectId): string {
  return `${id.kind}/${id.namespace}/${id.name}`;
}

/** flux-local's labels: `Kind: ns/name`, and the owner's with its path first. */
export function compactLabel(id: { kind: string; namespace?: string; name: string }): string {
  return `${id.kind}: ${id.namespace ? `${id.namespace}/` : ""}${id.name}`;
}

export function ownerLabel(owner: Owner): string {
  const label = compactLabel(owner);
  return owner.path && owner.path !== "." ? `${owner.path} ${label}` : label;
}

function globToRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*");
  return new RegExp(`^${escaped}$`);
}

/**
 * Noise from chart bumps, stripped by default: the chart label and version,
 * and checksum annotations that change whenever a rendered config does.
 */
export const DEFAULT_STRIP_ATTRS = [
  "helm.sh/chart",
  "chart",
  "app.kubernetes.io/version",
  "checksum/*",
] as const;

function stripMeta(meta: unknown, patterns: readonly RegExp[]): void {
  if (!meta || typeof meta !== "object") return;
  for (const field of ["labels", "annotations"] as const) {
    const map = (meta as Record<string, unknown>)[field];
    if (!map || typeof map !== "object") continue;
    const record = map as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      if (patterns.some((p) => p.test(key))) delete record[key];
    }
    if (Object.keys(record).length === 0) delete (meta as Record<string, unknown>)[field];
  }
}

/**
 * A copy of `obj` without the given labels and annotations, on the object and
 * on its pod template (`spec.template.metadata`, `spec.jobTemplate...`).
 */
export function stripAttributes(obj: KubeObject, attrs: readonly string[]): KubeObject {
  if (attrs.length === 0) return obj;
  const patterns = attrs.map(globToRegExp);
  const copy = structuredClone(obj);
  stripMeta(copy.metadata, patterns);
  const spec = copy.spec as Record<string, unknown> | undefined;
  const template = spec?.template as Record<string, unknown> | undefined;
  stripMeta(template?.metadata, patterns);
  const jobTemplate = spec?.jobTemplate as
    { spec?: { template?: { metadata?: unknown } } } | undefined;
  stripMeta(jobTemplate?.spec?.template?.metadata, patterns);
  return copy;
}

function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (value && typeof value === "object") {
    const obj = value as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(obj)
        .sort()
        .map((k) => [k, sortedKeys(obj[k])]),
    );
  }
  return value;
}

/**
 * flux-local's lines of one object: `---`, then its YAML with keys sorted at
 * every level (as flux-local printed them), split on newlines.
 */
export function objectLines(obj: KubeObject | undefined): string[] {
  if (!obj) return [];
  return ["---", ...dumpYaml(sortedKeys(obj)).split("\n")];
}

function same(a: KubeObject, b: KubeObject): boolean {
  return dumpYaml(sortedKeys(a)) === dumpYaml(sortedKeys(b));
}

function emptyGroup(owner: Owner): Group {
  return { owner, objects: [] };
}

/**
 * Compare the original side with the current one. Groups come out ordered by
 * owner kind, namespace and name; objects in the order the original side
 * rendered them, then the new ones in the current side's order (as
 * flux-local's ordered union).
 */
export function compareSides(before: Side, after: Side, options: DiffOptions = {}): GroupDiff[] {
  const strip = options.stripAttrs ?? [];
  const keys = [...new Set([...before.keys(), ...after.keys()])];
  const diffs: GroupDiff[] = [];
  for (const key of keys) {
    const b = before.get(key);
    const a = after.get(key);
    const owner = (a ?? b)?.owner;
    if (!owner) continue;
    const diff: GroupDiff = {
      key,
      owner,
      ...(b && a && b.owner.path !== a.owner.path ? { ownerBefore: b.owner } : {}),
      status: "unchanged",
      changes: [],
    };
    if (b?.failure || a?.failure) {
      diff.status = "failed";
      diff.failures = {
        ...(b?.failure ? { before: b.failure } : {}),
        ...(a?.failure ? { after: a.failure } : {}),
      };
      diffs.push(diff);
      continue;
    }
    const bg = b ?? emptyGroup(owner);
    const ag = a ?? emptyGroup(owner);
    const index = (g: Group) => {
      const map = new Map<string, { id: ObjectId; obj: KubeObject; secret?: string }>();
      for (const obj of g.objects) {
        const id = objectId(obj, g.owner);
        const secret = secretDigest(obj);
        map.set(idKey(id), {
          id,
          obj: stripAttributes(obj, strip),
          ...(secret ? { secret } : {}),
        });
      }
      return map;
    };
    const bi = index(bg);
    const ai = index(ag);
    for (const k of new Set([...bi.keys(), ...ai.keys()])) {
      const x = bi.get(k);
      const y = ai.get(k);
      if (x && y) {
        const secretValuesChanged =
          x.secret !== undefined && y.secret !== undefined && x.secret !== y.secret;
        if (!same(x.obj, y.obj) || secretValuesChanged)
          diff.changes.push({
            id: y.id,
            type: "changed",
            before: x.obj,
            after: y.obj,
            ...(secretValuesChanged ? { secretValuesChanged } : {}),
          });
      } else if (x) {
        diff.changes.push({ id: x.id, type: "removed", before: x.obj });
      } else if (y) {
        diff.changes.push({ id: y.id, type: "added", after: y.obj });
      }
    }
    diff.status = !b ? "added" : !a ? "removed" : diff.changes.length ? "changed" : "unchanged";
    diffs.push(diff);
  }
  detectMoves(diffs);
  diffs.sort(
    (x, y) =>
      OWNER_ORDER[x.owner.kind] - OWNER_ORDER[y.owner.kind] ||
      cmp(x.owner.namespace, y.owner.namespace) ||
      cmp(x.owner.name, y.owner.name),
  );
  return diffs;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * An object removed from one group and added to another (same kind,
 * namespace and name) moved: it is reported once, in its new group, with the
 * group it came from.
 */
function detectMoves(diffs: GroupDiff[]): void {
  const removed = new Map<string, { group: GroupDiff; change: ObjectChange }>();
  for (const group of diffs) {
    if (group.owner.kind !== "Kustomization") continue;
    for (const change of group.changes) {
      if (change.type === "removed") removed.set(idKey(change.id), { group, change });
    }
  }
  if (removed.size === 0) return;
  for (const group of diffs) {
    if (group.owner.kind !== "Kustomization") continue;
    for (const change of group.changes) {
      if (change.type !== "added") continue;
      const source = removed.get(idKey(change.id));
      if (!source || source.group === group) continue;
      removed.delete(idKey(change.id));
      change.type = "moved";
      if (source.change.before) change.before = source.change.before;
      change.from = source.group.ownerBefore ?? source.group.owner;
      source.group.changes = source.group.changes.filter((c) => c !== source.change);
    }
  }
  for (const group of diffs) {
    if (group.status === "changed" && group.changes.length === 0) group.status = "unchanged";
  }
}

/** The line that marks a Secret whose values changed (values are never printed). */
export const SECRET_VALUES_CHANGED = "# Secret values changed (not shown)";

/** The lines compared for one change: the objects' YAML (and the Secret marker). */
export function changeLines(change: ObjectChange): { before: string[]; after: string[] } {
  const before = objectLines(change.before);
  const after = objectLines(change.after);
  return change.secretValuesChanged
    ? { before, after: [...after, SECRET_VALUES_CHANGED] }
    : { before, after };
}

/** The groups that changed (or failed), for the outputs. */
export function changedGroups(diffs: readonly GroupDiff[]): GroupDiff[] {
  return diffs.filter((d) => d.changes.length > 0 || d.status === "failed");
}

export interface Counts {
  added: number;
  changed: number;
  removed: number;
  moved: number;
}

export function countChanges(changes: readonly ObjectChange[]): Counts {
  const counts: Counts = { added: 0, changed: 0, removed: 0, moved: 0 };
  for (const c of changes) counts[c.type]++;
  return counts;
}
