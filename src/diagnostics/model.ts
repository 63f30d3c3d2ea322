/**
 * What `flux-local diagnostics` works on and what it finds. The repository is
 * read once into memory (files, their YAML documents with line numbers, or the
 * first error); every check is a pure function from that to findings.
 */
import path from "node:path";
import { referencesOf as kustomizationReferences } from "../discovery/references.js";

export type Severity = "error" | "warning";

export type Check =
  | "yaml" // the file does not parse
  | "document" // a document is not a mapping, or half an object (kind without apiVersion)
  | "schema" // a Flux object that does not validate
  | "duplicate" // one object defined twice in one kustomize build
  | "reference" // a reference to a source or object that does not exist
  | "cycle" // a dependsOn cycle
  | "deprecated" // a deprecated Flux API version
  | "expression"; // a CEL expression (readyExpr, healthCheckExprs) Flux would reject

export interface Finding {
  severity: Severity;
  check: Check;
  /** Absolute path of the file. */
  file: string;
  /** 1-based line; absent for findings that concern the whole file. */
  line?: number;
  message: string;
  /** `Kind/namespace/name` of the object concerned, when there is one. */
  object?: string;
  /**
   * Printed as the Python flux-local printed it (no line in the location),
   * so scripts that match its lines keep working.
   */
  legacy?: boolean;
}

export interface YamlDocument {
  /** The parsed value (a mapping for Kubernetes objects). */
  value: unknown;
  /** 1-based line the document's content starts on. */
  line: number;
  /** Position of the document in its file. */
  index: number;
  /** 1-based line of a field of the document (path of keys and indexes), when found. */
  lineOf?: (path: ReadonlyArray<string | number>) => number | undefined;
  /** Why Flux would refuse this object as written (duplicate keys, bytes that are not UTF-8). */
  refused?: { line: number; message: string };
}

export interface ParsedFile {
  /** Absolute path. */
  file: string;
  /** The documents before the first error. */
  documents: YamlDocument[];
  /** The first error; Python-compatible text (see yaml-text.ts). */
  error?: { line: number; message: string };
}

/** A document that looks like a Kubernetes object: a mapping with kind and apiVersion. */
export interface ObjectDoc {
  file: string;
  line: number;
  index: number;
  apiVersion: string;
  kind: string;
  name: string;
  /** `metadata.namespace` as written (undefined when not set). */
  namespace: string | undefined;
  value: Record<string, unknown>;
  /** 1-based line of a field (see YamlDocument.lineOf). */
  lineOf?: (path: ReadonlyArray<string | number>) => number | undefined;
  /** See YamlDocument.refused. */
  refused?: { line: number; message: string };
}

export interface Repository {
  /** Root of the checkout (git root of --path, else --path); local sources resolve here. */
  root: string;
  /** Every file read, by absolute path. */
  files: ReadonlyMap<string, ParsedFile>;
}

export function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const KUSTOMIZATION_FILES = new Set(["kustomization.yaml", "kustomization.yml", "Kustomization"]);

export function isKustomizationFile(file: string): boolean {
  return KUSTOMIZATION_FILES.has(path.basename(file));
}

/**
 * Files that a kustomization uses as patches: their documents are partial
 * objects, not definitions (as in the render).
 */
export function patchFilesOf(repo: Repository): Set<string> {
  const files = new Set<string>();
  for (const parsed of repo.files.values()) {
    if (!isKustomizationFile(parsed.file)) continue;
    for (const doc of parsed.documents) {
      if (!isMapping(doc.value)) continue;
      for (const ref of kustomizationReferences(doc.value)) {
        if (ref.field.startsWith("patches")) {
          files.add(path.resolve(path.dirname(parsed.file), ref.value));
        }
      }
    }
  }
  return files;
}

/**
 * The objects (mappings with a string kind and apiVersion) of the repository,
 * in file order; patches are not objects.
 */
export function objectsOf(repo: Repository): ObjectDoc[] {
  const out: ObjectDoc[] = [];
  const patches = patchFilesOf(repo);
  for (const parsed of repo.files.values()) {
    if (patches.has(parsed.file)) continue;
    for (const doc of parsed.documents) {
      const v = doc.value;
      if (!isMapping(v) || typeof v.kind !== "string" || typeof v.apiVersion !== "string") continue;
      const md = isMapping(v.metadata) ? v.metadata : {};
      out.push({
        file: parsed.file,
        line: doc.line,
        index: doc.index,
        apiVersion: v.apiVersion,
        kind: v.kind,
        name: typeof md.name === "string" ? md.name : "",
        namespace: typeof md.namespace === "string" && md.namespace ? md.namespace : undefined,
        value: v,
        ...(doc.lineOf ? { lineOf: doc.lineOf } : {}),
        ...(doc.refused ? { refused: doc.refused } : {}),
      });
    }
  }
  return out;
}

/** `Kind namespace/name` (or `Kind name`) for messages. */
export function describe(obj: Pick<ObjectDoc, "kind" | "name" | "namespace">): string {
  return obj.namespace ? `${obj.kind} ${obj.namespace}/${obj.name}` : `${obj.kind} ${obj.name}`;
}

export function compareFindings(a: Finding, b: Finding): number {
  if (a.file !== b.file) return a.file < b.file ? -1 : 1;
  return (
    (a.line ?? 0) - (b.line ?? 0) || (a.message < b.message ? -1 : a.message > b.message ? 1 : 0)
  );
}
