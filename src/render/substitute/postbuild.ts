/**
 * Post-build variable substitution, per object, as kustomize-controller does it:
 * on the serialized YAML of each object, parsed again afterwards. Pure apart from
 * the variables it is given.
 */
import { parse, parseDocument } from "yaml";
import { isAmbiguousPlainString, toYaml } from "../../util/yaml.js";
import type { KubeObject } from "../../flux/objects.js";
import { refDisplay } from "../../flux/objects.js";
import { RenderError } from "../../util/errors.js";
import { envsubst, isValidVariableName, SubstitutionError } from "./envsubst.js";

export const SUBSTITUTE_KEY = "kustomize.toolkit.fluxcd.io/substitute";

export function substitutionDisabled(obj: KubeObject): boolean {
  const md = obj.metadata ?? {};
  return (
    md.labels?.[SUBSTITUTE_KEY] === "disabled" || md.annotations?.[SUBSTITUTE_KEY] === "disabled"
  );
}

/** Values lose their newlines, as in Flux. */
export function normalizeValue(value: string): string {
  return value.replace(/\r?\n/g, "");
}

export function checkVariableNames(vars: ReadonlyMap<string, string>): void {
  for (const name of vars.keys()) {
    if (!isValidVariableName(name)) {
      throw new RenderError(
        `'${name}' var name is invalid, must match '^[_[:alpha:]][_[:alpha:][:digit:]]*$'`,
      );
    }
  }
}

export interface SubstituteOptions {
  strict: boolean;
}

/** Substitute variables in every object that does not opt out. */
export function substituteObjects(
  objects: readonly KubeObject[],
  vars: ReadonlyMap<string, string>,
  options: SubstituteOptions,
): KubeObject[] {
  checkVariableNames(vars);
  return objects.map((obj) =>
    substitutionDisabled(obj) ? obj : substituteObject(obj, vars, options),
  );
}

function describe(obj: KubeObject): string {
  return refDisplay({
    kind: obj.kind ?? "object",
    namespace: obj.metadata?.namespace ?? "",
    name: obj.metadata?.name ?? "",
  });
}

export function substituteObject(
  obj: KubeObject,
  vars: ReadonlyMap<string, string>,
  options: SubstituteOptions,
): KubeObject {
  // Nothing to do without a `$` (Flux also rewrites `$$` to `$`). Only a
  // string (key or value) can hold one, and the JSON form holds every string
  // as the YAML form does: checked there first, without the YAML writer.
  if (!JSON.stringify(obj).includes("$")) return obj;
  return substituteLeaves(obj, vars, options) ?? substituteByRoundTrip(obj, vars, options);
}

/**
 * Substitution exactly as kustomize-controller does it: the object printed as
 * YAML, substituted as text, read back. (Exported for the test that holds the
 * shortcut above to it.)
 */
export function substituteByRoundTrip(
  obj: KubeObject,
  vars: ReadonlyMap<string, string>,
  options: SubstituteOptions,
): KubeObject {
  const text = toYaml(obj);
  if (!text.includes("$")) return obj;
  let output: string;
  try {
    output = envsubst(text, vars, { strict: options.strict });
  } catch (err) {
    if (err instanceof SubstitutionError) {
      throw new RenderError(`variable substitution failed in ${describe(obj)}: ${err.message}`, {
        cause: err,
      });
    }
    throw err;
  }
  let parsed: unknown;
  try {
    parsed = parse(output);
  } catch (err) {
    throw new RenderError(
      `variable substitution in ${describe(obj)} produced invalid YAML (check the values of the variables it uses): ${firstLine(err)}`,
      { cause: err },
    );
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new RenderError(`variable substitution in ${describe(obj)} did not produce an object`);
  }
  return parsed as KubeObject;
}

/**
 * The round trip above without the YAML writer and reader, for the usual
 * object: every `$` sits in a one-line string value that the writer prints
 * plain (`host: ${APP}.${DOMAIN}`), so the text holds each such string as it
 * is, and text without a `$` around it (substitution cannot reach from one
 * into another). Each string is substituted alone and read back as the reader
 * would read the substituted line — a plain scalar, typed by the YAML 1.2
 * core schema (`replicas: ${N}` becomes a number). Anything else (a `$` in a
 * key or a quoted or block string, a result that would not read back as one
 * plain scalar, any substitution error) returns undefined: the round trip
 * decides, with its own messages.
 */
function substituteLeaves(
  obj: KubeObject,
  vars: ReadonlyMap<string, string>,
  options: SubstituteOptions,
): KubeObject | undefined {
  try {
    return substituteValue(obj, vars, options) as KubeObject;
  } catch (err) {
    if (err instanceof RoundTrip) return undefined;
    throw err;
  }
}

