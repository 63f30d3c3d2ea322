/**
 * Post-build variable substitution as kustomize-controller performs it, through
 * github.com/fluxcd/pkg/envsubst (a fork of github.com/drone/envsubst).
 *
 * The aim is parity with what the controller applies, not with bash: where the
 * upstream parser or string functions behave oddly, this module does the same and
 * says so at the spot. The grammar is small enough for a hand-written recursive
 * descent parser; the template is parsed completely before anything is evaluated,
 * as upstream does, so a syntax error anywhere wins over a missing variable.
 */

export class SubstitutionError extends Error {
  readonly variable?: string;

  constructor(message: string, options?: { variable?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "SubstitutionError";
    if (options?.variable !== undefined) this.variable = options.variable;
  }
}

export interface EnvsubstOptions {
  strict?: boolean;
}

/** Substitute ${...} expressions in `input` using `vars`. Throws SubstitutionError. */
export function envsubst(
  input: string,
  vars: ReadonlyMap<string, string> | Record<string, string>,
  options?: EnvsubstOptions,
): string {
  const nodes = new Parser(input).parseTemplate();
  return render(nodes, { lookup: lookupIn(vars), strict: options?.strict === true });
}

/** True if `name` is a valid Flux variable name: ^[_[:alpha:]][_[:alpha:][:digit:]]*$ */
export function isValidVariableName(name: string): boolean {
  // Go's RE2 classes [:alpha:] and [:digit:] are ASCII-only.
  return /^[_A-Za-z][_A-Za-z0-9]*$/.test(name);
}

// ---------------------------------------------------------------------------
// Syntax tree

type Node = TextNode | ExprNode;

interface TextNode {
  kind: "text";
  value: string;
}

interface ExprNode {
  kind: "expr";
  variable: string;
  op: Operation;
  /** Index of the `${` in the source, for error messages. */
  at: number;
}

type ReplaceMode = "first" | "all" | "prefix" | "suffix";

type Operation =
  | { kind: "value" }
  | { kind: "length" }
  | { kind: "case"; operator: string }
  | { kind: "default"; operator: string; fallback: Node[] }
  | { kind: "substring"; offset: Node; length?: Node }
  | { kind: "trim"; fromEnd: boolean; longest: boolean; pattern: Node }
  | { kind: "replace"; mode: ReplaceMode; pattern: Node; replacement?: Node };

/**
 * Which escapes a run of text honours. Upstream turns `$$` into `$` in plain text
 * and in replace arguments, and `\/`, `\\` only in replace arguments; default
 * values, substring bounds and trim patterns take every character literally.
 */
type Escapes = "none" | "dollar" | "all";

function text(value: string): TextNode {
  return { kind: "text", value };
}

// ---------------------------------------------------------------------------
// Parser

// Upstream reads names with unicode.IsLetter / unicode.IsDigit, which is wider
// than the names kustomize-controller accepts; such names simply never resolve.
const IDENT_CHAR = /^[\p{L}\p{Nd}_]$/u;
const DEFAULT_MARKERS = new Set(["=", "-", "?", "+"]);
const SNIPPET_LENGTH = 60;

class Parser {
  private pos = 0;

  constructor(private readonly src: string) {}

  parseTemplate(): Node[] {
    const nodes: Node[] = [];
    while (this.pos < this.src.length) {
      nodes.push(
        this.atExpressionStart() ? this.parseExpression() : text(this.readText("", "dollar")),
      );
    }
    return nodes;
  }

  private parseExpression(): ExprNode {
    const at = this.pos;
    this.pos += 2;
    if (this.peek() === "#") return this.parseLength(at);
    const variable = this.readIdentifier();
    if (variable === "") this.fail("unable to parse variable name", at);
    return { kind: "expr", variable, op: this.parseOperation(at), at };
  }

