/**
 * Helm's `--set` line syntax (`a.b[0].c=value,x=y`), as Flux applies it for a
 * valuesFrom `targetPath`: keys split on unescaped dots, `[n]` list indexes,
 * `\` escapes in keys and values, `{a,b}` lists, commas separating
 * assignments, and typed values (`true`, `false`, `null`, integers) unless the
 * string form (`--set-string`) or the literal form (`--set-literal`, the
 * whole rest taken verbatim, no escapes) is asked for. Pure: it edits the
 * given values in place and throws StrvalsError on bad input.
 */

export type StrvalsMode = "typed" | "string" | "literal";

export class StrvalsError extends Error {}

type Values = Record<string, unknown>;

/** Same limits as helm. */
const MAX_INDEX = 65536;
const MAX_NESTED_NAME_LEVEL = 30;

const EOF = Symbol("EOF");
const NOT_LIST = Symbol("not a list");
type ParseStep = undefined | typeof EOF | StrvalsError;

interface Scan {
  text: string;
  last: string | undefined;
  eof: boolean;
}

class Reader {
  private readonly runes: string[];
  private pos = 0;

  constructor(text: string) {
    this.runes = Array.from(text);
  }

  read(): string | undefined {
    if (this.pos >= this.runes.length) return undefined;
    return this.runes[this.pos++];
  }

  unread(): void {
    if (this.pos > 0) this.pos--;
  }

  /** Runes until one of `stop` (consumed, returned as `last`); `\` escapes when `escapes`. */
  until(stop: string, escapes: boolean): Scan {
    let text = "";
    for (;;) {
      const r = this.read();
      if (r === undefined) return { text, last: undefined, eof: true };
      if (stop.includes(r)) return { text, last: r, eof: false };
      if (escapes && r === "\\") {
        const next = this.read();
        if (next === undefined) return { text, last: undefined, eof: true };
        text += next;
        continue;
      }
      text += r;
    }
  }
}

function isMap(value: unknown): value is Values {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  return `a ${typeof value}`;
}

function existingMap(data: Values, key: string): Values {
  if (!Object.hasOwn(data, key)) return {};
  const value = data[key];
  if (!isMap(value)) {
    throw new StrvalsError(`unable to parse key: ${key} is ${describe(value)}, not a map`);
  }
  return value;
}

function existingList(data: Values, key: string): unknown[] {
  if (!Object.hasOwn(data, key)) return [];
  const value = data[key];
  if (!Array.isArray(value)) {
    throw new StrvalsError(`unable to parse key: ${key} is ${describe(value)}, not a list`);
  }
  return value;
}

function set(data: Values, key: string, value: unknown): void {
  if (key.length === 0) return;
  data[key] = value;
}

function setIndex(list: unknown[], index: number, value: unknown): unknown[] {
  if (index < 0) throw new StrvalsError(`negative ${index} index not allowed`);
  if (index > MAX_INDEX) {
    throw new StrvalsError(
      `index of ${index} is greater than maximum supported index of ${MAX_INDEX}`,
    );
  }
  while (list.length <= index) list.push(null);
  list[index] = value;
  return list;
}

/** `true`/`false`/`null` (any case), integers without a leading zero; else the string. */
export function typedValue(text: string): unknown {
  const lower = text.toLowerCase();
  if (lower === "true") return true;
  if (lower === "false") return false;
  if (lower === "null") return null;
  if (text === "0") return 0;
  if (text.length > 0 && text[0] !== "0" && /^[+-]?[0-9]+$/.test(text)) {
    const big = BigInt(text);
    if (big >= -(2n ** 63n) && big < 2n ** 63n) {
      const n = Number(big);
      return Number.isSafeInteger(n) ? n : big;
    }
  }
  return text;
}

class Parser {
  private readonly in: Reader;

  constructor(
    text: string,
    private readonly mode: StrvalsMode,
  ) {
    this.in = new Reader(text);
  }

  private get literal(): boolean {
    return this.mode === "literal";
  }

  private convert(text: string): unknown {
    return this.mode === "typed" ? typedValue(text) : text;
  }

  parse(data: Values): void {
    for (;;) {
      const outcome = this.key(data, 0);
      if (outcome === undefined) continue;
      if (outcome === EOF) return;
      throw outcome;
    }
  }

