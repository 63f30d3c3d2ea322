/**
 * What each document of a resource file defines (apiVersion, kind, name),
 * read from the text without the YAML parser, for the usual shape of a
 * manifest: block mappings with plain keys at the left margin, `apiVersion`
 * and `kind` as simple scalars, `metadata` as a block or a one-line flow
 * mapping with a simple `name`. The answer is only given when the text cannot
 * mean anything else; otherwise (anchors, tags, merge keys, quoted or complex
 * keys, multi-line scalars where they matter, directives, a list kind, a
 * missing name, ...) it is undefined and the caller asks kustomize instead.
 * Cheap: no parse, a pass over the lines.
 */
import { isAmbiguousPlainString } from "../../util/yaml.js";

export interface DocIdentity {
  apiVersion: string;
  kind: string;
  name: string;
}

/** A plain key at the start of a line (after its indentation): `key:` then the end or a space. */
const KEY = /^([A-Za-z_][A-Za-z0-9_./-]*):(?:$| +(.*)$)/;
/** A plain scalar in block context we read as the text it is. */
const PLAIN = /^[A-Za-z0-9$_./][A-Za-z0-9$_./{}:=+@~-]*$/;
/** A plain scalar inside a flow mapping (no flow indicators). */
const FLOW_PLAIN = /^[A-Za-z0-9$_./][A-Za-z0-9$_./-]*$/;

/**
 * The identities of the documents of `text`, empty documents left out, or
 * undefined when the text is not of the simple shape this reads exactly.
 */
export function documentIdentities(text: string): DocIdentity[] | undefined {
  if (text.startsWith("\uFEFF")) return undefined;
  let lines = text.split("\n");
  if (text.includes("\r")) lines = lines.map((l) => (l.endsWith("\r") ? l.slice(0, -1) : l));
  const out: DocIdentity[] = [];
  let start = 0;
  for (let i = 0; i <= lines.length; i++) {
    const line = i < lines.length ? lines[i]! : undefined;
    if (line !== undefined && !MARKER_START.has(line.charCodeAt(0))) continue;
    if (line !== undefined && !/^(?:---|\.\.\.|%)/.test(line)) continue;
    if (line !== undefined && !/^--- *$/.test(line)) return undefined; // `...`, directives, `--- x`
    const doc = documentIdentity(lines, start, i);
    if (doc === undefined) return undefined;
    if (doc !== EMPTY) out.push(doc);
    start = i + 1;
  }
  return out;
}

const EMPTY = Symbol("empty document");

