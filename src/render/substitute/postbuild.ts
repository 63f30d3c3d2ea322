/**
 * Post-build variable substitution, per object, as kustomize-controller does it:
 * on the serialized YAML of each object, parsed again afterwards. Pure apart from
 * the variables it is given.
 */
import { parse } from "yaml";
import { toYaml } from "../../util/yaml.js";
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
