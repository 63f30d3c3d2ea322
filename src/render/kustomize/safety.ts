/**
 * Flux's safety rails for a kustomize build, checked before kustomize runs:
 * every file a kustomization tree references stays inside the source root
 * (no `..` or symlink escape), no remote bases, no `helmCharts` (Flux does not
 * inflate charts in a Kustomization).
 */
import { readFile, realpath, stat } from "node:fs/promises";
import path from "node:path";
import { parse } from "yaml";
import { InputError } from "../../util/errors.js";
import { findKustomizationFile, isInside } from "./files.js";

const REMOTE = /^(?:[a-z][a-z0-9+.-]*:\/\/|git@|github\.com\/|gitlab\.com\/|bitbucket\.org\/)/i;

export function isRemoteReference(ref: string): boolean {
  return REMOTE.test(ref);
}

interface Reference {
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

/**
 * Check the kustomization tree rooted at `dir` (whose kustomization document is
 * `doc`, possibly already modified) against `root`. Throws InputError naming the
 * file and field at fault.
 */
export async function checkKustomizationTree(
  root: string,
  dir: string,
  doc: Record<string, unknown>,
  docFile: string,
): Promise<void> {
  const realRoot = await realpath(root);
  const seen = new Set<string>();
  await checkDoc(realRoot, dir, doc, docFile, seen, 0);
}

async function checkDoc(
  realRoot: string,
  dir: string,
  doc: Record<string, unknown>,
  docFile: string,
  seen: Set<string>,
  depth: number,
): Promise<void> {
  if (depth > 64)
    throw new InputError(`kustomization nesting deeper than 64 levels at ${docFile}`, {
      file: docFile,
    });
  if (doc.helmCharts !== undefined || doc.helmChartInflationGenerator !== undefined) {
    throw new InputError(
      `${docFile}: helmCharts is not supported: Flux does not inflate Helm charts in a Kustomization; use a HelmRelease`,
      { file: docFile },
    );
  }
  for (const ref of referencesOf(doc)) {
    if (isRemoteReference(ref.value)) {
      throw new InputError(
        `${docFile}: ${ref.field} entry "${ref.value}" is a remote reference; remote bases are not supported (vendor it into the repository)`,
        { file: docFile },
      );
    }
    const target = path.resolve(dir, ref.value);
    let real: string;
    try {
      real = await realpath(target);
    } catch {
      // kustomize reports missing files itself, with its own message.
      continue;
    }
    if (!isInside(realRoot, real)) {
      throw new InputError(
        `${docFile}: ${ref.field} entry "${ref.value}" resolves outside the source root (${real}); paths must stay inside the source`,
        { file: docFile },
      );
    }
    if (!ref.mayBeDir || seen.has(real)) continue;
    const st = await stat(real);
    if (!st.isDirectory()) continue;
    seen.add(real);
    const kfile = await findKustomizationFile(real);
    if (!kfile) continue;
    const realKfile = await realpath(kfile);
    if (!isInside(realRoot, realKfile)) {
      throw new InputError(`${kfile} resolves outside the source root`, { file: kfile });
    }
    const nested: unknown = parse(await readFile(realKfile, "utf8"));
    if (nested && typeof nested === "object") {
      await checkDoc(realRoot, real, nested as Record<string, unknown>, kfile, seen, depth + 1);
    }
  }
}
