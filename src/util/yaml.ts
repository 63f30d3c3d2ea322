/**
 * The one YAML writer for everything we print or write: a string is quoted
 * whenever a YAML 1.1 reader (PyYAML, the Go YAML library kubectl and Flux
 * use) or a YAML 1.2 reader would read its plain form as anything else.
 * `"No"`, `"off"`, `"y"`, `"12:30"`, `"1_000"`, `"2001-12-14"` stay strings
 * for every reader, as kustomize prints them.
 */
import { Document, isScalar, visit, type ToStringOptions } from "yaml";

/** The plain-scalar patterns of a schema that resolve to something other than a string. */
function nonStringPatterns(version: "1.1" | "1.2"): RegExp[] {
  const schema = new Document(null, { version }).schema;
  const out: RegExp[] = [];
  for (const tag of schema.tags) {
    const { test } = tag as { test?: RegExp };
    if (test && tag.tag !== "tag:yaml.org,2002:str") out.push(test);
  }
  return out;
}

const AMBIGUOUS: readonly RegExp[] = [...nonStringPatterns("1.1"), ...nonStringPatterns("1.2")];

/**
 * NEL, LS and PS: line breaks to a YAML 1.1 reader (folded into a space, or
 * ending a plain scalar), ordinary characters to YAML 1.2 and to the YAML
 * library, which writes them as they are. A string holding one is written
 * double-quoted with the character escaped (`\N`, `\L`, `\P`: the same
 * escapes in both versions).
 */
const YAML11_BREAKS = /[\u0085\u2028\u2029]/;
const YAML11_BREAK_ESCAPES: Record<string, string> = {
  "\u0085": "\\N",
  "\u2028": "\\L",
  "\u2029": "\\P",
};

/** True if the plain (unquoted) form of `value` reads as a non-string in YAML 1.1 or 1.2. */
export function isAmbiguousPlainString(value: string): boolean {
  return AMBIGUOUS.some((re) => re.test(value));
}

/** Lists at the indentation of their key, as kustomize, flux and flux-local print them. */
const LAYOUT: ToStringOptions = { lineWidth: 0, indentSeq: false };

export interface YamlLayout {
  /** Keys in sorted order (default: as in the value). */
  sortMapEntries?: boolean;
  /** Lists indented under their key (default false: at the key's indentation). */
  indentSeq?: boolean;
  /** How multi-line strings are written (default: as the library chooses). */
  blockQuote?: ToStringOptions["blockQuote"];
}

/** One YAML document (no `---`), meaning the same to YAML 1.1 and 1.2 readers. */
export function toYaml(value: unknown, layout: YamlLayout = {}): string {
  if (
    layout.sortMapEntries === undefined &&
    layout.indentSeq === undefined &&
    layout.blockQuote === undefined
  ) {
    const fast = plainDocument(value);
    if (fast !== undefined) return fast;
  }
  return libraryYaml(value, layout);
}

/** toYaml by the YAML library alone (the reference the direct writer is held to). */
export function libraryYaml(value: unknown, layout: YamlLayout = {}): string {
  const doc = new Document(value, {
    aliasDuplicateObjects: false,
    ...(layout.sortMapEntries ? { sortMapEntries: true } : {}),
  });
  visit(doc, {
    Scalar(_key, node) {
      if (typeof node.value === "string" && mustQuote(node.value)) node.type = "QUOTE_DOUBLE";
    },
    Pair(_key, pair) {
      // Keys too (`on:` is the boolean true to a YAML 1.1 reader).
      if (isScalar(pair.key) && typeof pair.key.value === "string") {
        if (mustQuote(pair.key.value)) pair.key.type = "QUOTE_DOUBLE";
      }
    },
  });
  const text = doc.toString({
    ...LAYOUT,
    ...(layout.indentSeq !== undefined ? { indentSeq: layout.indentSeq } : {}),
    ...(layout.blockQuote !== undefined ? { blockQuote: layout.blockQuote } : {}),
  });
  // Every such character is inside a double-quoted scalar now (strings are the
  // only text we write): escaped there, it means the same to every reader.
  return YAML11_BREAKS.test(text)
    ? text.replace(/[\u0085\u2028\u2029]/g, (c) => YAML11_BREAK_ESCAPES[c]!)
    : text;
}

function mustQuote(value: string): boolean {
  return isAmbiguousPlainString(value) || YAML11_BREAKS.test(value);
}

/** Objects as a multi-document stream, each starting with `---`. */
export function toYamlStream(values: readonly unknown[]): string {
  return values.map((value) => `---\n${toYaml(value)}`).join("");
}

/*
 * The common case written directly: the YAML library builds a node tree for
 * every value, visits it and lays it out, ~0.2 ms an object, on every object
 * a build prints. Most objects hold only mappings, lists, integers, booleans,
 * nulls and one-line strings that need no escaping; those are written here,
 * exactly as the library writes them (with LAYOUT and the quoting above: a
 * test compares the two on every object of testdata and on generated
 * values). Anything else — a multi-line or escaped string, a float, a list
 * directly in a list, a long key — gives undefined, and the library writes
 * the whole document.
 */

