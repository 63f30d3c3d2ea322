/**
 * Comparing our CLI's stdout with flux-local's recorded outputs. Pure functions
 * over strings and parsed values; the runner decides which comparison a case
 * gets (see `comparisonFor`).
 *
 * Normalization rules (the only differences that are not reported):
 * - Build outputs (multi-document YAML): documents are compared as a multiset
 *   keyed by apiVersion/kind/namespace/name, so document order is ignored. The
 *   annotations `config.kubernetes.io/index` and `internal.config.kubernetes.io/*`
 *   (kustomize's bookkeeping) are dropped, and so is an annotations map that is
 *   empty afterwards. Empty documents (a bare `---`) are ignored. Everything else
 *   must be deeply equal (mapping key order ignored, list order kept).
 * - `-o yaml|json` outputs of `get` and `diff`: both sides are parsed and the
 *   values compared deeply (mapping key order ignored, list order kept).
 * - Everything else (tables, messages): exact text, trailing spaces and the final
 *   newline included.
 * - `str-repr` expectations were recorded as a Python repr of stdout; the data
 *   files hold the decoded value (all of them are empty: stdout must be empty).
 *   A file that still holds a quoted repr is decoded first.
 */
import { parseAllDocuments } from "yaml";

export type Comparison = "documents" | "yaml-value" | "json-value" | "text";

export interface CompareResult {
  equal: boolean;
  /** One line saying what differs (empty when equal). */
  summary: string;
  /** Detail lines for the report. */
  details: string[];
}

const SAME: CompareResult = { equal: true, summary: "", details: [] };

// ---------------------------------------------------------------------------
// Choosing the comparison

/** The value of `-o`/`--output` in an argv, in any of commander's spellings. */
export function outputFormat(argv: readonly string[]): string | undefined {
  let format: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    if (arg === "--") break;
    if (arg === "-o" || arg === "--output") format = argv[++i];
    else if (arg.startsWith("--output=")) format = arg.slice("--output=".length);
    else if (arg.startsWith("-o") && !arg.startsWith("--")) format = arg.slice(2);
  }
  return format;
}

/** How a case's stdout is compared, from the command it runs. */
export function comparisonFor(argv: readonly string[]): Comparison {
  if (argv[0] === "build") return "documents";
  const format = outputFormat(argv);
  if (format === "yaml") return "yaml-value";
  if (format === "json") return "json-value";
  return "text";
}

// ---------------------------------------------------------------------------
// Expected files

/**
 * The expected stdout held by a data file. `str-repr` files hold the decoded
 * value of a Python repr; if a file still holds the quoted repr itself, it is
 * decoded here.
 */
export function expectedText(content: string, kind: string | null | undefined): string {
  if (kind !== "str-repr") return content;
  const literal = content.endsWith("\n") ? content.slice(0, -1) : content;
  if (/^(['"]).*\1$/s.test(literal) && !literal.includes("\n")) {
    return decodePythonString(literal);
  }
  return content;
}

/** Decode a Python `str` literal as `repr()` writes it ('...' or "..."). */
export function decodePythonString(literal: string): string {
  const quote = literal[0];
  if ((quote !== "'" && quote !== '"') || literal.length < 2 || !literal.endsWith(quote)) {
    throw new Error(`not a Python string literal: ${literal.slice(0, 40)}`);
  }
  const body = literal.slice(1, -1);
  const simple: Record<string, string> = {
    "\\": "\\",
    "'": "'",
    '"': '"',
    n: "\n",
    t: "\t",
    r: "\r",
    "0": "\0",
    a: "\x07",
    b: "\b",
    f: "\f",
    v: "\v",
  };
  let out = "";
  for (let i = 0; i < body.length; i++) {
    const ch = body[i] ?? "";
    if (ch !== "\\") {
      out += ch;
      continue;
    }
    const next = body[i + 1] ?? "";
    const hexLength = next === "x" ? 2 : next === "u" ? 4 : next === "U" ? 8 : 0;
    if (hexLength > 0) {
      const hex = body.slice(i + 2, i + 2 + hexLength);
      if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== hexLength) {
        throw new Error(`bad escape \\${next}${hex} in Python string literal`);
      }
      out += String.fromCodePoint(parseInt(hex, 16));
      i += 1 + hexLength;
    } else if (next in simple) {
      out += simple[next];
      i += 1;
    } else {
      // Python keeps unknown escapes as they are.
      out += ch;
    }
  }
  return out;
}

/** Apply a case's `output_replace` pairs (every occurrence) to stdout. */
export function applyReplacements(
  text: string,
  replacements: ReadonlyArray<readonly [string, string]>,
): string {
  let out = text;
  for (const [from, to] of replacements) {
    if (from) out = out.split(from).join(to);
  }
  return out;
}

// ---------------------------------------------------------------------------
// Values

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Deep equality of parsed YAML/JSON values: key order ignored, list order kept. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((item, i) => deepEqual(item, b[i]));
  }
  if (isRecord(a)) {
    if (!isRecord(b)) return false;
    const keys = Object.keys(a);
    if (keys.length !== Object.keys(b).length) return false;
    return keys.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
  }
  if (typeof a === "number" && typeof b === "number") return Number.isNaN(a) && Number.isNaN(b);
  return false;
}

