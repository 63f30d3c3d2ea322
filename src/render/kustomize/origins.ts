/**
 * Which file each built object came from, without kustomize's origin
 * annotations. Asking kustomize (`buildMetadata: [originAnnotations]`) makes
 * it track every transformer's effect on every object as well, about a fifth
 * of its work on a typical Flux repository. Most trees say the answer
 * themselves: when nothing in them can create an object or change a name or
 * a kind (no generators, no name prefix or suffix, no replacements, no JSON
 * patches, no plugins, ...), every object comes from a document of a resource
 * file, and keeps that document's kind and name. An object whose kind and
 * name exactly one such document has comes from that document's file.
 *
 * The answer must be kustomize's, or none: a tree of any other shape, a
 * resource file this cannot read without a parse (identities.ts), or an
 * object with no or several candidate documents is built with origin
 * annotations, as before.
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
  // Strategic merge patches keep names and kinds unless told otherwise (below).
  "patches",
  "patchesStrategicMerge",
]);

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
  return { documents };
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
    const text =
      typeof patch === "string"
        ? patch
        : typeof file === "string"
          ? facts.tryRead(path.resolve(realDir, file))?.toString("utf8")
          : undefined;
    if (text === undefined) return "a patch not read";
    if (!isStrategicMerge(text)) return "a JSON patch";
    const risk = mergePatchRisk(text);
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
    const candidates = plan.documents.get(k);
    if (candidates?.length !== 1 || taken.has(k)) return undefined;
    taken.add(k);
    files.push(candidates[0]);
  }
  return files;
}