/** The library's test for a string it cannot write plain (stringifyString's plainString). */
const NOT_PLAIN =
  /^[\n\t ,[\]{}#&*!|>'"%@`]|^[?-]$|^[?-][ \t]|[\n:][ \t]|[ \t]\n|[\n\t ]#|[\n\t :]$/;
/** Characters the library escapes or folds on, or that start a document marker. */
// eslint-disable-next-line no-control-regex -- control characters are what it looks for
const NEEDS_LIBRARY = /[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff]|^(?:---|\.\.\.)/;
/** Quoted as `"…"` with nothing escaped. */
const QUOTABLE = /^[\x20-\x21\x23-\x5b\x5d-\x7e]*$/;
/** Longer keys are written by the library as explicit (`? `) keys. */
const MAX_FAST_KEY = 1000;

class NotPlain extends Error {}
const NOT_PLAIN_VALUE = new NotPlain();

function scalarText(value: string, key: boolean): string {
  if (key && value.length > MAX_FAST_KEY) throw NOT_PLAIN_VALUE;
  if (NEEDS_LIBRARY.test(value)) throw NOT_PLAIN_VALUE;
  if (isAmbiguousPlainString(value)) {
    if (!QUOTABLE.test(value)) throw NOT_PLAIN_VALUE;
    return `"${value}"`;
  }
  if (NOT_PLAIN.test(value)) throw NOT_PLAIN_VALUE;
  return value;
}

/** A scalar's text, or undefined for a collection. */
function leafText(value: unknown): string | undefined {
  if (value === null) return "null";
  switch (typeof value) {
    case "string":
      return scalarText(value, false);
    case "boolean":
      return value ? "true" : "false";
    case "number":
      if (!Number.isSafeInteger(value) || Object.is(value, -0)) throw NOT_PLAIN_VALUE;
      return String(value);
    case "object":
      if (Array.isArray(value)) return value.length === 0 ? "[]" : undefined;
      if (
        Object.getPrototypeOf(value) !== Object.prototype &&
        Object.getPrototypeOf(value) !== null
      )
        throw NOT_PLAIN_VALUE;
      return Object.keys(value).length === 0 ? "{}" : undefined;
    default:
      throw NOT_PLAIN_VALUE; // undefined, functions, bigints: the library's business
  }
}

/** Control characters but the newline, or anything else the library escapes. */
const NOT_LITERAL =
  // eslint-disable-next-line no-control-regex -- control characters are what it looks for
  /[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff]|^(?:%|---|\.\.\.)/m;

/**
 * A multi-line string as the library writes a mapping's value: a literal
 * block (`|` keeping one final newline, `|-` none) indented under its key.
 * Leading blanks, trailing blank lines and the like are the library's.
 */
function literalBlock(value: string, keyIndent: string): string {
  if (NOT_LITERAL.test(value) || /^[ \n]/.test(value) || isAmbiguousPlainString(value))
    throw NOT_PLAIN_VALUE;
  let body = value;
  let chomp = "-";
  if (body.endsWith("\n")) {
    body = body.slice(0, -1);
    chomp = "";
  }
  if (/[\n ]$/.test(body)) throw NOT_PLAIN_VALUE;
  const indent = `${keyIndent}  `;
  return `|${chomp}\n${indent}${body.replace(/\n+/g, (m) => m + indent)}`;
}

/** A mapping's entries at `indent`; the first line's indentation is `first`. */
function writeMap(
  map: Record<string, unknown>,
  indent: string,
  first: string,
  out: string[],
): void {
  let lead = first;
  for (const [k, v] of Object.entries(map)) {
    if (v === undefined) throw NOT_PLAIN_VALUE;
    const key = scalarText(k, true);
    const leaf = typeof v === "string" && v.includes("\n") ? literalBlock(v, indent) : leafText(v);
    if (leaf !== undefined) out.push(`${lead}${key}: ${leaf}\n`);
    else if (Array.isArray(v)) {
      out.push(`${lead}${key}:\n`);
      writeSeq(v, indent, out);
    } else {
      out.push(`${lead}${key}:\n`);
      writeMap(v as Record<string, unknown>, `${indent}  `, `${indent}  `, out);
    }
    lead = indent;
  }
}

/** A list's items at `indent` (at its key's indentation). */
function writeSeq(seq: readonly unknown[], indent: string, out: string[]): void {
  for (const item of seq) {
    if (item === undefined) throw NOT_PLAIN_VALUE;
    const leaf = leafText(item);
    if (leaf !== undefined) out.push(`${indent}- ${leaf}\n`);
    else if (Array.isArray(item)) throw NOT_PLAIN_VALUE;
    else writeMap(item as Record<string, unknown>, `${indent}  `, `${indent}- `, out);
  }
}

/** `value` as toYaml writes it, when it is a mapping of plain parts; else undefined. */
export function plainDocument(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  try {
    const leaf = leafText(value);
    if (leaf !== undefined) return `${leaf}\n`;
    const out: string[] = [];
    writeMap(value as Record<string, unknown>, "", "", out);
    return out.join("");
  } catch (err) {
    // Nesting deeper than the stack: the library says what it says of it.
    if (err instanceof NotPlain || err instanceof RangeError) return undefined;
    throw err;
  }
}
