/**
 * Which file each built object came from, without kustomize's origin
 * annotations. Asking kustomize (`buildMetadata: [originAnnotations]`) makes
 * it track every transformer's effect on every object as well (a YAML parse
 * and marshal per object per transformer: about a tenth of the workers' CPU
 * on a home-ops repository). Most trees say the answer themselves: when
 * nothing in them can change a name or a kind, or drop the origin annotation
 * kustomize would have kept (no name prefix or suffix, no replacements, no
 * plugins, no patch that renames or replaces metadata or annotations, no
 * generator merging into another object), every object comes either from a
 * document of a resource file, with that document's kind and name, or from a
 * ConfigMap or Secret generator (kustomize names no file for those). An
 * object whose kind and name exactly one such document has, and no generator
 * could have made, comes from that document's file, named as kustomize names
 * it (the references joined as written).
 *
 * The answer must be kustomize's, or none: a tree of any other shape, a
 * resource file this cannot read without a parse (identities.ts), or an
 * object with no or several candidates is built with origin annotations, as
 * before.
 */
import path from "node:path";
import type { KubeObject } from "../../flux/objects.js";
import type { FileFacts } from "../file-facts.js";
import { inlineDocuments } from "../../discovery/references.js";
import { documentIdentities } from "./identities.js";
import type { TreeShape } from "./safety.js";

/** Where the documents of the tree's resource files are, by kind and name. */
export interface OriginPlan {
  /** `kind\0name` -> the file of each document with that kind and name (as kustomize names it). */
  documents: Map<string, string[]>;
  /** The names of the tree's ConfigMap and Secret generators, by kind (their objects have no file). */
  generators: Map<string, Set<string>>;
}

/**
 * Fields of a kustomization that neither create objects nor change names or
 * kinds. Anything else (generators, namePrefix, replacements, vars,
 * patchesJson6902, transformers, ...) needs kustomize's own answer.
 */
const KEEPS_IDENTITIES = new Set([
  "apiVersion",
  "kind",
  "metadata",
  "resources",
  "bases",
  "components",
  "namespace",
  "commonLabels",
  "labels",
  "commonAnnotations",
  "images",
  "replicas",
  "sortOptions",
  "crds",
  "openapi",
  "configurations",
  "generatorOptions",
  // Only the checked kustomization's counts (kustomize gives it to every
  // nested one); the caller plans only when it asks for nothing.
  "buildMetadata",
  // Patches keep names and kinds unless they say otherwise (below).
  "patches",
  "patchesStrategicMerge",
  "patchesJson6902",
  // Their objects have no file (told from the names: below).
  "configMapGenerator",
  "secretGenerator",
]);

const GENERATED_KINDS: Readonly<Record<string, string>> = {
  configMapGenerator: "ConfigMap",
  secretGenerator: "Secret",
};

/** A patch option or annotation that lets a strategic merge patch rename or re-kind. */
const CHANGE_ALLOWED = /allow(?:Name|Kind)Change/i;

function key(kind: string, name: string): string {
  return `${kind}\0${name}`;
}

function isEmpty(value: unknown): boolean {
  return (
    value === undefined ||
    value === null ||
    value === "" ||
    (Array.isArray(value) && value.length === 0)
  );
}

/**
 * The plan for telling built objects' files without origin annotations, or
 * why this tree needs them. `wanted`: objects whose file the caller needs.
 */
export function planOrigins(
  shape: TreeShape,
  facts: FileFacts,
  wanted: (object: KubeObject) => boolean,
): OriginPlan | { reason: string } {
  if (shape.irregular.length > 0) return { reason: shape.irregular[0]! };
  const generators = new Map<string, Set<string>>();
  for (const { doc, file, realDir } of shape.kustomizations) {
    for (const [field, value] of Object.entries(doc)) {
      if (isEmpty(value)) continue;
      if (!KEEPS_IDENTITIES.has(field)) return { reason: `${file}: ${field}` };
    }
    // Setting kustomize's own annotations (commonAnnotations, a patch, ...).
    if (JSON.stringify(doc).includes("config.kubernetes.io/"))
      return { reason: `${file}: sets config.kubernetes.io/ annotations` };
    const patch = patchRisk(doc, realDir, facts);
    if (patch) return { reason: `${file}: ${patch}` };
    for (const [field, kind] of Object.entries(GENERATED_KINDS)) {
      const entries = doc[field];
      if (entries === undefined || entries === null) continue;
      if (!Array.isArray(entries)) return { reason: `${file}: ${field} is not a list` };
      for (const entry of entries as unknown[]) {
        const { name, behavior } = (entry ?? {}) as Record<string, unknown>;
        if (typeof name !== "string" || name === "")
          return { reason: `${file}: ${field} without a name` };
        // Merged into or replacing another object: which origin it keeps is kustomize's to say.
        if (behavior !== undefined && behavior !== "create")
          return { reason: `${file}: ${field} ${name} with behavior ${JSON.stringify(behavior)}` };
        const names = generators.get(kind) ?? new Set<string>();
        names.add(name);
        generators.set(kind, names);
      }
    }
  }
  const documents = new Map<string, string[]>();
  for (const { file, real } of shape.resourceFiles) {
    const ids = facts.from("document-identities", real, () =>
      documentIdentities(facts.read(real).toString("utf8")),
    );
    if (ids === undefined) return { reason: `${file} is not read without a parse` };
    for (const { apiVersion, kind, name } of ids) {
      const k = key(kind, name);
      const files = documents.get(k);
      if (!files) {
        documents.set(k, [file]);
        continue;
      }
      files.push(file);
      if (wanted({ apiVersion, kind, metadata: { name } }))
        return { reason: `${kind} ${name} is defined twice` };
    }
  }
  return { documents, generators };
}

