/**
 * The files a kustomization document references, field by field (resources,
 * components, patches, generators, ...): what the safety check follows, what
 * discovery skips as patches, and what diagnostics resolve.
 */
const REMOTE = /^(?:[a-z][a-z0-9+.-]*:\/\/|git@|github\.com\/|gitlab\.com\/|bitbucket\.org\/)/i;

export function isRemoteReference(ref: string): boolean {
  return REMOTE.test(ref);
}

export interface Reference {
  field: string;
  value: string;
  /** Directory references are descended into (resources, bases, components). */
  mayBeDir: boolean;
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

/** A string entry that is inline YAML rather than a file path. */
function isInline(value: string): boolean {
  return value.includes("\n") || /^\s*[{[]/.test(value) || /:\s/.test(value);
}

function generatorFiles(value: unknown, field: string): Reference[] {
  if (!Array.isArray(value)) return [];
  const out: Reference[] = [];
  for (const gen of value as Array<Record<string, unknown>>) {
    if (!gen || typeof gen !== "object") continue;
    for (const f of strings(gen.files)) {
      const eq = f.indexOf("=");
      out.push({ field: `${field}.files`, value: eq >= 0 ? f.slice(eq + 1) : f, mayBeDir: false });
    }
    for (const e of strings(gen.envs))
      out.push({ field: `${field}.envs`, value: e, mayBeDir: false });
    if (typeof gen.env === "string")
      out.push({ field: `${field}.env`, value: gen.env, mayBeDir: false });
  }
  return out;
}

function pathEntries(value: unknown, field: string): Reference[] {
  if (!Array.isArray(value)) return [];
  const out: Reference[] = [];
  for (const entry of value as unknown[]) {
    if (typeof entry === "string") {
      if (!isInline(entry)) out.push({ field, value: entry, mayBeDir: false });
    } else if (
      entry &&
      typeof entry === "object" &&
      typeof (entry as { path?: unknown }).path === "string"
    ) {
      out.push({
        field: `${field}.path`,
        value: (entry as { path: string }).path,
        mayBeDir: false,
      });
    }
  }
  return out;
}

export function referencesOf(doc: Record<string, unknown>): Reference[] {
  const refs: Reference[] = [];
  for (const field of ["resources", "bases", "components"]) {
    for (const value of strings(doc[field])) refs.push({ field, value, mayBeDir: true });
  }
  for (const field of ["crds", "configurations", "generators", "transformers", "validators"]) {
    for (const value of strings(doc[field]))
      if (!isInline(value)) refs.push({ field, value, mayBeDir: true });
  }
  refs.push(...pathEntries(doc.patchesStrategicMerge, "patchesStrategicMerge"));
  refs.push(...pathEntries(doc.patches, "patches"));
  refs.push(...pathEntries(doc.patchesJson6902, "patchesJson6902"));
  refs.push(...pathEntries(doc.replacements, "replacements"));
  refs.push(...generatorFiles(doc.configMapGenerator, "configMapGenerator"));
  refs.push(...generatorFiles(doc.secretGenerator, "secretGenerator"));
  const openapi = doc.openapi as { path?: unknown } | undefined;
  if (openapi && typeof openapi.path === "string")
    refs.push({ field: "openapi.path", value: openapi.path, mayBeDir: false });
  return refs;
}