  private parseOperation(at: number): Operation {
    switch (this.peek()) {
      case "}":
        this.pos++;
        return { kind: "value" };
      case ":":
        // Upstream steps back over the colon by the width of the character after
        // it; at the end of the input or before a multi-byte character it loses
        // its place and reports a bad substitution (`${v:é}`).
        if (this.peek(1) === "" || this.peek(1).charCodeAt(0) > 0x7f) {
          this.fail("bad substitution", at);
        }
        return DEFAULT_MARKERS.has(this.peek(1)) ? this.parseDefault(at) : this.parseSubstring(at);
      case "=":
        return this.parseDefault(at);
      case ",":
      case "^":
        return this.parseCase(at);
      case "/":
        return this.parseReplace(at);
      case "#":
      case "%":
        return this.parseTrim(at);
      default:
        // Upstream has no `${var-word}`, `${var+word}` or `${var?word}` (only the
        // colon forms), so these, like `${my-var}` or an unterminated `${var`, end
        // up here (see fluxcd/flux2#1003).
        return this.fail("missing closing brace", at);
    }
  }

  private parseLength(at: number): ExprNode {
    this.pos++;
    const variable = this.readIdentifier();
    if (variable === "") this.fail("bad substitution", at);
    this.expectClose(at);
    return { kind: "expr", variable, op: { kind: "length" }, at };
  }

  private parseDefault(at: number): Operation {
    const operator = this.peek() === "=" ? "=" : this.src.slice(this.pos, this.pos + 2);
    this.pos += operator.length;
    // A default is a sequence of text and nested expressions, unlike the other
    // operators' arguments, which are exactly one of either.
    const fallback: Node[] = [];
    while (this.peek() !== "}") fallback.push(this.parseOperand("}", "none", at));
    this.pos++;
    return { kind: "default", operator, fallback };
  }

  private parseSubstring(at: number): Operation {
    this.pos++;
    const offset = this.parseOperand(":}", "none", at);
    if (this.peek() === "}") {
      this.pos++;
      return { kind: "substring", offset };
    }
    if (this.peek() !== ":") this.fail("bad substitution", at);
    // Upstream consumes a whole run of colons as the separator: `${v:1::2}`.
    this.skipRun(":");
    const length = this.parseOperand("}", "none", at);
    this.expectClose(at);
    return { kind: "substring", offset, length };
  }

  private parseCase(at: number): Operation {
    // Any one or two of `,` and `^` parse, including the mixed `,^` and `^,`.
    const operator = this.readRun(",^", 2);
    this.expectClose(at);
    return { kind: "case", operator };
  }

  private parseTrim(at: number): Operation {
    const marker = this.peek();
    const operator = this.readRun(marker, 2);
    const pattern = this.parseOperand("}", "none", at);
    this.expectClose(at);
    return { kind: "trim", fromEnd: marker === "%", longest: operator.length === 2, pattern };
  }

  private parseReplace(at: number): Operation {
    this.pos++;
    const mode = this.readReplaceMode();
    // The pattern reads up to the next `/`, even past a `}` (so `${v/}` swallows
    // the rest of the line), and may not be empty: `${v/#/prefix}` is an error in
    // every released fluxcd/pkg/envsubst (up to v1.9.0). Its main branch has since
    // started accepting it (commit 146734a); follow once a release ships it.
    const pattern = this.parseOperand("/", "all", at);
    if (this.peek() !== "/") this.fail("bad substitution", at);
    // Like the substring separator, a run of slashes counts as one: `${v/a//b}`.
    this.skipRun("/");
    if (this.peek() === "}") {
      this.pos++;
      return { kind: "replace", mode, pattern };
    }
    const replacement = this.parseOperand("}", "all", at);
    this.expectClose(at);
    return { kind: "replace", mode, pattern, replacement };
  }

  private readReplaceMode(): ReplaceMode {
    const modes: Record<string, ReplaceMode> = { "/": "all", "#": "prefix", "%": "suffix" };
    const mode = modes[this.peek()];
    if (mode === undefined) return "first";
    this.pos++;
    return mode;
  }

