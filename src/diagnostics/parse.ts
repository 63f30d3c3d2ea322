/**
 * Reading one YAML file for diagnostics: its documents with their lines, up to
 * the first error. Unlike the pipeline's reader, documents that are not
 * mappings are kept (the document check reports them, in flux-local's words).
 */
import { LineCounter, parseAllDocuments } from "yaml";
import { limits } from "../util/limits.js";
import type { ParsedFile, YamlDocument } from "./model.js";
import { duplicateKeyOf, refusedFluxObject } from "../discovery/yaml.js";
import { firstUnprintable, unprintableMessage } from "./python-text.js";

export function parseYamlFile(
  file: string,
  text: string,
  invalidLines: readonly number[] = [],
): ParsedFile {
  const unprintable = firstUnprintable(text);
  if (unprintable) {
    const before = [...text].slice(0, unprintable.position).join("");
    const line = before.split("\n").length;
    return {
      file,
      documents: [],
      error: { line, message: `failed to parse as yaml: ${unprintableMessage(unprintable)}` },
    };
  }
  const lineCounter = new LineCounter();
  const documents: YamlDocument[] = [];
  const docs = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: false });
  let index = 0;
  for (const doc of docs) {
    const first = doc.errors[0];
    if (first) {
      const pos = lineCounter.linePos(first.pos[0]);
      const text = /call stack/i.test(first.message)
        ? "YAML nested too deeply to read"
        : (first.message.split("\n")[0] ?? first.message);
      return {
        file,
        documents,
        error: {
          line: pos.line,
          message: `failed to parse as yaml: ${text} (line ${pos.line}, column ${pos.col})`,
        },
      };
    }
    const start = doc.contents?.range[0] ?? doc.range[0];
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: limits.maxAliasCount });
    } catch (err) {
      const line = lineCounter.linePos(start).line;
      return {
        file,
        documents,
        error: { line, message: `failed to parse as yaml: ${(err as Error).message}` },
      };
    }
    if (value === null || value === undefined) continue; // empty document
    const line = lineCounter.linePos(start).line;
    const duplicateKey = duplicateKeyOf(doc, lineCounter);
    const endLine = lineCounter.linePos(doc.range[1]).line;
    const refused = refusedFluxObject({ value, line, endLine, duplicateKey }, invalidLines);
    documents.push({
      value,
      line,
      ...(refused ? { refused } : {}),
      index: index++,
      lineOf: (fieldPath) => {
        const node: unknown = doc.getIn(fieldPath, true);
        const range = (node as { range?: [number, number, number] } | undefined)?.range;
        return range ? lineCounter.linePos(range[0]).line : undefined;
      },
    });
  }
  return { file, documents };
}
