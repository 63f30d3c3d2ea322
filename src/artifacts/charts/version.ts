/**
 * Chart version resolution as Flux's source-controller does it: an exact
 * string match first, and otherwise the highest version matching the
 * constraint (Masterminds/semver rules, util/semver.ts). Pure functions.
 */
import semver from "semver";
import { parseConstraint, parseVersion, satisfies } from "../../util/semver.js";

/** True when `text` names one exact version (not a range). */
export function isExactVersion(text: string | undefined): text is string {
  return text !== undefined && parseVersion(text) !== undefined;
}

export interface Candidate {
  version: string;
  /** Creation time (index `created`), to order versions equal but for build metadata. */
  created?: string;
}

/**
 * The candidate Flux would choose for `wanted` (a constraint, an exact
 * version, or empty/`*` for the latest stable one). Throws ConstraintError for
 * an invalid constraint; returns undefined when nothing matches.
 */
export function resolveVersion<C extends Candidate>(
  candidates: readonly C[],
  wanted: string | undefined,
): C | undefined {
  const text = (wanted ?? "").trim();
  if (text !== "") {
    const exact = candidates.find((c) => c.version === text);
    if (exact) return exact;
  }
  const constraint = parseConstraint(text === "" ? "*" : text);
  let best: { candidate: C; version: semver.SemVer } | undefined;
  for (const candidate of candidates) {
    const version = parseVersion(candidate.version);
    if (!version || !satisfies(version, constraint)) continue;
    if (!best) {
      best = { candidate, version };
      continue;
    }
    const order = semver.compare(version, best.version);
    if (order > 0 || (order === 0 && newer(candidate.created, best.candidate.created))) {
      best = { candidate, version };
    }
  }
  return best?.candidate;
}

function newer(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b) return false;
  return Date.parse(a) > Date.parse(b);
}