  private key(data: Values, level: number): ParseStep {
    const stop = this.literal ? "=[." : "=[,.";
    const { text: k, last, eof } = this.in.until(stop, !this.literal);
    if (eof) return k.length === 0 ? EOF : new StrvalsError(`key "${k}" has no value`);
    switch (last) {
      case "[": {
        const index = this.keyIndex();
        if (index instanceof StrvalsError) return index;
        const [list, outcome] = this.listItem(existingList(data, k), index, level);
        set(data, k, list);
        return outcome;
      }
      case "=": {
        if (this.literal) {
          set(data, k, this.in.until("", false).text);
          return undefined;
        }
        const list = this.valueList();
        if (Array.isArray(list)) {
          set(data, k, list);
          return undefined;
        }
        if (list === EOF) {
          set(data, k, "");
          return EOF;
        }
        if (list instanceof StrvalsError) return list;
        set(data, k, this.convert(this.in.until(",", true).text));
        return undefined;
      }
      case ",":
        set(data, k, "");
        return new StrvalsError(`key "${k}" has no value (cannot end with ,)`);
      default: {
        // "."
        if (level + 1 > MAX_NESTED_NAME_LEVEL) {
          return new StrvalsError(
            `value name nested level is greater than maximum supported nested level of ${MAX_NESTED_NAME_LEVEL}`,
          );
        }
        const inner = existingMap(data, k);
        const outcome = this.key(inner, level + 1);
        if (outcome === undefined && Object.keys(inner).length === 0) {
          return new StrvalsError(`key map "${k}" has no value`);
        }
        if (Object.keys(inner).length !== 0) set(data, k, inner);
        return outcome;
      }
    }
  }

  private keyIndex(): number | StrvalsError {
    const { text, eof } = this.in.until("]", !this.literal);
    if (eof) return new StrvalsError("error parsing index: EOF");
    if (!/^[+-]?[0-9]+$/.test(text)) {
      return new StrvalsError(
        `error parsing index: strconv.Atoi: parsing "${text}": invalid syntax`,
      );
    }
    return Number(text);
  }

  private listItem(list: unknown[], index: number, level: number): [unknown[], ParseStep] {
    if (index < 0) return [list, new StrvalsError(`negative ${index} index not allowed`)];
    const { text, last, eof } = this.in.until("[.=", !this.literal);
    if (text.length > 0) {
      return [list, new StrvalsError(`unexpected data at end of array index: "${text}"`)];
    }
    if (eof) return [list, EOF];
    switch (last) {
      case "=": {
        if (this.literal) return [setIndex(list, index, this.in.until("", false).text), undefined];
        const values = this.valueList();
        if (Array.isArray(values)) return [setIndex(list, index, values), undefined];
        if (values === EOF) return [setIndex(list, index, ""), undefined];
        if (values instanceof StrvalsError) return [list, values];
        const value = this.convert(this.in.until(",", true).text);
        return [setIndex(list, index, value), undefined];
      }
      case "[": {
        const next = this.keyIndex();
        if (next instanceof StrvalsError) return [list, next];
        let current: unknown[] = [];
        if (list.length > index && list[index] !== null && list[index] !== undefined) {
          const existing = list[index];
          if (!Array.isArray(existing)) {
            throw new StrvalsError(
              `unable to parse key: index ${index} is ${describe(existing)}, not a list`,
            );
          }
          current = existing;
        }
        const [inner, outcome] = this.listItem(current, next, level);
        if (outcome !== undefined) return [list, outcome];
        return [setIndex(list, index, inner), undefined];
      }
      default: {
        // "."
        let inner: Values = {};
        if (list.length > index) {
          const existing = list[index];
          if (isMap(existing)) inner = existing;
          else list[index] = inner;
        }
        const outcome = this.key(inner, level);
        if (outcome !== undefined) return [list, outcome];
        return [setIndex(list, index, inner), undefined];
      }
    }
  }

  /** `{a,b,c}`: the list; NOT_LIST (nothing consumed) when the value is not one. */
  private valueList(): unknown[] | typeof EOF | typeof NOT_LIST | StrvalsError {
    const first = this.in.read();
    if (first === undefined) return EOF;
    if (first !== "{") {
      this.in.unread();
      return NOT_LIST;
    }
    const list: unknown[] = [];
    for (;;) {
      const { text, last, eof } = this.in.until(",}", true);
      if (eof) return new StrvalsError("list must terminate with '}'");
      list.push(this.convert(text));
      if (last === "}") {
        const next = this.in.read();
        if (next !== undefined && next !== ",") this.in.unread();
        return list;
      }
    }
  }
}

/** Apply one `--set` style line (`path=value[,path=value...]`) to `values`. */
export function parseInto(line: string, values: Values, mode: StrvalsMode = "typed"): void {
  try {
    new Parser(line, mode).parse(values);
  } catch (err) {
    if (err instanceof StrvalsError) throw err;
    throw new StrvalsError(`unable to parse key: ${(err as Error).message}`);
  }
}

/**
 * Set `value` at `path` the way Flux does for a valuesFrom `targetPath`: a
 * value wrapped in single or double quotes is set as a string (quotes
 * removed), anything else with typed `--set` semantics; `literal` sets the
 * raw string.
 */
export function setPathValue(values: Values, path: string, value: string, literal = false): void {
  if (literal) {
    parseInto(`${path}=${value}`, values, "literal");
    return;
  }
  const quoted =
    (value.startsWith("'") && value.endsWith("'")) ||
    (value.startsWith('"') && value.endsWith('"'));
  if (quoted) {
    parseInto(`${path}=${value.replace(/^['"]+|['"]+$/g, "")}`, values, "string");
    return;
  }
  parseInto(`${path}=${value}`, values, "typed");
}
