/**
 * The line an object was defined on, for objects a build produced from files
 * that the scan of `--path` did not read (a HelmRelease in `apps/` when
 * `--path` is `clusters/prod`): kustomize says which file, not where in it.
 */
import { readFile, stat } from "node:fs/promises";
import type { KubeObject } from "../flux/objects.js";
import { limits } from "../util/limits.js";
import { parseYamlDocuments, type ParsedDocument } from "./yaml.js";

/** Reads each file once per run. */
export class LineFinder {
  private readonly files = new Map<string, Promise<ParsedDocument[]>>();

  private documents(file: string): Promise<ParsedDocument[]> {
    let docs = this.files.get(file);
    if (!docs) {
      docs = (async () => {
        try {
          if ((await stat(file)).size > limits.maxFileBytes) return [];
          return parseYamlDocuments(await readFile(file, "utf8")).documents;
        } catch {
          return []; // unreadable: the object keeps its file without a line
        }
      })();
      this.files.set(file, docs);
    }
    return docs;
  }

  /**
   * The first line of the document in `file` that defines `object`: the one
   * with its kind and name; else (a build renamed it) the only one of its
   * kind; else the file's only document. Undefined when it cannot be told.
   */
  async lineOf(file: string, object: KubeObject): Promise<number | undefined> {
    const docs = await this.documents(file);
    const sameKind = docs.filter((d) => d.object.kind === object.kind);
    const named = sameKind.filter((d) => d.object.metadata?.name === object.metadata?.name);
    if (named.length >= 1) return named[0]?.line;
    if (sameKind.length === 1) return sameKind[0]?.line;
    if (docs.length === 1) return docs[0]?.line;
    return undefined;
  }
}