/** First characters of `---`, `...` and directives. */
const MARKER_START = new Set([45, 46, 37]);
const SPACE = 32;
const TAB = 9;
const HASH = 35;
/** Where a quoted scalar or flow collection may open. */
const OPENS = /["'[{]/;

/** The identity of the document in lines [from, to), EMPTY, or undefined when unsure. */
function documentIdentity(
  lines: readonly string[],
  from: number,
  to: number,
): DocIdentity | typeof EMPTY | undefined {
  const top = new Map<string, { value: string; line: number }>();
  let last: string | undefined;
  for (let i = from; i < to; i++) {
    const line = lines[i]!;
    if (line === "") continue;
    const first = line.charCodeAt(0);
    if (first === TAB) return undefined;
    if (OPENS.test(line) && runsOn(line)) return undefined;
    if (first === HASH) continue;
    // The document's content starts at the margin (an indented root is not read).
    if (first === SPACE) {
      const trimmed = line.trimStart();
      if (trimmed === "" || trimmed.charCodeAt(0) === HASH) continue;
      // Content under a key; a scalar `apiVersion` or `kind` never continues here.
      if (last === undefined || last === "apiVersion" || last === "kind") return undefined;
      continue;
    }
    const key = KEY.exec(line);
    if (!key) return undefined;
    const name = key[1]!;
    const value = stripComment(key[2] ?? "");
    if (value === undefined || top.has(name)) return undefined;
    // A value that could run on past its line at the margin is not read.
    if (/^["'[{]/.test(value) && !closedOnLine(value)) return undefined;
    // Anchors and aliases elsewhere change nothing read here (merge keys are refused).
    if (/^[!%@`]/.test(value)) return undefined;
    top.set(name, { value, line: i });
    last = name;
  }
  if (top.size === 0) return EMPTY;
  const apiVersion = scalar(top.get("apiVersion")?.value, PLAIN);
  const kind = scalar(top.get("kind")?.value, PLAIN);
  const metadata = top.get("metadata");
  if (apiVersion === undefined || kind === undefined || metadata === undefined) return undefined;
  // A list's items are the objects (kustomize expands them).
  if (kind.endsWith("List")) return undefined;
  const name =
    metadata.value === "" ? blockName(lines, metadata.line + 1, to) : flowName(metadata.value);
  if (name === undefined || name === "") return undefined;
  return { apiVersion, kind, name };
}

/**
 * True when a line (at any depth) opens a quoted scalar or flow collection it
 * does not close: its continuation could sit at the margin and look like a key.
 */
function runsOn(line: string): boolean {
  const trimmed = line.trimStart();
  let value: string | undefined;
  const colon = trimmed.indexOf(": ");
  if (colon >= 0) value = trimmed.slice(colon + 2).trimStart();
  else if (trimmed.startsWith("- ")) value = trimmed.replace(/^(?:- +)+/, "");
  if (value === undefined || !/^["'[{]/.test(value)) return false;
  return flowEnd(value) === undefined;
}

/** `value` without a trailing comment; undefined when a `#` could belong to it. */
function stripComment(value: string): string | undefined {
  const hash = value.indexOf("#");
  if (hash < 0) return value.trimEnd();
  // A quoted scalar may hold `#`: only read when the quote closes before it.
  const head = value.slice(0, hash);
  if (!/ $/.test(head) && hash > 0) return undefined;
  const kept = head.trimEnd();
  if (/["']/.test(kept) && !closedOnLine(kept)) return undefined;
  return kept;
}

/** True when a quoted scalar or flow collection starting `value` ends with it. */
function closedOnLine(value: string): boolean {
  if (value.startsWith('"')) return /^"[^"\\]*"$/.test(value);
  if (value.startsWith("'")) return /^'[^']*'$/.test(value);
  return flowEnd(value) === value.length - 1;
}

/**
 * Where the flow collection or quoted scalar starting `value` ends (the index
 * of its last character), or undefined when it does not end on this line.
 */
function flowEnd(value: string): number | undefined {
  let depth = 0;
  let quote: string | undefined;
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (quote) {
      if (c === "\\" && quote === '"') i++;
      else if (c === quote) {
        if (quote === "'" && value[i + 1] === "'") i++;
        else {
          quote = undefined;
          if (depth === 0) return i;
        }
      }
    } else if (c === '"' || c === "'") quote = c;
    else if (c === "{" || c === "[") depth++;
    else if (c === "}" || c === "]") {
      depth--;
      if (depth <= 0) return i;
    }
  }
  return undefined;
}

/** The text of a simple scalar: plain (never read as a non-string) or quoted without escapes. */
function scalar(anchored: string | undefined, plain: RegExp): string | undefined {
  if (anchored === undefined) return undefined;
  // An anchor names the value (`name: &app echo`, for `*app` elsewhere) without changing it.
  const value = anchored.replace(/^&[A-Za-z0-9_-]+ +(?=\S)/, "");
  const quoted = /^"([^"\\]*)"$/.exec(value) ?? /^'([^']*)'$/.exec(value);
  if (quoted) return quoted[1];
  if (!plain.test(value) || value.endsWith(":") || isAmbiguous(value)) return undefined;
  return value;
}

/** Words a YAML 1.1 or 1.2 reader takes for a boolean or null (any capitalisation, to be safe). */
const WORDS = new Set(["y", "yes", "n", "no", "true", "false", "on", "off", "null"]);

/**
 * isAmbiguousPlainString, answered at once for the usual case: a word starting
 * with a letter is never a number, date or special float (but `e5`, an
 * exponent without digits before it, is one to a YAML 1.1 reader), only maybe
 * one of WORDS.
 */
export function isAmbiguous(value: string): boolean {
  if (/^[A-Za-z][A-Za-z0-9._/-]*$/.test(value) && !/^[eE][-+]?[0-9]/.test(value))
    return WORDS.has(value.toLowerCase());
  return isAmbiguousPlainString(value);
}

/** `metadata.name` of a block mapping in lines [from, to), or undefined when unsure. */
function blockName(lines: readonly string[], from: number, to: number): string | undefined {
  let indent: number | undefined;
  let name: string | undefined;
  let named = false;
  let afterName = false;
  for (let i = from; i < to; i++) {
    const line = lines[i]!;
    if (line.startsWith("\t")) return undefined;
    const trimmed = line.trimStart();
    if (trimmed === "" || trimmed.startsWith("#")) continue;
    const at = line.length - trimmed.length;
    if (at === 0) break; // the next top-level key
    if (/^\t/.test(trimmed)) return undefined;
    indent ??= at;
    if (at < indent) return undefined;
    if (at > indent) {
      // Nested content; a name's value never continues here.
      if (afterName) return undefined;
      continue;
    }
    afterName = false;
    const key = KEY.exec(trimmed);
    if (!key) return undefined;
    const value = stripComment(key[2] ?? "");
    if (value === undefined) return undefined;
    if (/^["'[{]/.test(value) && !closedOnLine(value)) return undefined;
    if (key[1] !== "name") continue;
    if (named) return undefined;
    named = true;
    afterName = true;
    name = scalar(value, PLAIN);
    if (name === undefined) return undefined;
  }
  return name;
}

/** `name` of a one-line flow mapping `{name: x, namespace: y}`, or undefined when unsure. */
function flowName(value: string): string | undefined {
  const body = /^\{(.*)\}$/.exec(value)?.[1];
  if (body === undefined || /[{}[\]"'&*!|>#]/.test(body)) return undefined;
  let name: string | undefined;
  for (const entry of body.split(",")) {
    const trimmed = entry.trim();
    if (trimmed === "") return undefined;
    const key = /^([A-Za-z_][A-Za-z0-9_./-]*): +(.*)$/.exec(trimmed);
    if (!key) return undefined;
    if (key[1] !== "name") continue;
    if (name !== undefined) return undefined;
    name = scalar(key[2]!.trim(), FLOW_PLAIN);
    if (name === undefined) return undefined;
  }
  return name;
}
