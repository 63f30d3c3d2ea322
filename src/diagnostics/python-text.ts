/**
 * The wording of the Python flux-local's diagnostics, which its users' CI
 * matched: values shown as Python shows them (`['entry']`, `<class 'str'>`),
 * and PyYAML's message for characters YAML does not allow.
 */

/** A value as Python's `repr()` writes it (for values that come from YAML). */
export function pythonRepr(value: unknown): string {
  if (value === null || value === undefined) return "None";
  if (value === true) return "True";
  if (value === false) return "False";
  if (typeof value === "number") return pythonNumber(value);
  if (typeof value === "string") return pythonString(value);
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Date) return `datetime.datetime(${value.toISOString()})`;
  if (Array.isArray(value)) return `[${value.map(pythonRepr).join(", ")}]`;
  if (typeof value === "object") {
    const items = Object.entries(value as Record<string, unknown>).map(
      ([k, v]) => `${pythonString(k)}: ${pythonRepr(v)}`,
    );
    return `{${items.join(", ")}}`;
  }
  return typeof value === "symbol" ? value.toString() : "<object>";
}

/** A value as Python's `str()` writes it. */
export function pythonStr(value: unknown): string {
  return typeof value === "string" ? value : pythonRepr(value);
}

/** `<class 'str'>` and friends. */
export function pythonType(value: unknown): string {
  const name =
    value === null || value === undefined
      ? "NoneType"
      : typeof value === "boolean"
        ? "bool"
        : typeof value === "number"
          ? Number.isInteger(value)
            ? "int"
            : "float"
          : typeof value === "string"
            ? "str"
            : Array.isArray(value)
              ? "list"
              : value instanceof Date
                ? "datetime.datetime"
                : "dict";
  return `<class '${name}'>`;
}

function pythonNumber(n: number): string {
  if (Number.isNaN(n)) return "nan";
  if (!Number.isFinite(n)) return n > 0 ? "inf" : "-inf";
  if (Number.isInteger(n)) return n.toString();
  return n.toString().replace(/e([+-])(\d)$/, "e$10$2");
}

function pythonString(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = "";
  for (const ch of s) {
    const code = ch.codePointAt(0) ?? 0;
    if (ch === "\\") out += "\\\\";
    else if (ch === quote) out += `\\${quote}`;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, "0")}`;
    else out += ch;
  }
  return `${quote}${out}${quote}`;
}

/**
 * The first character PyYAML refuses to read (outside YAML's printable set),
 * with its position in characters, or undefined.
 */
export function firstUnprintable(text: string): { code: number; position: number } | undefined {
  let position = 0;
  for (const ch of text) {
    const c = ch.codePointAt(0) ?? 0;
    const printable =
      c === 0x09 ||
      c === 0x0a ||
      c === 0x0d ||
      (c >= 0x20 && c <= 0x7e) ||
      c === 0x85 ||
      (c >= 0xa0 && c <= 0xd7ff) ||
      (c >= 0xe000 && c <= 0xfffd) ||
      (c >= 0x10000 && c <= 0x10ffff);
    if (!printable) return { code: c, position };
    position++;
  }
  return undefined;
}

/** PyYAML's reader error for such a character. */
export function unprintableMessage(u: { code: number; position: number }): string {
  const hex = u.code.toString(16).padStart(4, "0");
  return `unacceptable character #x${hex}: special characters are not allowed\n  in "<unicode string>", position ${u.position}`;
}