function show(value: unknown, max = 80): string {
  let text: string;
  try {
    text = value === undefined ? "undefined" : (JSON.stringify(value) ?? typeof value);
  } catch {
    text = `(${typeof value})`;
  }
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}

function childPath(parent: string, key: string | number): string {
  if (typeof key === "number") return `${parent}[${key}]`;
  const plain = /^[A-Za-z_][A-Za-z0-9_-]*$/.test(key);
  if (!parent) return plain ? key : `[${JSON.stringify(key)}]`;
  return plain ? `${parent}.${key}` : `${parent}[${JSON.stringify(key)}]`;
}

/**
 * Field-level differences between two values, at most `limit` lines (then a
 * line saying how many more). Paths look like `spec.values.hosts[0].host`.
 */
export function fieldDiff(expected: unknown, actual: unknown, limit = 10): string[] {
  const lines: string[] = [];
  let more = 0;
  const add = (line: string) => {
    if (lines.length < limit) lines.push(line);
    else more++;
  };
  const walk = (e: unknown, a: unknown, at: string) => {
    if (deepEqual(e, a)) return;
    const where = at || "(root)";
    if (isRecord(e) && isRecord(a)) {
      const keys = [...Object.keys(e), ...Object.keys(a).filter((k) => !Object.hasOwn(e, k))];
      for (const key of keys) {
        const p = childPath(at, key);
        if (!Object.hasOwn(a, key)) add(`${p}: missing (expected ${show(e[key])})`);
        else if (!Object.hasOwn(e, key)) add(`${p}: unexpected ${show(a[key])}`);
        else walk(e[key], a[key], p);
      }
      return;
    }
    if (Array.isArray(e) && Array.isArray(a)) {
      const n = Math.max(e.length, a.length);
      for (let i = 0; i < n; i++) {
        const p = childPath(at, i);
        if (i >= a.length) add(`${p}: missing (expected ${show(e[i])})`);
        else if (i >= e.length) add(`${p}: unexpected ${show(a[i])}`);
        else walk(e[i], a[i], p);
      }
      return;
    }
    add(`${where}: expected ${show(e)}, got ${show(a)}`);
  };
  walk(expected, actual, "");
  if (more > 0) lines.push(`... and ${more} more`);
  return lines;
}

export function compareValues(expected: unknown, actual: unknown): CompareResult {
  if (deepEqual(expected, actual)) return SAME;
  const details = fieldDiff(expected, actual);
  return {
    equal: false,
    summary: `parsed output differs (${details.length === 1 ? details[0] : `${countDiffs(details)} fields`})`,
    details,
  };
}

function countDiffs(details: readonly string[]): string {
  const last = details[details.length - 1] ?? "";
  const more = /^\.\.\. and (\d+) more$/.exec(last);
  return more ? String(details.length - 1 + Number(more[1])) : String(details.length);
}

/** Parse a YAML stream into its non-empty documents, or throw with the first error. */
export function parseYamlStream(text: string): unknown[] {
  const out: unknown[] = [];
  for (const doc of parseAllDocuments(text, { uniqueKeys: false, prettyErrors: false })) {
    const error = doc.errors[0];
    if (error) throw new Error(error.message.split("\n")[0]);
    const value: unknown = doc.toJS({ maxAliasCount: -1 });
    if (value !== null && value !== undefined) out.push(value);
  }
  return out;
}

function parsed(text: string, format: "yaml" | "json"): unknown {
  if (format === "json") return JSON.parse(text) as unknown;
  const docs = parseYamlStream(text);
  return docs.length === 1 ? docs[0] : docs;
}

