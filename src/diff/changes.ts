/**
 * Kubernetes-aware, path-keyed changes between two versions of an object:
 * `spec.template.spec.containers[name=app].image: 6.5.3 → 6.5.4`.
 *
 * Lists whose entries are all objects with a distinct `name` (containers,
 * env, ports, volumes, ...) are matched by name, so a reorder is reported as a
 * reorder, not as a removal plus an addition; other lists are compared by
 * index.
 */

export type FieldChangeType = "added" | "removed" | "changed" | "reordered";

export interface FieldChange {
  path: string;
  type: FieldChangeType;
  before?: unknown;
  after?: unknown;
}

type Plain = Record<string, unknown>;

function isPlain(value: unknown): value is Plain {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const SIMPLE_KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;

function keySegment(base: string, key: string): string {
  if (SIMPLE_KEY.test(key)) return base ? `${base}.${key}` : key;
  return `${base}[${JSON.stringify(key)}]`;
}

/** The names of a list whose entries are all objects with distinct string names. */
function namesOf(list: readonly unknown[]): string[] | undefined {
  if (list.length === 0) return undefined;
  const names: string[] = [];
  for (const item of list) {
    if (!isPlain(item) || typeof item.name !== "string") return undefined;
    names.push(item.name);
  }
  return new Set(names).size === names.length ? names : undefined;
}

function equal(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((x, i) => equal(x, b[i]));
  }
  if (isPlain(a) && isPlain(b)) {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k) => k in b && equal(a[k], b[k]));
  }
  return false;
}

/** Every change from `before` to `after`, in document order. */
export function fieldChanges(before: unknown, after: unknown, base = ""): FieldChange[] {
  if (equal(before, after)) return [];
  if (isPlain(before) && isPlain(after)) {
    const out: FieldChange[] = [];
    for (const key of [...new Set([...Object.keys(before), ...Object.keys(after)])]) {
      const at = keySegment(base, key);
      if (!(key in after)) out.push({ path: at, type: "removed", before: before[key] });
      else if (!(key in before)) out.push({ path: at, type: "added", after: after[key] });
      else out.push(...fieldChanges(before[key], after[key], at));
    }
    return out;
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    const bn = namesOf(before);
    const an = namesOf(after);
    if (bn && an) {
      const out: FieldChange[] = [];
      const byName = (list: readonly unknown[]) =>
        new Map(list.map((item) => [(item as Plain).name as string, item]));
      const bm = byName(before);
      const am = byName(after);
      for (const name of [...new Set([...bn, ...an])]) {
        const at = `${base}[name=${name}]`;
        if (!am.has(name)) out.push({ path: at, type: "removed", before: bm.get(name) });
        else if (!bm.has(name)) out.push({ path: at, type: "added", after: am.get(name) });
        else out.push(...fieldChanges(bm.get(name), am.get(name), at));
      }
      const common = (names: string[], other: Map<string, unknown>) =>
        names.filter((n) => other.has(n));
      const bo = common(bn, am);
      const ao = common(an, bm);
      if (bo.some((n, i) => n !== ao[i])) {
        out.push({ path: base, type: "reordered", before: bo, after: ao });
      }
      return out;
    }
    const out: FieldChange[] = [];
    const n = Math.max(before.length, after.length);
    for (let i = 0; i < n; i++) {
      const at = `${base}[${i}]`;
      if (i >= after.length) out.push({ path: at, type: "removed", before: before[i] });
      else if (i >= before.length) out.push({ path: at, type: "added", after: after[i] });
      else out.push(...fieldChanges(before[i], after[i], at));
    }
    return out;
  }
  return [{ path: base, type: "changed", before, after }];
}

const MAX_VALUE = 80;

/** A value shown inline: scalars as they read in YAML, structures as compact JSON. */
export function showValue(value: unknown): string {
  let text: string;
  if (typeof value === "string") {
    text =
      value === "" || /^\s|\s$|: | #|\n|^["'{}[\]&*!|>%@`]/.test(value)
        ? JSON.stringify(value)
        : value;
  } else if (value === undefined) {
    text = "(none)";
  } else {
    text = JSON.stringify(value) ?? typeof value;
  }
  return text.length > MAX_VALUE ? `${text.slice(0, MAX_VALUE - 1)}…` : text;
}

/** One line per change: `path: before → after`, `path: + value`, `path: - value`. */
export function formatFieldChange(change: FieldChange): string {
  const at = change.path || "(object)";
  switch (change.type) {
    case "added":
      return `${at}: + ${showValue(change.after)}`;
    case "removed":
      return `${at}: - ${showValue(change.before)}`;
    case "reordered":
      return `${at}: reordered ${showValue(change.before)} → ${showValue(change.after)}`;
    default:
      return `${at}: ${showValue(change.before)} → ${showValue(change.after)}`;
  }
}
