/**
 * The CEL expressions of Flux objects, checked as the controllers check them
 * when they load an object (fluxcd/pkg runtime/cel), with @bufbuild/cel's
 * parser (tested against cel-spec's conformance data and cel-go's parser
 * tests). Offline there is no cluster state to evaluate them against; what is
 * checked:
 *
 * - `spec.dependsOn[].readyExpr` is compiled by Flux with the variables `self`
 *   and `dep` and a bool result: it must parse, name no other variable, and
 *   not be a literal of another type.
 * - `spec.healthCheckExprs[]` (`current` required, `inProgress`, `failed`) are
 *   only parsed by Flux (the object's fields are the variables): they must parse.
 *
 * Flux enables CEL's optional syntax (`a.?b`, `m[?k]`, `{?k: v}`, `[?x]`),
 * which the parser does not read: each such `?` is blanked (same length, so
 * error positions hold) before parsing, which leaves the plain form.
 */
import { createRequire } from "node:module";
import type * as Cel from "@bufbuild/cel";
import type { KubeObject } from "./objects.js";

/**
 * The CEL parser, loaded on first use (it brings protobuf with it): a run
 * whose objects have no expressions never pays for it.
 */
let celModule: typeof Cel | undefined;
function cel(): typeof Cel {
  celModule ??= createRequire(import.meta.url)("@bufbuild/cel") as typeof Cel;
  return celModule;
}

/** A node of a parsed expression (cel.expr.Expr). */
type Expr = NonNullable<ReturnType<typeof Cel.parse>["expr"]>;

/** One invalid expression of an object: where it is in the object and why. */
export interface ExpressionProblem {
  /** Field path, e.g. `spec.dependsOn[0].readyExpr`. */
  field: string;
  /** Path segments of the field (to find its line in the YAML). */
  path: Array<string | number>;
  expression: string;
  message: string;
}

/** Blank the `?` of CEL's optional syntax (outside string literals). */
export function blankOptionalSyntax(expr: string): string {
  const out = expr.split("");
  let i = 0;
  let lastSignificant = "";
  while (i < expr.length) {
    const c = expr.charAt(i);
    const quote = stringStart(expr, i);
    if (quote) {
      i = skipString(expr, i, quote);
      lastSignificant = '"';
      continue;
    }
    if (
      c === "?" &&
      (lastSignificant === "." ||
        lastSignificant === "[" ||
        lastSignificant === "{" ||
        lastSignificant === ",")
    ) {
      out[i] = " ";
      i++;
      continue;
    }
    if (!/\s/.test(c)) lastSignificant = c;
    i++;
  }
  return out.join("");
}

interface Quote {
  /** Characters of the prefix (r, b, rb ...) before the quote. */
  prefix: number;
  delimiter: string;
  raw: boolean;
}

