/**
 * Semantic versions and constraints as Flux reads them: Go's
 * Masterminds/semver v3, whose constraints differ from npm's (commas and
 * spaces are AND, `1.2` means `~1.2`, a pre-release only matches a comparator
 * that itself names a pre-release). source-controller uses these rules for
 * chart versions and for the `ref.semver` of GitRepository and OCIRepository
 * alike. Pure functions over npm semver's SemVer.
 */
import semver from "semver";

// The grammar of a version inside a constraint (Masterminds' `cvRegex`).
const CV =
  String.raw`v?([0-9|x|X|\*]+)(\.[0-9|x|X|\*]+)?(\.[0-9|x|X|\*]+)?` +
  String.raw`(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?` +
  String.raw`(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?`;
// Operators; the empty alternative means "=" (alternatives are tried in order).
const OPS = String.raw`=||!=|>|<|>=|=>|<=|=<|~|~>|\^`;

const SINGLE = new RegExp(String.raw`^\s*(${OPS})\s*(${CV})\s*$`);
const RANGE = new RegExp(String.raw`\s*(${CV})\s+-\s+(${CV})\s*`, "g");
const FIND = new RegExp(String.raw`(${OPS})\s*(${CV})`, "g");
const VALID = new RegExp(
  String.raw`^(\s*(${OPS})\s*(${CV})\s*)((?:\s+|,\s*)(${OPS})\s*(${CV})\s*)*$`,
);

interface Comparator {
  op: string;
  /** The version compared against (wildcards filled with zeros). */
  version: semver.SemVer;
  /** Original text, for messages. */
  text: string;
  dirty: boolean;
  minorDirty: boolean;
  patchDirty: boolean;
}

/** A parsed constraint: OR of ANDs of comparators. */
export interface Constraint {
  text: string;
  groups: Comparator[][];
}

export class ConstraintError extends Error {}

const isX = (part: string | undefined) => part === "x" || part === "X" || part === "*";

function parseComparator(text: string): Comparator {
  const m = SINGLE.exec(text);
  if (!m) throw new ConstraintError(`improper constraint: ${text}`);
  const op = m[1] ?? "";
  const major = m[3] ?? "";
  const minor = (m[4] ?? "").replace(/^\./, "");
  const patch = (m[5] ?? "").replace(/^\./, "");
  const pre = m[6] ?? "";
  let version = m[2] ?? "";
  let dirty = false;
  let minorDirty = false;
  let patchDirty = false;
  if (isX(major) || major === "") {
    version = `0.0.0${pre}`;
    dirty = true;
  } else if (isX(minor) || minor === "") {
    version = `${major}.0.0${pre}`;
    dirty = minorDirty = true;
  } else if (isX(patch) || patch === "") {
    version = `${major}.${minor}.0${pre}`;
    dirty = patchDirty = true;
  }
  const parsed = semver.parse(version.replace(/^v/, ""), { loose: true });
  if (!parsed) throw new ConstraintError(`improper constraint: ${text}`);
  return { op, version: parsed, text: m[2] ?? "", dirty, minorDirty, patchDirty };
}

/** Parse a constraint string; throws ConstraintError when it is not one. */
export function parseConstraint(text: string): Constraint {
  const rewritten = text.replace(RANGE, (_all, from: string, ...rest: unknown[]) => {
    // Group 11 is the second version (the first one spans groups 1 to 10).
    const to = rest[9] as string;
    return `>= ${from}, <= ${to}`;
  });
  const groups = rewritten.split("||").map((part) => {
    if (!VALID.test(part)) throw new ConstraintError(`improper constraint: ${part}`);
    const found = part.match(FIND) ?? [part];
    return found.map(parseComparator);
  });
  return { text, groups };
}

function cmp(a: semver.SemVer, b: semver.SemVer): number {
  return semver.compare(a, b);
}

function tilde(v: semver.SemVer, c: Comparator): boolean {
  if (cmp(v, c.version) < 0) return false;
  const con = c.version;
  if (con.major === 0 && con.minor === 0 && con.patch === 0 && !c.minorDirty && !c.patchDirty) {
    return true;
  }
  if (v.major !== con.major) return false;
  if (v.minor !== con.minor && !c.minorDirty) return false;
  return true;
}

function check(v: semver.SemVer, c: Comparator): boolean {
  const con = c.version;
  // A pre-release only satisfies comparators that are looking for one.
  if (v.prerelease.length > 0 && con.prerelease.length === 0) return false;
  switch (c.op) {
    case "":
    case "=":
      return c.dirty ? tilde(v, c) : cmp(v, con) === 0;
    case "!=":
      if (c.dirty) {
        if (con.major !== v.major) return true;
        if (con.minor !== v.minor && !c.minorDirty) return true;
        if (c.minorDirty) return false;
        if (con.patch !== v.patch && !c.patchDirty) return true;
        if (c.patchDirty) {
          return v.comparePre(con) !== 0;
        }
      }
      return cmp(v, con) !== 0;
    case ">":
      if (!c.dirty) return cmp(v, con) > 0;
      if (v.major > con.major) return true;
      if (v.major < con.major) return false;
      if (c.minorDirty) return false;
      if (c.patchDirty) return v.minor > con.minor;
      return cmp(v, con) > 0;
    case "<":
      return cmp(v, con) < 0;
    case ">=":
    case "=>":
      return cmp(v, con) >= 0;
    case "<=":
    case "=<":
      if (!c.dirty) return cmp(v, con) <= 0;
      if (v.major > con.major) return false;
      if (v.major === con.major && v.minor > con.minor && !c.minorDirty) return false;
      return true;
    case "~":
    case "~>":
      return tilde(v, c);
    case "^":
      if (cmp(v, con) < 0) return false;
      if (con.major > 0 || c.minorDirty) return v.major === con.major;
      if (v.major > 0) return false;
      if (con.minor > 0 || c.patchDirty) return v.minor === con.minor;
      if (v.minor > 0) return false;
      return v.patch === con.patch;
    default:
      return false;
  }
}

export function satisfies(version: semver.SemVer, constraint: Constraint): boolean {
  return constraint.groups.some((group) => group.every((c) => check(version, c)));
}

/**
 * Parse a version the way Flux does (fluxcd/pkg/version: strict semver, a
 * leading `v` allowed); undefined when it is not one.
 */
export function parseVersion(text: string): semver.SemVer | undefined {
  if (!/^v?\d/.test(text)) return undefined;
  return semver.parse(text.replace(/^v/, "")) ?? undefined;
}