/** Thrown inside substituteLeaves: this object takes the round trip. */
class RoundTrip extends Error {}
const ROUND_TRIP = new RoundTrip("round trip");

function substituteValue(
  value: unknown,
  vars: ReadonlyMap<string, string>,
  options: SubstituteOptions,
): unknown {
  if (typeof value === "string") {
    if (!value.includes("$")) return value;
    if (!printedPlain(value)) throw ROUND_TRIP;
    let out: string;
    try {
      out = envsubst(value, vars, { strict: options.strict });
    } catch {
      throw ROUND_TRIP;
    }
    if (out === value) return value;
    return readPlain(out);
  }
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      const next = substituteValue(item, vars, options);
      if (next !== item) (copy ??= [...(value as unknown[])])[i] = next;
    }
    return copy ?? value;
  }
  if (value !== null && typeof value === "object") {
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record);
    // Copied only from the first change on: most mappings have no `$`.
    let entries: Array<[string, unknown]> | undefined;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      const item = record[key];
      const name = key.includes("$") ? substituteKey(key, vars, options) : key;
      const next = substituteValue(item, vars, options);
      if (!entries && (name !== key || next !== item))
        entries = keys.slice(0, i).map((k): [string, unknown] => [k, record[k]]);
      entries?.push([name, next]);
    }
    if (!entries) return value;
    // Rebuilt in the printed order, as the reader builds it; keys made equal
    // by substitution are the reader's error to report.
    const names = new Set(entries.map(([name]) => name));
    if (names.size !== entries.length || names.has("__proto__")) throw ROUND_TRIP;
    return Object.fromEntries(entries);
  }
  return value;
}

/** A mapping key holding a `$`: substituted alone when it is printed and read back plain. */
function substituteKey(
  key: string,
  vars: ReadonlyMap<string, string>,
  options: SubstituteOptions,
): string {
  // Long implicit keys are refused by YAML readers; and the reader's own
  // typing of a key (`3: x` is the number 3, named "3") is the round trip's.
  if (key.length > MAX_KEY || !printedPlain(key)) throw ROUND_TRIP;
  let out: string;
  try {
    out = envsubst(key, vars, { strict: options.strict });
  } catch {
    throw ROUND_TRIP;
  }
  if (out === key) return key;
  if (out === "" || out.length > MAX_KEY || NOT_PLAIN.test(out)) throw ROUND_TRIP;
  if (CORE_NOT_STRING.some((re) => re.test(out))) throw ROUND_TRIP;
  return out;
}

const MAX_KEY = 1000;

/**
 * Characters and places that keep a string from being one plain scalar
 * (the `yaml` library's writer quotes such strings): a leading indicator,
 * `: `, ` #`, a trailing space or colon, control characters, document markers.
 */
const NOT_PLAIN =
  // eslint-disable-next-line no-control-regex -- control characters are what it looks for
  /^[\n\t ,[\]{}#&*!|>'"%@`]|^[?-]$|^[?-][ \t]|[\n:][ \t]|[ \t]\n|[\n\t ]#|[\n\t :]$|^(?:---|\.\.\.)|[\n\r\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff]|[\u{D800}-\u{DFFF}]/u;

/** True when toYaml prints the one-line string `value` plain (as it is). */
function printedPlain(value: string): boolean {
  return value !== "" && !NOT_PLAIN.test(value) && !isAmbiguousPlainString(value);
}

/** Plain-scalar patterns of the YAML 1.2 core schema that read as something other than a string. */
const CORE_NOT_STRING: readonly RegExp[] = parseDocument("").schema.tags.flatMap((tag) => {
  const { test } = tag as { test?: RegExp };
  return test && tag.tag !== "tag:yaml.org,2002:str" ? [test] : [];
});

/** What the YAML reader makes of `text` printed plain as a value (`key: text`). */
function readPlain(text: string): unknown {
  if (text === "") return null; // `key: ` reads as null
  if (NOT_PLAIN.test(text)) throw ROUND_TRIP;
  // A string unless a core pattern matches; then the reader's own answer.
  return CORE_NOT_STRING.some((re) => re.test(text)) ? parse(text) : text;
}

function firstLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split("\n")[0] ?? message;
}

/**
 * Variables that objects use as `${NAME}` (no default) and `vars` does not
 * set: what is left unset when a source of variables is missing. Sorted.
 */
export function unsetVariables(
  objects: readonly KubeObject[],
  vars: ReadonlyMap<string, string>,
): string[] {
  const unset = new Set<string>();
  for (const obj of objects) {
    if (substitutionDisabled(obj)) continue;
    const text = toYaml(obj);
    if (!text.includes("${")) continue;
    for (const match of text.matchAll(/(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)) {
      const name = match[1]!;
      if (!vars.has(name)) unset.add(name);
    }
  }
  return [...unset].sort();
}