function stringStart(expr: string, i: number): Quote | undefined {
  const m = /^([rRbB]{0,2})("""|'''|"|')/.exec(expr.slice(i, i + 5));
  if (!m) return undefined;
  const prefix = m[1] ?? "";
  // A prefix letter must start a token (not end an identifier such as `ab"`).
  if (prefix && i > 0 && /[\w]/.test(expr.charAt(i - 1))) return undefined;
  return { prefix: prefix.length, delimiter: m[2] ?? '"', raw: /[rR]/.test(prefix) };
}

function skipString(expr: string, start: number, quote: Quote): number {
  let i = start + quote.prefix + quote.delimiter.length;
  while (i < expr.length) {
    if (!quote.raw && expr.charAt(i) === "\\") {
      i += 2;
      continue;
    }
    if (expr.startsWith(quote.delimiter, i)) return i + quote.delimiter.length;
    i++;
  }
  return i;
}

/** Parse a CEL expression; the parser's message when it does not parse. */
export function parseCel(expr: string): { expr: Expr } | { error: string } {
  if (expr.trim() === "") return { error: "the expression is empty" };
  try {
    const parsed = cel().parse(blankOptionalSyntax(expr)).expr;
    return parsed ? { expr: parsed } : { error: "the expression is empty" };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return { error: message.replace(/^<input>:/, "at ") };
  }
}

/**
 * Namespaces of the functions in Flux's CEL environment (optional types, the
 * strings, sets and encoders extensions).
 */
const FUNCTION_NAMESPACES = new Set(["optional", "base64", "sets", "strings"]);

/** Identifiers an expression reads that no variable or comprehension declares. */
export function undeclaredIdentifiers(root: Expr, declared: readonly string[]): string[] {
  const found = new Set<string>();
  const visit = (e: Expr | undefined, scope: ReadonlySet<string>): void => {
    if (!e) return;
    const k = e.exprKind;
    switch (k.case) {
      case "identExpr":
        if (!scope.has(k.value.name)) found.add(k.value.name);
        return;
      case "selectExpr":
        visit(k.value.operand, scope);
        return;
      case "callExpr": {
        // `optional.none()`, `base64.encode(b)`: namespaced functions, not variables.
        const target = k.value.target?.exprKind;
        if (target?.case !== "identExpr" || !FUNCTION_NAMESPACES.has(target.value.name)) {
          visit(k.value.target, scope);
        }
        for (const a of k.value.args) visit(a, scope);
        return;
      }
      case "listExpr":
        for (const el of k.value.elements) visit(el, scope);
        return;
      case "structExpr":
        for (const entry of k.value.entries) {
          if (entry.keyKind.case === "mapKey") visit(entry.keyKind.value, scope);
          visit(entry.value, scope);
        }
        return;
      case "comprehensionExpr": {
        const c = k.value;
        visit(c.iterRange, scope);
        visit(c.accuInit, scope);
        const inner = new Set(scope);
        for (const v of [c.iterVar, c.iterVar2, c.accuVar]) if (v) inner.add(v);
        visit(c.loopCondition, inner);
        visit(c.loopStep, inner);
        visit(c.result, inner);
        return;
      }
      default:
        return;
    }
  };
  visit(root, new Set(declared));
  return [...found];
}

/** Why a top-level expression cannot be a bool, when that is plain from its form. */
function notBool(e: Expr): string | undefined {
  const k = e.exprKind;
  if (k.case === "constExpr" && k.value.constantKind.case !== "boolValue") {
    return `a ${k.value.constantKind.case?.replace(/Value$/, "") ?? "constant"}`;
  }
  if (k.case === "listExpr") return "a list";
  if (k.case === "structExpr") return k.value.messageName ? k.value.messageName : "a map";
  return undefined;
}

/** The error of a `dependsOn[].readyExpr`, or undefined when Flux would compile it. */
export function checkReadyExpr(expr: string): string | undefined {
  const parsed = parseCel(expr);
  if ("error" in parsed) return `invalid CEL: ${parsed.error}`;
  const undeclared = undeclaredIdentifiers(parsed.expr, ["self", "dep"]);
  if (undeclared.length > 0) {
    return `undeclared reference to ${undeclared.map((n) => `'${n}'`).join(", ")} (readyExpr sees only self and dep)`;
  }
  const other = notBool(parsed.expr);
  if (other) return `readyExpr must evaluate to a bool, not ${other}`;
  return undefined;
}

/** The error of a `healthCheckExprs[]` expression, or undefined when it parses. */
export function checkHealthCheckExpr(expr: string): string | undefined {
  const parsed = parseCel(expr);
  return "error" in parsed ? `invalid CEL: ${parsed.error}` : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * The error of a ResourceSet's `dependsOn[].readyExpr`: the Flux Operator
 * parses it (without variables or a result type) when `ready` is true, and
 * ignores it otherwise.
 */
export function checkResourceSetReadyExpr(dep: {
  ready?: boolean | undefined;
  readyExpr?: string | undefined;
}): string | undefined {
  if (dep.ready !== true || !dep.readyExpr) return undefined;
  return checkHealthCheckExpr(dep.readyExpr);
}

/**
 * Every invalid CEL expression of a Flux Kustomization or HelmRelease
 * (`dependsOn[].readyExpr`, `healthCheckExprs[]`) or a Flux Operator
 * ResourceSet (`dependsOn[].readyExpr` with `ready: true`); other objects have none.
 */
export function expressionProblems(object: KubeObject): ExpressionProblem[] {
  const spec = object.spec;
  if (!isRecord(spec)) return [];
  const problems: ExpressionProblem[] = [];
  const add = (path: Array<string | number>, expression: string, message: string) => {
    const field = path
      .map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? p : `.${p}`))
      .join("");
    problems.push({ field, path, expression, message });
  };
  if (object.kind === "ResourceSet" && object.apiVersion?.startsWith("fluxcd.controlplane.io/")) {
    const deps = Array.isArray(spec.dependsOn) ? spec.dependsOn : [];
    deps.forEach((dep, i) => {
      if (!isRecord(dep) || dep.ready !== true || dep.readyExpr === undefined) return;
      const path = ["spec", "dependsOn", i, "readyExpr"];
      if (typeof dep.readyExpr !== "string") {
        add(path, JSON.stringify(dep.readyExpr), "readyExpr must be a string");
        return;
      }
      const error = checkResourceSetReadyExpr({ ready: true, readyExpr: dep.readyExpr });
      if (error) add(path, dep.readyExpr, error);
    });
    return problems;
  }
  if (object.kind !== "Kustomization" && object.kind !== "HelmRelease") return [];
  const dependsOn = Array.isArray(spec.dependsOn) ? spec.dependsOn : [];
  dependsOn.forEach((dep, i) => {
    if (!isRecord(dep) || dep.readyExpr === undefined) return;
    const path = ["spec", "dependsOn", i, "readyExpr"];
    if (typeof dep.readyExpr !== "string") {
      add(path, JSON.stringify(dep.readyExpr), "readyExpr must be a string");
      return;
    }
    const error = checkReadyExpr(dep.readyExpr);
    if (error) add(path, dep.readyExpr, error);
  });
  const exprs = Array.isArray(spec.healthCheckExprs) ? spec.healthCheckExprs : [];
  exprs.forEach((entry, i) => {
    if (!isRecord(entry)) return;
    if (entry.current === undefined) {
      add(["spec", "healthCheckExprs", i], "", "the expression `current` is required");
    }
    for (const key of ["current", "inProgress", "failed"] as const) {
      const value = entry[key];
      if (value === undefined) continue;
      const path = ["spec", "healthCheckExprs", i, key];
      if (typeof value !== "string") {
        add(path, JSON.stringify(value), `${key} must be a string`);
        continue;
      }
      const error = checkHealthCheckExpr(value);
      if (error) add(path, value, error);
    }
  });
  return problems;
}