/** Compare `-o yaml|json` outputs as parsed values. */
export function compareParsed(
  expected: string,
  actual: string,
  format: "yaml" | "json",
): CompareResult {
  let want: unknown;
  try {
    want = parsed(expected, format);
  } catch (err) {
    throw new Error(`expected output is not valid ${format}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  let got: unknown;
  try {
    got = parsed(actual, format);
  } catch (err) {
    return {
      equal: false,
      summary: `stdout is not valid ${format}: ${(err as Error).message}`,
      details: textDiff(expected, actual),
    };
  }
  return compareValues(want, got);
}

// ---------------------------------------------------------------------------
// Build outputs: documents as a multiset

const DROPPED_ANNOTATIONS = [
  /^config\.kubernetes\.io\/index$/,
  /^internal\.config\.kubernetes\.io\//,
];

/** A copy of a document without kustomize's bookkeeping annotations. */
export function normalizeDocument(doc: unknown): unknown {
  if (!isRecord(doc) || !isRecord(doc.metadata)) return doc;
  const annotations = doc.metadata.annotations;
  if (!isRecord(annotations)) return doc;
  const kept = Object.fromEntries(
    Object.entries(annotations).filter(([k]) => !DROPPED_ANNOTATIONS.some((re) => re.test(k))),
  );
  const metadata: Record<string, unknown> = { ...doc.metadata };
  if (Object.keys(kept).length > 0) metadata.annotations = kept;
  else delete metadata.annotations;
  return { ...doc, metadata };
}

/** `apiVersion kind namespace/name` (namespace empty for cluster-scoped objects). */
export function documentKey(doc: unknown): string {
  if (!isRecord(doc)) return `(not a mapping) ${show(doc, 60)}`;
  const metadata = isRecord(doc.metadata) ? doc.metadata : {};
  const str = (v: unknown) => (typeof v === "string" ? v : v === undefined ? "" : show(v));
  const ns = str(metadata.namespace);
  const name = str(metadata.name);
  return [str(doc.apiVersion), str(doc.kind), `${ns ? `${ns}/` : ""}${name}`]
    .filter(Boolean)
    .join(" ");
}

function groupByKey(docs: readonly unknown[]): Map<string, unknown[]> {
  const groups = new Map<string, unknown[]>();
  for (const doc of docs) {
    const key = documentKey(doc);
    const list = groups.get(key);
    if (list) list.push(doc);
    else groups.set(key, [doc]);
  }
  return groups;
}

export interface DocumentsDiff {
  missing: string[];
  extra: string[];
  different: Array<{ key: string; fields: string[] }>;
  /** Documents on each side (after dropping empty ones). */
  expectedCount: number;
  actualCount: number;
}

/** Compare two lists of parsed documents as multisets keyed by `documentKey`. */
export function diffDocuments(
  expectedDocs: readonly unknown[],
  actualDocs: readonly unknown[],
): DocumentsDiff {
  const want = groupByKey(expectedDocs.map(normalizeDocument));
  const got = groupByKey(actualDocs.map(normalizeDocument));
  const result: DocumentsDiff = {
    missing: [],
    extra: [],
    different: [],
    expectedCount: expectedDocs.length,
    actualCount: actualDocs.length,
  };
  for (const [key, wanted] of want) {
    const found = [...(got.get(key) ?? [])];
    const unmatched: unknown[] = [];
    for (const doc of wanted) {
      const i = found.findIndex((candidate) => deepEqual(doc, candidate));
      if (i >= 0) found.splice(i, 1);
      else unmatched.push(doc);
    }
    const pairs = Math.min(unmatched.length, found.length);
    for (let i = 0; i < pairs; i++) {
      result.different.push({ key, fields: fieldDiff(unmatched[i], found[i]) });
    }
    for (const _ of unmatched.slice(pairs)) result.missing.push(key);
    for (const _ of found.slice(pairs)) result.extra.push(key);
    got.delete(key);
  }
  for (const [key, docs] of got) for (const _ of docs) result.extra.push(key);
  return result;
}

/** Compare two multi-document YAML streams (build outputs). */
export function compareDocuments(expected: string, actual: string): CompareResult {
  let want: unknown[];
  try {
    want = parseYamlStream(expected);
  } catch (err) {
    throw new Error(`expected output is not valid YAML: ${(err as Error).message}`, {
      cause: err,
    });
  }
  let got: unknown[];
  try {
    got = parseYamlStream(actual);
  } catch (err) {
    return {
      equal: false,
      summary: `stdout is not valid YAML: ${(err as Error).message}`,
      details: [],
    };
  }
  const diff = diffDocuments(want, got);
  if (diff.missing.length + diff.extra.length + diff.different.length === 0) return SAME;
  const parts = [
    diff.missing.length ? `${diff.missing.length} missing` : "",
    diff.extra.length ? `${diff.extra.length} extra` : "",
    diff.different.length ? `${diff.different.length} different` : "",
  ].filter(Boolean);
  const details = [
    `documents: expected ${diff.expectedCount}, got ${diff.actualCount}`,
    ...diff.missing.map((key) => `missing: ${key}`),
    ...diff.extra.map((key) => `extra: ${key}`),
    ...diff.different.flatMap(({ key, fields }) => [
      `different: ${key}`,
      ...fields.map((f) => `    ${f}`),
    ]),
  ];
  return { equal: false, summary: `documents differ: ${parts.join(", ")}`, details };
}

// ---------------------------------------------------------------------------
// Text

/**
 * A small line diff (longest common subsequence) with a few lines of context;
 * lines are shown JSON-quoted so trailing spaces are visible.
 */
export function textDiff(expected: string, actual: string, context = 2, limit = 40): string[] {
  const a = expected.split("\n");
  const b = actual.split("\n");
  if (a.length * b.length > 4_000_000) {
    const i = a.findIndex((line, n) => line !== b[n]);
    return [
      `first difference at line ${i + 1}:`,
      `- ${JSON.stringify(a[i] ?? "")}`,
      `+ ${JSON.stringify(b[i] ?? "")}`,
    ];
  }
  // lcs[i][j]: length of the LCS of a[i:] and b[j:].
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () =>
    new Array<number>(b.length + 1).fill(0),
  );
  for (let i = a.length - 1; i >= 0; i--) {
    const row = lcs[i] as number[];
    const below = lcs[i + 1] as number[];
    for (let j = b.length - 1; j >= 0; j--) {
      row[j] = a[i] === b[j] ? (below[j + 1] ?? 0) + 1 : Math.max(below[j] ?? 0, row[j + 1] ?? 0);
    }
  }
  const ops: Array<{ op: " " | "-" | "+"; line: string; n: number }> = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      ops.push({ op: " ", line: a[i] ?? "", n: i + 1 });
      i++;
      j++;
    } else if (
      i < a.length &&
      (j >= b.length || (lcs[i + 1]?.[j] ?? 0) >= (lcs[i]?.[j + 1] ?? 0))
    ) {
      // Removed lines before added ones.
      ops.push({ op: "-", line: a[i] ?? "", n: i + 1 });
      i++;
    } else {
      ops.push({ op: "+", line: b[j] ?? "", n: i + 1 });
      j++;
    }
  }
  const visible = new Set<number>();
  ops.forEach((o, k) => {
    if (o.op === " ") return;
    for (let c = Math.max(0, k - context); c <= Math.min(ops.length - 1, k + context); c++) {
      visible.add(c);
    }
  });
  const out: string[] = [];
  let last = -2;
  for (const k of [...visible].sort((x, y) => x - y)) {
    const o = ops[k];
    if (!o) continue;
    if (k !== last + 1) out.push(`@@ line ${o.n} (- expected, + actual)`);
    out.push(`${o.op} ${JSON.stringify(o.line)}`);
    last = k;
  }
  if (out.length > limit) return [...out.slice(0, limit), `... and ${out.length - limit} more`];
  return out;
}

/** Exact text comparison. */
export function compareText(expected: string, actual: string): CompareResult {
  if (expected === actual) return SAME;
  let summary = "output differs";
  if (actual === "") summary = "stdout is empty";
  else if (expected === "") summary = "stdout should be empty";
  else if (expected.trimEnd() === actual.trimEnd())
    summary = "output differs only in trailing whitespace";
  else if (expected.replace(/[ \t]+$/gm, "") === actual.replace(/[ \t]+$/gm, "")) {
    summary = "output differs only in trailing spaces";
  } else {
    const a = expected.split("\n");
    const b = actual.split("\n");
    const first = a.findIndex((line, n) => line !== b[n]);
    summary = `output differs from line ${first < 0 ? a.length + 1 : first + 1}`;
  }
  return { equal: false, summary, details: textDiff(expected, actual) };
}

/** `expected_contains`: stdout must contain the string. */
export function compareContains(needle: string, actual: string): CompareResult {
  if (actual.includes(needle)) return SAME;
  const lines = actual.split("\n");
  return {
    equal: false,
    summary: `stdout does not contain ${JSON.stringify(needle)}`,
    details: [
      "stdout:",
      ...lines.slice(0, 20).map((line) => `  ${JSON.stringify(line)}`),
      ...(lines.length > 20 ? [`  ... and ${lines.length - 20} more lines`] : []),
    ],
  };
}

/** Compare stdout with the expected text using the case's comparison. */
export function compareOutput(
  comparison: Comparison,
  expected: string,
  actual: string,
): CompareResult {
  switch (comparison) {
    case "documents":
      return compareDocuments(expected, actual);
    case "yaml-value":
      return compareParsed(expected, actual, "yaml");
    case "json-value":
      return compareParsed(expected, actual, "json");
    case "text":
      return compareText(expected, actual);
  }
}
