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
  /** Every requirement must hold for the object's labels. */
  labels: LabelRequirement[];
}

/**
 * One requirement of a label selector, as kubectl reads `-l`: `key=value`
 * (or `==`), `key!=value`, `key in (a,b)`, `key notin (a,b)`, `key` (the
 * label is set), `!key` (it is not).
 */
export interface LabelRequirement {
  key: string;
  op: "=" | "!=" | "in" | "notin" | "exists" | "!exists";
  values: string[];
}

export const DEFAULT_NAMESPACE = "flux-system";

const NAME = "[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?";
const KEY_RE = new RegExp(`^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?/)?${NAME}$`);
const VALUE_RE = new RegExp(`^(${NAME})?$`);

/** Split on the commas that are not inside parentheses. */
function splitRequirements(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = "";
  for (const ch of text) {
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    if (ch === "," && depth === 0) {
      parts.push(current);
      current = "";
    } else current += ch;
  }
  parts.push(current);
  return parts;
}

function checkKey(key: string, part: string): string {
  if (!KEY_RE.test(key)) {
    throw new Error(`label selector "${part}": "${key}" is not a valid label key`);
  }
  return key;
}

function checkValue(value: string, part: string): string {
  if (!VALUE_RE.test(value)) {
    throw new Error(`label selector "${part}": "${value}" is not a valid label value`);
  }
  return value;
}

function parseRequirement(raw: string): LabelRequirement {
  const part = raw.trim();
  const set = /^(\S+)\s+(in|notin)\s*\((.*)\)$/.exec(part);
  if (set) {
    const values = (set[3] ?? "").split(",").map((v) => checkValue(v.trim(), part));
    return { key: checkKey(set[1] ?? "", part), op: set[2] as "in" | "notin", values };
  }
  const cmp = /^([^=!<>\s]+)\s*(==|=|!=)\s*(.*)$/.exec(part);
  if (cmp) {
    const op = cmp[2] === "!=" ? "!=" : "=";
    return { key: checkKey(cmp[1] ?? "", part), op, values: [checkValue(cmp[3] ?? "", part)] };
  }
  if (part.startsWith("!"))
    return { key: checkKey(part.slice(1).trim(), part), op: "!exists", values: [] };
  if (/[<>]/.test(part)) {
    throw new Error(`label selector "${part}": the < and > operators are not supported`);
  }
  if (/\s/.test(part) || /[=!()]/.test(part)) {
    throw new Error(
      `label selector "${part}": expected key=value, key!=value, key in (a,b), key notin (a,b), key or !key`,
    );
  }
  return { key: checkKey(part, part), op: "exists", values: [] };
}

/** `-l` values (repeatable, comma separated) as requirements; an error names the bad one. */
export function parseLabelSelector(values: readonly string[]): LabelRequirement[] {
  const out: LabelRequirement[] = [];
  for (const value of values) {
    for (const part of splitRequirements(value)) {
      if (!part.trim()) continue;
      out.push(parseRequirement(part));
    }
  }
  return out;
}

/** Whether labels satisfy one requirement (kubectl's meaning: `!=` and `notin` hold when the key is unset). */
export function labelMatches(labels: Record<string, string>, req: LabelRequirement): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, req.key);
  const value = has ? String(labels[req.key]) : undefined;
  switch (req.op) {
    case "=":
      return has && value === req.values[0];
    case "!=":
      return !has || value !== req.values[0];
    case "in":
      return has && req.values.includes(value ?? "");
    case "notin":
      return !has || !req.values.includes(value ?? "");
    case "exists":
      return has;
    case "!exists":
      return !has;
  }
}

export function matches(entry: StoreEntry, selection: Selection): boolean {
  if (!selection.allNamespaces && entry.ref.namespace !== selection.namespace) return false;
  if (selection.name && entry.ref.name !== selection.name) return false;
  const labels = entry.object.metadata?.labels ?? {};
  return selection.labels.every((req) => labelMatches(labels, req));
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
