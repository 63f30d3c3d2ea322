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
  const doc = new Document(value, {
    aliasDuplicateObjects: false,
    ...(layout.sortMapEntries ? { sortMapEntries: true } : {}),
  });
  visit(doc, {
    Scalar(_key, node) {
      if (typeof node.value === "string" && isAmbiguousPlainString(node.value)) {
        node.type = "QUOTE_DOUBLE";
      }
    },
    Pair(_key, pair) {
      // Keys too (`on:` is the boolean true to a YAML 1.1 reader).
      if (isScalar(pair.key) && typeof pair.key.value === "string") {
        if (isAmbiguousPlainString(pair.key.value)) pair.key.type = "QUOTE_DOUBLE";
      }
    },
  });
  return doc.toString({
    ...LAYOUT,
    ...(layout.indentSeq !== undefined ? { indentSeq: layout.indentSeq } : {}),
    ...(layout.blockQuote !== undefined ? { blockQuote: layout.blockQuote } : {}),
  });
}

/** Objects as a multi-document stream, each starting with `---`. */
export function toYamlStream(values: readonly unknown[]): string {
  return values.map((value) => `---\n${toYaml(value)}`).join("");
}