/** A patch entry's text: inline (`patch`) or the file it names (`path`), when it can be read. */
function patchText(
  patch: unknown,
  file: unknown,
  realDir: string,
  facts: FileFacts,
): string | undefined {
  if (typeof patch === "string") return patch;
  if (typeof file === "string") return facts.tryRead(path.resolve(realDir, file))?.toString("utf8");
  return undefined;
}

/**
 * Why a patch of `doc` may change what the tree tells, if it may: rename or
 * re-kind an object (a JSON patch, a patch allowed to), or drop the origin
 * annotation kustomize would have kept (a patch replacing or removing
 * metadata or its annotations), so that kustomize would name no file.
 */
function patchRisk(
  doc: Record<string, unknown>,
  realDir: string,
  facts: FileFacts,
): string | undefined {
  const patches = Array.isArray(doc.patches) ? (doc.patches as unknown[]) : [];
  for (const entry of patches) {
    if (entry === null || typeof entry !== "object") return "a patch that is not a mapping";
    const { patch, path: file, options } = entry as Record<string, unknown>;
    if (options !== undefined && options !== null) {
      if (typeof options !== "object" || CHANGE_ALLOWED.test(JSON.stringify(options)))
        return "a patch allowed to change names or kinds";
    }
    const text = patchText(patch, file, realDir, facts);
    if (text === undefined) return "a patch not read";
    const risk = patchTextRisk(text);
    if (risk) return risk;
  }
  const jsonPatches = Array.isArray(doc.patchesJson6902) ? (doc.patchesJson6902 as unknown[]) : [];
  for (const entry of jsonPatches) {
    if (entry === null || typeof entry !== "object") return "a patch that is not a mapping";
    const { patch, path: file } = entry as Record<string, unknown>;
    const text = patchText(patch, file, realDir, facts);
    if (text === undefined) return "a patch not read";
    const risk = jsonPatchRisk(text);
    if (risk) return risk;
  }
  const merges = Array.isArray(doc.patchesStrategicMerge)
    ? (doc.patchesStrategicMerge as unknown[])
    : [];
  for (const entry of merges) {
    if (typeof entry !== "string") return "a patch that is not a string";
    // Inline or a path: whichever kustomize takes it for, neither may be a risk.
    const inFile = facts.tryRead(path.resolve(realDir, entry))?.toString("utf8");
    const risk =
      mergePatchRisk(entry, true) ?? (inFile === undefined ? undefined : mergePatchRisk(inFile));
    if (risk) return risk;
  }
  return undefined;
}

/** Patch texts already looked at (the same patches reach many builds). */
const mergePatchRisks = new Map<string, string | undefined>();

/** mergePatchRisk or jsonPatchRisk of a `patches` entry's text, by what kustomize reads it as. */
function patchTextRisk(text: string): string | undefined {
  const cacheKey = `patch\0${text}`;
  if (mergePatchRisks.has(cacheKey)) return mergePatchRisks.get(cacheKey);
  const risk = isStrategicMerge(text) ? mergePatchRisk(text) : jsonPatchRisk(text);
  if (mergePatchRisks.size > 1000) mergePatchRisks.clear();
  mergePatchRisks.set(cacheKey, risk);
  return risk;
}

/**
 * Why a strategic merge patch may change names or kinds, or drop origin
 * annotations; `maybePath`: the text may be a file name rather than patches.
 */
function mergePatchRisk(text: string, maybePath = false): string | undefined {
  if (mergePatchRisks.has(text)) return mergePatchRisks.get(text);
  const risk = CHANGE_ALLOWED.test(text)
    ? "a patch allowed to change names or kinds"
    : documentsRisk(text, maybePath);
  if (mergePatchRisks.size > 1000) mergePatchRisks.clear();
  mergePatchRisks.set(text, risk);
  return risk;
}

/**
 * Why a JSON 6902 patch may change names or kinds, or drop origin
 * annotations: an operation on (or moving from) the root, `kind`,
 * `apiVersion`, `metadata`, its `name` or `annotations` as a whole, or
 * kustomize's own annotations.
 */
