/**
 * Repository data on a terminal or in a CI log: a name, a path or a message
 * from the repository must never be read as a terminal control sequence (ANSI
 * or OSC: clearing the screen, changing the title) or as a CI workflow
 * command (`::set-output`, `::warning` at the start of a line), and a URL's
 * userinfo (a password or token) is never shown.
 */

const USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@]*@/gi;

/** `scheme://user:pass@host` → `scheme://***@host`, everywhere in `text`. */
export function redactUrls(text: string): string {
  return text.replace(USERINFO, "$1***@");
}

// C0 controls (tab aside), DEL, C1 controls, and the Unicode bidi and
// line/paragraph separators that reorder or break a line.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

function escapeChar(ch: string): string {
  switch (ch) {
    case "\n":
      return "\\n";
    case "\r":
      return "\\r";
    default: {
      const code = ch.codePointAt(0) ?? 0;
      return code <= 0xff
        ? `\\x${code.toString(16).padStart(2, "0")}`
        : `\\u${code.toString(16).padStart(4, "0")}`;
    }
  }
}

/**
 * One repository-controlled value, safe inside a printed line: control
 * characters (newlines included) shown as escapes, a leading `::` defused, and
 * URL userinfo redacted.
 */
export function printable(value: string): string {
  return redactUrls(value)
    .replace(CONTROL, escapeChar)
    .replace(/^(\s*):/, "$1\\x3a");
}

/**
 * A multi-line message (kustomize's error, for example) printed under its
 * object: each line made printable and indented, so no line of it can start
 * a workflow command or carry a control sequence.
 */
export function printableLines(text: string, indent: string): string {
  return text
    .split(/\r?\n/)
    .map((line, i) => (i === 0 ? printable(line) : `${indent}${printable(line)}`))
    .join("\n");
}

/** Redact URL userinfo in every string of a log record (pino's log formatter). */
export function redactDeep<T>(value: T, depth = 0): T {
  if (depth > 8) return value;
  if (typeof value === "string") return redactUrls(value) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => redactDeep(v, depth + 1)) as T;
  if (value && typeof value === "object" && !(value instanceof Error)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = redactDeep(v, depth + 1);
    return out as T;
  }
  if (value instanceof Error) {
    value.message = redactUrls(value.message);
    if (value.stack) value.stack = redactUrls(value.stack);
  }
  return value;
}