  /** One argument: a nested expression or a non-empty run of text. */
  private parseOperand(stop: string, escapes: Escapes, at: number): Node {
    if (this.atExpressionStart()) return this.parseExpression();
    const start = this.pos;
    const value = this.readText(stop, escapes);
    if (this.pos === start) this.fail("unable to parse substitution within function", at);
    return text(value);
  }

  /** Text up to a character in `stop`, the start of an expression, or the end. */
  private readText(stop: string, escapes: Escapes): string {
    let out = "";
    let runStart = this.pos;
    while (this.pos < this.src.length && !this.atExpressionStart()) {
      const ch = this.src.charAt(this.pos);
      const next = this.src.charAt(this.pos + 1);
      if (isEscape(ch, next, escapes)) {
        out += this.src.slice(runStart, this.pos) + next;
        this.pos += 2;
        runStart = this.pos;
        continue;
      }
      if (stop.includes(ch)) break;
      this.pos++;
    }
    return out + this.src.slice(runStart, this.pos);
  }

  private readIdentifier(): string {
    const start = this.pos;
    while (this.pos < this.src.length) {
      const ch = String.fromCodePoint(this.src.codePointAt(this.pos) ?? 0);
      if (!IDENT_CHAR.test(ch)) break;
      this.pos += ch.length;
    }
    return this.src.slice(start, this.pos);
  }

  private readRun(allowed: string, max: number): string {
    const start = this.pos;
    while (this.pos - start < max && this.peek() !== "" && allowed.includes(this.peek())) {
      this.pos++;
    }
    return this.src.slice(start, this.pos);
  }

  private skipRun(ch: string): void {
    while (this.peek() === ch) this.pos++;
  }

  private expectClose(at: number): void {
    if (this.peek() !== "}") this.fail("bad substitution", at);
    this.pos++;
  }

  private atExpressionStart(): boolean {
    return this.src.startsWith("${", this.pos);
  }

  private peek(ahead = 0): string {
    return this.src.charAt(this.pos + ahead);
  }