function jsonPatchRisk(text: string): string | undefined {
  const cacheKey = `json\0${text}`;
  if (mergePatchRisks.has(cacheKey)) return mergePatchRisks.get(cacheKey);
  const risk = operationsRisk(text);
  if (mergePatchRisks.size > 1000) mergePatchRisks.clear();
  mergePatchRisks.set(cacheKey, risk);
  return risk;
}

function operationsRisk(text: string): string | undefined {
  const docs = inlineDocuments(text);
  const ops = docs?.length === 1 ? docs[0] : undefined;
  if (!Array.isArray(ops)) return "a JSON patch not read";
  for (const op of ops as unknown[]) {
    if (op === null || typeof op !== "object" || Array.isArray(op)) return "a JSON patch not read";
    const { path: at, from } = op as Record<string, unknown>;
    const risky = (pointer: unknown) => typeof pointer !== "string" || pointerRisky(pointer);
    if (risky(at) || (from !== undefined && risky(from)))
      return "a JSON patch changing names, kinds or annotations";
  }
  return undefined;
}

/** True when a JSON pointer reaches what the tree's answer rests on. */
function pointerRisky(pointer: string): boolean {
  if (!pointer.startsWith("/")) return true;
  const [first, second, third] = pointer
    .slice(1)
    .split("/")
    .map((t) => t.replace(/~1/g, "/").replace(/~0/g, "~"));
  if (first === "kind" || first === "apiVersion") return true;
  if (first !== "metadata") return false;
  if (second === undefined || second === "name") return true;
  if (second !== "annotations") return false;
  return third === undefined || third.includes("config.kubernetes.io/");
}

function documentsRisk(text: string, maybePath: boolean): string | undefined {
  const docs = inlineDocuments(text);
  if (docs === undefined) return maybePath ? undefined : "a patch not read";
  for (const doc of docs) {
    if (doc === null || doc === undefined) continue;
    if (typeof doc !== "object" || Array.isArray(doc)) {
      if (maybePath && typeof doc === "string") continue;
      return "a patch that is not a mapping";
    }
    const { metadata, $patch } = doc as Record<string, unknown>;
    // Deleting the object leaves nothing to name; any other directive, unread.
    if ($patch !== undefined && $patch !== "delete") return "a patch replacing an object";
    if (metadata === undefined) continue;
    if (metadata === null || typeof metadata !== "object" || Array.isArray(metadata))
      return "a patch replacing metadata";
    const meta = metadata as Record<string, unknown>;
    if (Object.keys(meta).some((k) => k.startsWith("$"))) return "a patch replacing metadata";
    const annotations = meta.annotations;
    if (annotations === undefined) continue;
    if (annotations === null || typeof annotations !== "object" || Array.isArray(annotations))
      return "a patch replacing annotations";
    if (
      Object.keys(annotations).some(
        (k) => k.startsWith("$") || k.startsWith("config.kubernetes.io/"),
      )
    )
      return "a patch replacing annotations";
  }
  return undefined;
}

/**
 * True when kustomize reads `text` as strategic merge patches: its first
 * content is a mapping (a JSON 6902 patch is a list).
 */
function isStrategicMerge(text: string): boolean {
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || /^---(?:\s|$)/.test(line)) continue;
    return /^[A-Za-z"'{$]/.test(line);
  }
  return false;
}

/**
 * The file (as kustomize names it) of each built object the caller wants one
 * for, or undefined when any of them has no single candidate document.
 */
export function originFiles(
  objects: readonly KubeObject[],
  plan: OriginPlan,
  wanted: (object: KubeObject) => boolean,
): Array<string | undefined> | undefined {
  const taken = new Set<string>();
  const files: Array<string | undefined> = [];
  for (const object of objects) {
    if (!wanted(object)) {
      files.push(undefined);
      continue;
    }
    const { kind } = object;
    const name = object.metadata?.name;
    if (typeof kind !== "string" || typeof name !== "string") return undefined;
    const k = key(kind, name);
    const candidates = plan.documents.get(k) ?? [];
    const generated = isGenerated(plan, kind, name);
    if (candidates.length === 0 && generated) {
      // Made by kustomize: it names no file.
      files.push(undefined);
      continue;
    }
    if (candidates.length !== 1 || generated || taken.has(k)) return undefined;
    taken.add(k);
    files.push(candidates[0]);
  }
  return files;
}

/**
 * True when a generator of the tree may have made an object of this kind and
 * name: its own name, with or without the content hash kustomize appends
 * (the tree changes no names otherwise).
 */
function isGenerated(plan: OriginPlan, kind: string, name: string): boolean {
  const names = plan.generators.get(kind);
  if (!names) return false;
  if (names.has(name)) return true;
  const hashed = /^(.*)-[a-z0-9]{10}$/.exec(name);
  return hashed !== null && names.has(hashed[1]!);
}
