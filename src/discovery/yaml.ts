/**
 * YAML reading that never drops a document silently: every document either
 * becomes an object (with the line it starts on) or a precise error.
 */
import { LineCounter, parseAllDocuments } from "yaml";
import { toYaml, toYamlStream } from "../util/yaml.js";
import type { KubeObject } from "../flux/objects.js";
import { limits, RAISE } from "../util/limits.js";

export interface ParsedDocument {
  object: KubeObject;
  /** 1-based line of the document's first content line. */
  line: number;
}

export interface DocumentError {
  message: string;
  line: number;
}

export interface ParseResult {
  documents: ParsedDocument[];
  errors: DocumentError[];
}

/**
 * Parse a multi-document YAML text into objects. Empty documents are skipped;
 * a document that is not a mapping is an error (a Kubernetes manifest is always one).
 */
export function parseYamlDocuments(text: string): ParseResult {
  const lineCounter = new LineCounter();
  const documents: ParsedDocument[] = [];
  const errors: DocumentError[] = [];
  if (text.includes("\u0000")) {
    return { documents, errors: [{ message: "file is not text (contains NUL bytes)", line: 1 }] };
  }
  let docs;
  try {
    docs = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: false });
  } catch (err) {
    return { documents, errors: [{ message: boundMessage(err), line: 1 }] };
  }
  for (const doc of docs) {
    const start = doc.contents?.range[0] ?? doc.range[0];
    const line = lineCounter.linePos(start).line;
    if (doc.errors.length > 0) {
      for (const err of doc.errors) {
        errors.push({
          message: /call stack/i.test(err.message)
            ? "YAML nested too deeply to read"
            : firstLine(err.message),
          line: lineCounter.linePos(err.pos[0]).line,
        });
      }
      continue;
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: limits.maxAliasCount });
    } catch (err) {
      errors.push({ message: boundMessage(err), line });
      continue;
    }
    if (value === null || value === undefined) continue;
    if (typeof value !== "object" || Array.isArray(value)) {
      errors.push({
        message: `document is not a mapping (found ${Array.isArray(value) ? "a list" : typeof value})`,
        line,
      });
      continue;
    }
    documents.push({ object: value as KubeObject, line });
  }
  return { documents, errors };
}

/**
 * The message for a document the parser gave up on: an alias bomb (too many
 * aliases expanded) or nesting too deep for the parser's stack.
 */
export function boundMessage(err: unknown): string {
  if (err instanceof RangeError) return "YAML nested too deeply to read";
  const text = err instanceof Error ? err.message : String(err);
  if (/alias/i.test(text))
    return `YAML expands more than ${limits.maxAliasCount} aliases (an alias bomb?); ${RAISE.maxAliasCount}`;
  return `YAML could not be read: ${firstLine(text)}`;
}

function firstLine(message: string): string {
  const idx = message.indexOf("\n");
  return idx < 0 ? message : message.slice(0, idx);
}

/** Serialize objects as a multi-document stream, each starting with `---`. */
export function dumpYamlStream(objects: readonly unknown[]): string {
  return toYamlStream(objects);
}

/** One document, meaning the same to YAML 1.1 and 1.2 readers (see util/yaml.ts). */
export function dumpYaml(obj: unknown): string {
  return toYaml(obj);
}
