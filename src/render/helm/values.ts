/**
 * HelmRelease values, composed as Flux's helm-controller does: each
 * `valuesFrom` entry in order (maps merge deeply, lists and scalars are
 * replaced), then `spec.values` on top, then every `targetPath` entry (helm
 * `--set` semantics), which wins over both. Values documents are read the way
 * Go's YAML library reads them (YAML 1.1: `yes`/`on` are booleans, `0777` is
 * octal, timestamps stay strings). Pure functions.
 */
import { parseDocument } from "yaml";
import { boundMessage } from "../../discovery/yaml.js";
import { limits } from "../../util/limits.js";
import { setPathValue, StrvalsError } from "./strvals.js";

export type Values = Record<string, unknown>;

export class ValuesError extends Error {}

export function isValuesMap(value: unknown): value is Values {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * `b` merged into `a` (neither is modified): where both hold a map the maps
 * merge recursively; anything else in `b` replaces what `a` has.
 */
export function mergeValues(a: Values, b: Values): Values {
  const out: Values = { ...a };
  for (const [key, value] of Object.entries(b)) {
    const existing = out[key];
    out[key] = isValuesMap(value) && isValuesMap(existing) ? mergeValues(existing, value) : value;
  }
  return out;
}

/** Read a values document (a ConfigMap or Secret entry, a values file). Empty is `{}`. */
export function readValues(text: string): Values {
  const doc = parseDocument(text, {
    version: "1.1",
    merge: true,
    uniqueKeys: true,
    prettyErrors: false,
    // Go's YAML library leaves timestamps and sexagesimal numbers as strings.
    customTags: (tags) =>
      tags.filter(
        (tag) =>
          typeof tag === "string" ||
          (tag.tag !== "tag:yaml.org,2002:timestamp" && tag.format !== "TIME"),
      ),
  });
  const error = doc.errors[0];
  if (error) {
    const line = error.linePos?.[0]?.line;
    throw new ValuesError(
      `not valid YAML${line ? ` (line ${line})` : ""}: ${error.message.split("\n")[0]}`,
    );
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: limits.maxAliasCount });
  } catch (err) {
    throw new ValuesError(boundMessage(err));
  }
  if (value === null || value === undefined) return {};
  if (!isValuesMap(value)) {
    throw new ValuesError(
      `values must be a map, found ${Array.isArray(value) ? "a list" : `a ${typeof value}`}`,
    );
  }
  return value;
}

/** One resolved `valuesFrom` entry. */
export type ValuesSource =
  | { kind: "document"; values: Values }
  | { kind: "path"; targetPath: string; value: string; literal?: boolean };

/**
 * The release values from resolved `valuesFrom` entries (in order) and
 * `spec.values`. Throws ValuesError when a targetPath cannot be set.
 */
export function composeValues(sources: readonly ValuesSource[], specValues: Values = {}): Values {
  let result: Values = {};
  for (const source of sources) {
    if (source.kind === "document") result = mergeValues(result, source.values);
  }
  // Work on a private copy: setting paths edits lists and maps in place.
  result = structuredClone(mergeValues(result, specValues));
  for (const source of sources) {
    if (source.kind !== "path") continue;
    try {
      setPathValue(result, source.targetPath, source.value, source.literal);
    } catch (err) {
      if (err instanceof StrvalsError) {
        throw new ValuesError(`targetPath ${source.targetPath}: ${err.message}`);
      }
      throw err;
    }
  }
  return result;
}

/**
 * The values as a document helm reads back with the same types: JSON (a YAML
 * subset, so `"yes"` stays a string and `1e3` a number). Big integers are
 * written in full.
 */
export function serializeValues(values: Values): string {
  return `${toJson(values, "")}\n`;
}

function toJson(value: unknown, path: string): string {
  if (value === null || value === undefined) return "null";
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "number") {
    if (!Number.isFinite(value)) {
      throw new ValuesError(`value at ${path || "(root)"} is ${value}, which helm cannot read`);
    }
    return JSON.stringify(value);
  }
  if (typeof value === "string" || typeof value === "boolean") return JSON.stringify(value);
  if (Array.isArray(value)) {
    return `[${value.map((item, i) => toJson(item, `${path}[${i}]`)).join(",")}]`;
  }
  if (value instanceof Uint8Array) return JSON.stringify(Buffer.from(value).toString("latin1"));
  if (typeof value === "object") {
    const entries = Object.entries(value as Values).map(
      ([k, v]) => `${JSON.stringify(k)}:${toJson(v, path ? `${path}.${k}` : k)}`,
    );
    return `{${entries.join(",")}}`;
  }
  return "null";
}