  private fail(reason: string, at: number): never {
    const { line, column } = locate(this.src, at);
    throw new SubstitutionError(
      `${reason} at line ${line}, column ${column}: ${JSON.stringify(snippet(this.src, at))}`,
    );
  }
}

function isEscape(ch: string, next: string, escapes: Escapes): boolean {
  if (escapes === "none") return false;
  if (ch === "$" && next === "$") return true;
  return escapes === "all" && ch === "\\" && (next === "/" || next === "\\");
}

function locate(src: string, index: number): { line: number; column: number } {
  const before = src.slice(0, index);
  const lineStart = before.lastIndexOf("\n") + 1;
  return { line: before.split("\n").length, column: index - lineStart + 1 };
}

function snippet(src: string, index: number): string {
  const rest = src.slice(index);
  const lineEnd = rest.indexOf("\n");
  const line = lineEnd === -1 ? rest : rest.slice(0, lineEnd);
  return line.length > SNIPPET_LENGTH ? `${line.slice(0, SNIPPET_LENGTH)}...` : line;
}

// ---------------------------------------------------------------------------
// Evaluation

interface Scope {
  lookup: (name: string) => string | undefined;
  strict: boolean;
}

function isMap(
  vars: ReadonlyMap<string, string> | Record<string, string>,
): vars is ReadonlyMap<string, string> {
  return vars instanceof Map;
}

function lookupIn(
  vars: ReadonlyMap<string, string> | Record<string, string>,
): (name: string) => string | undefined {
  if (isMap(vars)) return (name) => vars.get(name);
  // Own properties only: `${constructor}` must not find Object.prototype.constructor.
  return (name) => (Object.hasOwn(vars, name) ? vars[name] : undefined);
}

function render(nodes: readonly Node[], scope: Scope): string {
  let out = "";
  for (const node of nodes) out += node.kind === "text" ? node.value : expand(node, scope);
  return out;
}

function renderOne(node: Node, scope: Scope): string {
  return render([node], scope);
}

/**
 * Upstream evaluates an expression's arguments before it looks the variable up,
 * so in strict mode `${set:-${missing}}` fails although the default is unused.
 */
function expand(node: ExprNode, scope: Scope): string {
  const { op } = node;
  switch (op.kind) {
    case "value":
      return resolve(node, scope);
    case "length":
      // Go's len(): bytes of UTF-8, not characters.
      return String(Buffer.byteLength(resolve(node, scope), "utf8"));
    case "case":
      return changeCase(resolve(node, scope), op.operator);
    case "default": {
      // Every default form, `:?` and `:+` included, means "this text if the value
      // is empty or unset"; upstream maps them all to the same function.
      const fallback = render(op.fallback, scope);
      const value = resolve(node, scope);
      return value === "" ? fallback : value;
    }
    case "substring": {
      const offset = renderOne(op.offset, scope);
      const length = op.length === undefined ? undefined : renderOne(op.length, scope);
      return substring(resolve(node, scope), offset, length);
    }
    case "trim": {
      const pattern = renderOne(op.pattern, scope);
      const value = resolve(node, scope);
      return op.fromEnd
        ? stripSuffix(value, pattern, op.longest)
        : stripPrefix(value, pattern, op.longest);
    }
    case "replace": {
      const pattern = renderOne(op.pattern, scope);
      const replacement =
        op.replacement === undefined ? undefined : renderOne(op.replacement, scope);
      return replace(resolve(node, scope), op.mode, pattern, replacement);
    }
  }
}

function resolve(node: ExprNode, scope: Scope): string {
  const value = scope.lookup(node.variable);
  if (value !== undefined) return value;
  if (scope.strict && node.op.kind !== "default") {
    throw new SubstitutionError(
      `variable not set (strict mode): ${JSON.stringify(node.variable)}`,
      {
        variable: node.variable,
      },
    );
  }
  return "";
}

// ---------------------------------------------------------------------------
// String functions

function changeCase(value: string, operator: string): string {
  switch (operator) {
    case "^^":
      return Array.from(value, upperChar).join("");
    case ",,":
      return Array.from(value, lowerChar).join("");
    case "^":
      return mapFirst(value, upperChar);
    case ",":
      return mapFirst(value, lowerChar);
    default:
      // `,^` and `^,` parse upstream but select no function: the value is kept.
      return value;
  }
}

function mapFirst(value: string, map: (ch: string) => string): string {
  const code = value.codePointAt(0);
  if (code === undefined) return value;
  const first = String.fromCodePoint(code);
  return map(first) + value.slice(first.length);
}

/**
 * Go maps case rune by rune with the simple (one-to-one) Unicode mappings.
 * JavaScript applies the full mappings, which can grow a character ("ß" to
 * "SS"); there Go keeps the character unless it has a simple mapping, which for
 * these few is not the character itself.
 */
const SIMPLE_UPPER = new Map<string, string>([
  ...greekIotaSubscripts(),
  ["\u1fb3", "\u1fbc"],
  ["\u1fc3", "\u1fcc"],
  ["\u1ff3", "\u1ffc"],
]);
const SIMPLE_LOWER = new Map<string, string>([["\u0130", "i"]]);

/** U+1F80..87, 1F90..97, 1FA0..A7 upper-case to the forms eight code points on. */
function greekIotaSubscripts(): Array<[string, string]> {
  return [0x1f80, 0x1f90, 0x1fa0].flatMap((base) =>
    Array.from({ length: 8 }, (_, i): [string, string] => [
      String.fromCodePoint(base + i),
      String.fromCodePoint(base + i + 8),
    ]),
  );
}

function upperChar(ch: string): string {
  return simpleCase(ch, ch.toUpperCase(), SIMPLE_UPPER);
}

function lowerChar(ch: string): string {
  return simpleCase(ch, ch.toLowerCase(), SIMPLE_LOWER);
}

function simpleCase(ch: string, full: string, exceptions: ReadonlyMap<string, string>): string {
  if (Array.from(full).length === 1) return full;
  return exceptions.get(ch) ?? ch;
}

/**
 * `${v:offset}` and `${v:offset:length}` over UTF-8 bytes, as Go slices strings.
 * An offset or length that is not a Go integer yields the whole value; a
 * negative offset counts from the end (clamped to 0), a negative length ends
 * that many bytes before the end.
 */
function substring(value: string, offsetText: string, lengthText: string | undefined): string {
  const bytes = Buffer.from(value, "utf8");
  let start = parseGoInt(offsetText);
  if (start === undefined) return value;
  if (start < 0) start = Math.max(bytes.length + start, 0);
  let end = bytes.length;
  if (lengthText !== undefined) {
    const length = parseGoInt(lengthText);
    if (length === undefined) return value;
    end = length < 0 ? bytes.length + length : start + length;
  }
  if (start >= bytes.length || end <= start) return "";
  return bytes.subarray(start, Math.min(end, bytes.length)).toString("utf8");
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** strconv.Atoi: optional sign, ASCII digits, 64-bit range; nothing else. */
function parseGoInt(textValue: string): number | undefined {
  if (!/^[+-]?[0-9]+$/.test(textValue)) return undefined;
  const parsed = BigInt(textValue);
  return parsed < INT64_MIN || parsed > INT64_MAX ? undefined : Number(parsed);
}

/** Replacement is by plain substring, not glob, as upstream does. */
function replace(
  value: string,
  mode: ReplaceMode,
  pattern: string,
  replacement: string | undefined,
): string {
  if (replacement === undefined) {
    // Without a replacement `/` and `//` delete, but upstream's anchored
    // functions require two arguments and otherwise return the value untouched.
    if (mode === "prefix" || mode === "suffix") return value;
    replacement = "";
  }
  switch (mode) {
    case "first":
      return replaceFirst(value, pattern, replacement);
    case "all":
      return replaceEvery(value, pattern, replacement);
    case "prefix":
      return value.startsWith(pattern) ? replacement + value.slice(pattern.length) : value;
    case "suffix":
      return value.endsWith(pattern)
        ? value.slice(0, value.length - pattern.length) + replacement
        : value;
  }
}

// String.prototype.replace would interpret `$&` and friends in the replacement.
function replaceFirst(value: string, pattern: string, replacement: string): string {
  const index = value.indexOf(pattern);
  if (index === -1) return value;
  return value.slice(0, index) + replacement + value.slice(index + pattern.length);
}

function replaceEvery(value: string, pattern: string, replacement: string): string {
  if (pattern !== "") return value.split(pattern).join(replacement);
  // Go's strings.Replace matches an empty pattern around every character.
  const chars = Array.from(value);
  return chars.length === 0 ? replacement : replacement + chars.join(replacement) + replacement;
}

/**
 * `${v#pat}` / `${v##pat}`. Upstream tries prefixes of length 1 and up, never the
 * empty one, so `${v#*}` removes one character where bash removes none.
 */
function stripPrefix(value: string, pattern: string, longest: boolean): string {
  const glob = compileGlob(pattern);
  if (glob === undefined) return value;
  const chars = Array.from(value);
  for (let i = 1; i <= chars.length; i++) {
    const size = longest ? chars.length + 1 - i : i;
    if (globMatches(glob, chars, size)) return chars.slice(size).join("");
  }
  return value;
}

/**
 * `${v%pat}` / `${v%%pat}`. Upstream reverses both the value and the pattern and
 * strips a prefix. Reversing the pattern breaks classes and escapes (`[0-9]`
 * becomes `]9-0[`), so those never match at the end of a value in Flux; this is
 * reproduced on purpose.
 */
function stripSuffix(value: string, pattern: string, longest: boolean): string {
  return reverse(stripPrefix(reverse(value), reverse(pattern), longest));
}

function reverse(value: string): string {
  return Array.from(value).reverse().join("");
}

// ---------------------------------------------------------------------------
// Glob patterns (drone/envsubst's variant of Go's path.Match)

type GlobToken =
  | { kind: "star" }
  | { kind: "any" }
  | { kind: "literal"; char: string }
  | { kind: "class"; negated: boolean; ranges: Array<[number, number]> };

/**
 * Unlike path.Match, `*` and `?` also match `/`. A malformed pattern (trailing
 * backslash, bad or unterminated class) can never match upstream, so it is
 * reported as undefined and the value is left alone.
 */
function compileGlob(pattern: string): GlobToken[] | undefined {
  const chars = Array.from(pattern);
  const tokens: GlobToken[] = [];
  let i = 0;
  while (i < chars.length) {
    const ch = chars[i] ?? "";
    if (ch === "*") {
      tokens.push({ kind: "star" });
      i++;
    } else if (ch === "?") {
      tokens.push({ kind: "any" });
      i++;
    } else if (ch === "\\") {
      const escaped = chars[i + 1];
      if (escaped === undefined) return undefined;
      tokens.push({ kind: "literal", char: escaped });
      i += 2;
    } else if (ch === "[") {
      const parsed = compileClass(chars, i + 1);
      if (parsed === undefined) return undefined;
      tokens.push(parsed.token);
      i = parsed.end;
    } else {
      tokens.push({ kind: "literal", char: ch });
      i++;
    }
  }
  return tokens;
}

/** A class body starting after `[`: `^` negates, `]` cannot come first. */
function compileClass(
  chars: readonly string[],
  start: number,
): { token: GlobToken; end: number } | undefined {
  let i = start;
  const negated = chars[i] === "^";
  if (negated) i++;
  const ranges: Array<[number, number]> = [];
  while (!(chars[i] === "]" && ranges.length > 0)) {
    const lo = classChar(chars, i);
    if (lo === undefined) return undefined;
    const hi = chars[lo.end] === "-" ? classChar(chars, lo.end + 1) : lo;
    if (hi === undefined) return undefined;
    ranges.push([lo.code, hi.code]);
    i = hi.end;
  }
  return { token: { kind: "class", negated, ranges }, end: i + 1 };
}

function classChar(
  chars: readonly string[],
  start: number,
): { code: number; end: number } | undefined {
  let i = start;
  if (chars[i] === "-" || chars[i] === "]") return undefined;
  if (chars[i] === "\\") i++;
  const ch = chars[i];
  // Something must follow, if only the closing bracket.
  if (ch === undefined || i + 1 >= chars.length) return undefined;
  return { code: ch.codePointAt(0) ?? 0, end: i + 1 };
}

/** Whole-string match of `chars[0, size)`, backtracking to the last star. */
function globMatches(
  tokens: readonly GlobToken[],
  chars: readonly string[],
  size: number,
): boolean {
  let t = 0;
  let c = 0;
  let starToken = -1;
  let starChar = 0;
  while (c < size) {
    const token = tokens[t];
    if (token?.kind === "star") {
      starToken = t++;
      starChar = c;
    } else if (token !== undefined && matchesChar(token, chars[c] ?? "")) {
      t++;
      c++;
    } else if (starToken >= 0) {
      t = starToken + 1;
      c = ++starChar;
    } else {
      return false;
    }
  }
  while (tokens[t]?.kind === "star") t++;
  return t === tokens.length;
}

function matchesChar(token: GlobToken, ch: string): boolean {
  switch (token.kind) {
    case "star":
    case "any":
      return true;
    case "literal":
      return token.char === ch;
    case "class": {
      const code = ch.codePointAt(0) ?? -1;
      const inClass = token.ranges.some(([lo, hi]) => lo <= code && code <= hi);
      return inClass !== token.negated;
    }
  }
}
