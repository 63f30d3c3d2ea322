/**
 * YAML reading that never drops a document silently: every document either
 * becomes an object (with the line it starts on) or a precise error.
 */
import { isPair, isScalar, LineCounter, parseAllDocuments, visit } from "yaml";
import { isUtf8 } from "node:buffer";
import { toYaml, toYamlStream } from "../util/yaml.js";
import { isFluxApiVersion, type KubeObject } from "../flux/objects.js";
import { limits, RAISE } from "../util/limits.js";

export interface ParsedDocument {
  object: KubeObject;
  /** 1-based line of the document's first content line. */
  line: number;
  /** 1-based line of the document's last line. */
  endLine: number;
  /** The first key defined twice in one mapping (the parser keeps the last). */
  duplicateKey?: DuplicateKey;
}

export interface DuplicateKey {
  /** Dotted path of the key (`spec.path`). */
  path: string;
  /** 1-based lines of the first and the repeated definition. */
  firstLine: number;
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
    const duplicateKey = duplicateKeyOf(doc, lineCounter);
    documents.push({
      object: value as KubeObject,
      line,
      endLine: lineCounter.linePos(doc.range[1]).line,
      ...(duplicateKey ? { duplicateKey } : {}),
    });
  }
  return { documents, errors };
}

/**
 * The first key defined twice in one mapping of `doc`. Kubernetes and Flux
 * read YAML with duplicate keys refused; we parse leniently (other tools'
 * files are not ours to judge) and let the caller refuse Flux objects.
 */
export function duplicateKeyOf(
  doc: Parameters<typeof visit>[0],
  lineCounter: LineCounter,
): DuplicateKey | undefined {
  let found: DuplicateKey | undefined;
  visit(doc, {
    Map(_key, map, ancestors) {
      const seen = new Map<string, number>();
      for (const pair of map.items) {
        if (!isScalar(pair.key) || pair.key.value === "<<") continue;
        const name = String(pair.key.value);
        const at = lineCounter.linePos(pair.key.range?.[0] ?? 0).line;
        const first = seen.get(name);
        if (first === undefined) {
          seen.set(name, at);
          continue;
        }
        const parents = ancestors.flatMap((a) =>
          isPair(a) && isScalar(a.key) ? [String(a.key.value)] : [],
        );
        found = { path: [...parents, name].join("."), firstLine: first, line: at };
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return found;
}

/**
 * A manifest file's text, and the lines holding bytes that are not UTF-8
 * (decoded as U+FFFD). Kubernetes and Flux refuse such objects; the caller
 * decides which documents that concerns.
 */
export function decodeManifest(bytes: Buffer): { text: string; invalidLines: number[] } {
  const text = bytes.toString("utf8");
  if (isUtf8(bytes)) return { text, invalidLines: [] };
  const invalidLines = new Set<number>();
  let line = 1;
  for (const ch of text) {
    if (ch === "\n") line++;
    else if (ch === "\uFFFD") invalidLines.add(line);
  }
  return { text, invalidLines: [...invalidLines] };
}

/**
 * Flux objects the API server would refuse to store: a key defined twice in
 * one mapping, or bytes that are not UTF-8. Refused here with the line,
 * instead of rendering the last value or U+FFFD.
 */
export function refusedFluxObject(
  doc: { value: unknown; line: number; endLine: number; duplicateKey?: DuplicateKey | undefined },
  invalidLines: readonly number[],
): { line: number; message: string } | undefined {
  const object = (doc.value ?? {}) as KubeObject;
  if (typeof object !== "object" || !isFluxApiVersion(object.apiVersion)) return undefined;
  const what = `${object.kind ?? "object"}${object.metadata?.name ? ` ${object.metadata.name}` : ""}`;
  if (doc.duplicateKey) {
    const { path: key, firstLine, line } = doc.duplicateKey;
    return {
      line,
      message: `${what}: key ${key} is defined twice (lines ${firstLine} and ${line}); Flux refuses objects with duplicate keys`,
    };
  }
  const bad = invalidLines.find((l) => l >= doc.line && l <= doc.endLine);
  if (bad !== undefined) {
    return {
      line: bad,
      message: `${what}: line ${bad} is not valid UTF-8; Flux refuses objects that are not UTF-8`,
    };
  }
  return undefined;
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
