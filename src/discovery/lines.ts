/**
 * The line an object was defined on, for objects a build produced from files
 * that the scan of `--path` did not read (a HelmRelease in `apps/` when
 * `--path` is `clusters/prod`): kustomize says which file, not where in it.
 */
import type { KubeObject } from "../flux/objects.js";
import { parseYamlDocuments } from "./yaml.js";

/** Where one document of a file starts, and (when it had to be parsed) what it defines. */
interface DocumentStart {
  line: number;
  kind?: unknown;
  name?: unknown;
}

/** A file's text, or undefined when it cannot (or may not) be read. */
export type TextReader = (file: string) => string | undefined;

/** Finds lines, looking at each file once per run. */
export class LineFinder {
  private readonly files = new Map<string, DocumentStart[]>();

  constructor(private readonly read: TextReader) {}

  private documents(file: string): DocumentStart[] {
    let docs = this.files.get(file);
    if (!docs) {
      const text = this.read(file);
      docs = text === undefined ? [] : documentStarts(text);
      this.files.set(file, docs);
    }
    return docs;
  }

  /**
   * The first line of the document in `file` that defines `object`: the one
   * with its kind and name; else (a build renamed it) the only one of its
   * kind; else the file's only document. Undefined when it cannot be told.
   */
  lineOf(file: string, object: KubeObject): number | undefined {
    const docs = this.documents(file);
    if (docs.length === 1) return docs[0]?.line;
    const sameKind = docs.filter((d) => d.kind === object.kind);
    const named = sameKind.filter((d) => d.name === object.metadata?.name);
    if (named.length >= 1) return named[0]?.line;
    if (sameKind.length === 1) return sameKind[0]?.line;
    return undefined;
  }
}

/** A line that starts or ends a YAML document, or a directive. */
const MARKER = /^(?:---|\.\.\.)(?:[ \t]|$)|^%/;
/** A line with a plain mapping key first: the start of a block mapping's content. */
const KEY_FIRST = /^[A-Za-z0-9_"']/;

/**
 * Where the documents of `text` start. Most files a build reads hold one
 * mapping, perhaps after comments and a `---`: its line is that of its first
 * key, found without the YAML parser (which costs ~2 ms a file, hundreds of
 * files a run). Anything else — several documents, directives, a first line
 * that is not a plain key — is parsed, and the result is the same.
 */
export function documentStarts(text: string): DocumentStart[] {
  const single = singleMappingStart(text);
  if (single !== undefined) return [{ line: single }];
  return parseYamlDocuments(text).documents.map((d) => ({
    line: d.line,
    kind: d.object.kind,
    name: d.object.metadata?.name,
  }));
}

/** The 1-based line of the first key of a file holding one block mapping, else undefined. */
function singleMappingStart(text: string): number | undefined {
  if (text.startsWith("\uFEFF")) return undefined;
  const lines = text.split("\n");
  let first: number | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, "");
    if (MARKER.test(line)) {
      // Only a bare `---` before any content is the single document's own start.
      if (first !== undefined || !/^---[ \t]*$/.test(line)) return undefined;
      continue;
    }
    if (first !== undefined) continue;
    const trimmed = line.trimStart();
    if (trimmed === "" || trimmed.startsWith("#")) continue;
    if (line !== trimmed || !KEY_FIRST.test(line) || !line.includes(":")) return undefined;
    first = i + 1;
  }
  return first;
}
