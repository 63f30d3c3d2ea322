/**
 * The files a kustomization document references, field by field (resources,
 * components, patches, generators, ...): what the safety check follows, what
 * discovery skips as patches, and what diagnostics resolve.
 *
 * Inline entries are told from paths exactly as kustomize tells them: an entry
 * of `generators`, `transformers`, `validators` or `patchesStrategicMerge` is
 * inline when it decodes as Kubernetes objects (every document a mapping with a
 * `kind`, and a `metadata.name` unless the kind is a list); anything else is a
 * path, however much it looks like YAML. `crds` and `configurations` entries are
 * always paths.
 */
import { parseAllDocuments } from "yaml";

const REMOTE = /^(?:[a-z][a-z0-9+.-]*:\/\/|git@|github\.com\/|gitlab\.com\/|bitbucket\.org\/)/i;

export function isRemoteReference(ref: string): boolean {
  return REMOTE.test(ref);
}

export interface Reference {
  field: string;
  value: string;
  /** Directory references are descended into (resources, bases, components). */
  mayBeDir: boolean;
  /**
   * kustomize decodes this entry as inline objects rather than opening it as a
   * file (only for fields that accept both).
   */
  inline?: boolean;
  /** Entries of generators/transformers/validators: their objects are plugin configs. */
  pluginConfig?: boolean;
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** The YAML documents of an inline entry, or undefined when it does not parse. */
export function inlineDocuments(text: string): unknown[] | undefined {
  try {
    const docs = parseAllDocuments(text, { prettyErrors: false });
    const out: unknown[] = [];
    for (const doc of docs) {
      if (doc.errors.length > 0) return undefined;
      out.push(doc.toJS({ maxAliasCount: 100 }));
    }
    return out;
  } catch {
    return undefined;
  }
}

function validObject(value: unknown): boolean {
  if (value === null || value === undefined) return true; // empty documents are dropped
  if (!isMapping(value)) return false;
  const kind = value.kind;
  if (typeof kind !== "string" || kind === "") return false;
  if (kind.endsWith("List")) {
    const items = value.items;
    if (items === undefined || items === null) return true;
    return Array.isArray(items) && items.every((item) => item !== null && validObject(item));
  }
  const metadata = value.metadata;
  return isMapping(metadata) && typeof metadata.name === "string" && metadata.name !== "";
}

/** True when kustomize reads this entry as inline objects, not as a path. */
export function isInlineObjects(text: string): boolean {
  const docs = inlineDocuments(text);
  return docs !== undefined && docs.every(validObject);
}

function generatorFiles(value: unknown, field: string): Reference[] {
  if (!Array.isArray(value)) return [];
  const out: Reference[] = [];
  for (const gen of value as unknown[]) {
    if (!isMapping(gen)) continue;
    out.push(...generatorArgsFiles(gen, field));
  }
  return out;
}

/** `files`, `envs` and `env` of a ConfigMap/Secret generator (kustomization or plugin config). */
function generatorArgsFiles(gen: Record<string, unknown>, field: string): Reference[] {
  const out: Reference[] = [];
  for (const f of strings(gen.files)) {
    const eq = f.indexOf("=");
    out.push({ field: `${field}.files`, value: eq >= 0 ? f.slice(eq + 1) : f, mayBeDir: false });
  }
  for (const e of strings(gen.envs))
    out.push({ field: `${field}.envs`, value: e, mayBeDir: false });
  if (typeof gen.env === "string")
    out.push({ field: `${field}.env`, value: gen.env, mayBeDir: false });
  return out;
}

/** Entries that are either a path string (maybe inline, for `inlineOk`) or `{ path }` objects. */
function pathEntries(value: unknown, field: string, inlineOk: boolean): Reference[] {
  if (!Array.isArray(value)) return [];
  const out: Reference[] = [];
  for (const entry of value as unknown[]) {
    if (typeof entry === "string") {
      const inline = inlineOk && isInlineObjects(entry);
      out.push({ field, value: entry, mayBeDir: false, ...(inline ? { inline } : {}) });
    } else if (isMapping(entry) && typeof entry.path === "string") {
      out.push({ field: `${field}.path`, value: entry.path, mayBeDir: false });
    }
  }
  return out;
}

/**
 * Every reference of a kustomization document, inline entries included (marked
 * `inline`). Callers that want files only use `referencesOf`.
 */
export function allReferencesOf(doc: Record<string, unknown>): Reference[] {
  const refs: Reference[] = [];
  for (const field of ["resources", "bases", "components"]) {
    for (const value of strings(doc[field])) refs.push({ field, value, mayBeDir: true });
  }
  for (const field of ["crds", "configurations"]) {
    for (const value of strings(doc[field])) refs.push({ field, value, mayBeDir: false });
  }
  for (const field of ["generators", "transformers", "validators"]) {
    for (const value of strings(doc[field])) {
      const inline = isInlineObjects(value);
      refs.push({
        field,
        value,
        mayBeDir: true,
        pluginConfig: true,
        ...(inline ? { inline } : {}),
      });
    }
  }
  refs.push(...pathEntries(doc.patchesStrategicMerge, "patchesStrategicMerge", true));
  refs.push(...pathEntries(doc.patches, "patches", false));
  refs.push(...pathEntries(doc.patchesJson6902, "patchesJson6902", false));
  refs.push(...pathEntries(doc.replacements, "replacements", false));
  refs.push(...generatorFiles(doc.configMapGenerator, "configMapGenerator"));
  refs.push(...generatorFiles(doc.secretGenerator, "secretGenerator"));
  const openapi = doc.openapi;
  if (isMapping(openapi) && typeof openapi.path === "string")
    refs.push({ field: "openapi.path", value: openapi.path, mayBeDir: false });
  return refs;
}

/** The file references of a kustomization document (inline entries left out). */
export function referencesOf(doc: Record<string, unknown>): Reference[] {
  return allReferencesOf(doc).filter((ref) => !ref.inline);
}

/**
 * The files a builtin generator/transformer/validator config opens (kustomize
 * resolves them against the kustomization that lists the config). Every field
 * any builtin reads a file from is followed, whatever the kind says, so an
 * unusual spelling of a kind cannot slip a file past the check.
 */
export function pluginConfigReferences(config: unknown, where: string): Reference[] {
  if (!isMapping(config)) return [];
  const kind = typeof config.kind === "string" ? config.kind : "config";
  const field = `${where} ${kind}`;
  const refs: Reference[] = [...generatorArgsFiles(config, field)];
  if (typeof config.path === "string")
    refs.push({ field: `${field}.path`, value: config.path, mayBeDir: false });
  refs.push(...pathEntries(config.paths, `${field}.paths`, true));
  refs.push(...pathEntries(config.replacements, `${field}.replacements`, false));
  for (const key of ["valuesFile", "chartHome"]) {
    const v = config[key];
    if (typeof v === "string") refs.push({ field: `${field}.${key}`, value: v, mayBeDir: true });
  }
  for (const v of strings(config.additionalValuesFiles))
    refs.push({ field: `${field}.additionalValuesFiles`, value: v, mayBeDir: false });
  if (kind.endsWith("List") && Array.isArray(config.items)) {
    for (const item of config.items) refs.push(...pluginConfigReferences(item, where));
  }
  return refs.filter((ref) => !ref.inline);
}
