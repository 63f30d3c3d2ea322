/**
 * Git reference resolution, pure: which of a GitRepository's `spec.ref` fields
 * wins, how it maps onto the refs a server advertises, and the revision string
 * Flux would record (`main@sha1:<hash>`, `v1.2.0@sha1:<hash>`, `sha1:<hash>`).
 * Precedence as in Flux: commit, then name, then tag, then semver, then branch
 * (default `master`).
 */
import semver from "semver";
import { ConstraintError, parseConstraint, satisfies, type Constraint } from "../../util/semver.js";

export interface GitRefSpec {
  branch?: string;
  tag?: string;
  semver?: string;
  commit?: string;
  name?: string;
}

export type RefPlan =
  | { kind: "commit"; commit: string; branch?: string }
  | { kind: "name"; name: string }
  | { kind: "tag"; tag: string }
  | { kind: "semver"; range: string }
  | { kind: "branch"; branch: string };

/** Flux's default branch when `spec.ref` names none. */
export const DEFAULT_BRANCH = "master";

export function planRef(ref: GitRefSpec | undefined): RefPlan {
  if (ref?.commit)
    return { kind: "commit", commit: ref.commit, ...(ref.branch ? { branch: ref.branch } : {}) };
  if (ref?.name) return { kind: "name", name: ref.name };
  if (ref?.tag) return { kind: "tag", tag: ref.tag };
  if (ref?.semver) return { kind: "semver", range: ref.semver };
  return { kind: "branch", branch: ref?.branch || DEFAULT_BRANCH };
}

/**
 * True when the plan always resolves to the same commit, so a cached checkout
 * can be used without asking the server: a commit, a tag, a `refs/tags/` name.
 */
export function isImmutable(plan: RefPlan): boolean {
  return (
    plan.kind === "commit" ||
    plan.kind === "tag" ||
    (plan.kind === "name" && plan.name.startsWith("refs/tags/"))
  );
}

/** How the plan reads in messages and cache records: `branch main`, `semver ~1.0`. */
export function describePlan(plan: RefPlan): string {
  switch (plan.kind) {
    case "commit":
      return plan.branch
        ? `commit ${plan.commit} on branch ${plan.branch}`
        : `commit ${plan.commit}`;
    case "name":
      return `ref ${plan.name}`;
    case "tag":
      return `tag ${plan.tag}`;
    case "semver":
      return `semver ${plan.range}`;
    case "branch":
      return `branch ${plan.branch}`;
  }
}

export interface AdvertisedRef {
  ref: string;
  oid: string;
  /** For annotated tags: the commit the tag object points to. */
  peeled?: string;
}

export interface ResolvedRef {
  /** Commit to check out. */
  commit: string;
  /** Flux revision string. */
  revision: string;
  /** Full ref name to fetch (undefined: fetch every branch, for a bare commit). */
  fetchRef?: string;
  /** Whether a depth-1 fetch of `fetchRef` is enough to reach `commit`. */
  shallow: boolean;
}

export type Resolution = { ok: true; value: ResolvedRef } | { ok: false; error: string };

const HASH = /^([0-9a-f]{40}|[0-9a-f]{64})$/;

function hashName(oid: string): string {
  return oid.length === 64 ? "sha256" : "sha1";
}

export function revisionOf(label: string | undefined, commit: string): string {
  const digest = `${hashName(commit)}:${commit}`;
  return label ? `${label}@${digest}` : digest;
}

/** Resolve a plan against the refs a server advertises. */
export function resolveRef(plan: RefPlan, refs: readonly AdvertisedRef[]): Resolution {
  const byName = new Map(refs.map((r) => [r.ref, r]));
  const target = (r: AdvertisedRef) => r.peeled ?? r.oid;
  /** The advertised ref `name`, fetched shallow, as revision `label@sha1:<commit>`. */
  const found = (
    name: string,
    label: string,
    commitOf: (r: AdvertisedRef) => string,
    what = `ref ${name}`,
  ): Resolution => {
    const ref = byName.get(name);
    if (!ref) return { ok: false, error: `${what} not found` };
    const commit = commitOf(ref);
    return {
      ok: true,
      value: { commit, revision: revisionOf(label, commit), fetchRef: ref.ref, shallow: true },
    };
  };
  switch (plan.kind) {
    case "commit": {
      const commit = plan.commit.toLowerCase();
      if (!HASH.test(commit)) {
        return {
          ok: false,
          error: `ref.commit ${plan.commit} is not a full commit hash (40 hex digits)`,
        };
      }
      if (plan.branch) {
        const head = byName.get(`refs/heads/${plan.branch}`);
        if (!head) return { ok: false, error: `branch ${plan.branch} not found` };
        return {
          ok: true,
          value: {
            commit,
            revision: revisionOf(plan.branch, commit),
            fetchRef: head.ref,
            shallow: target(head) === commit,
          },
        };
      }
      return {
        ok: true,
        value: { commit, revision: revisionOf(undefined, commit), shallow: false },
      };
    }
    case "name":
      return found(plan.name, plan.name, (r) => target(r));
    case "tag":
      return found(`refs/tags/${plan.tag}`, plan.tag, (r) => target(r), `tag ${plan.tag}`);
    case "semver": {
      const tags = refs.filter((r) => r.ref.startsWith("refs/tags/") && !r.ref.endsWith("^{}"));
      const picked = pickSemver(
        plan.range,
        tags.map((r) => r.ref.slice("refs/tags/".length)),
      );
      if (!picked.ok) return picked;
      return found(
        `refs/tags/${picked.value}`,
        picked.value,
        (r) => target(r),
        `tag ${picked.value}`,
      );
    }
    case "branch":
      // A branch is the commit it points at (annotated objects are tags only).
      return found(`refs/heads/${plan.branch}`, plan.branch, (r) => r.oid, `branch ${plan.branch}`);
  }
}

const LENIENT_VERSION =
  /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z.-]+))?(?:\+([0-9A-Za-z.-]+))?$/;

/**
 * A tag read as a semantic version, leniently as Masterminds' NewVersion
 * reads it (a leading `v`, and missing minor or patch numbers, are accepted),
 * or undefined. (fluxcd/pkg's ParseVersion, util/semver.ts, is strict.)
 */
export function parseVersion(tag: string): semver.SemVer | undefined {
  const m = LENIENT_VERSION.exec(tag);
  if (!m) return undefined;
  const [, major, minor = "0", patch = "0", pre, build] = m;
  const text = `${major}.${minor}.${patch}${pre ? `-${pre}` : ""}${build ? `+${build}` : ""}`;
  return semver.parse(text) ?? undefined;
}

/**
 * The tag holding the highest version in `range`, as Flux's semver selection
 * picks it for GitRepository and OCIRepository: Masterminds constraints
 * (util/semver.ts), so a pre-release only matches a comparator that names one.
 */
export function pickSemver(
  range: string,
  tags: readonly string[],
): { ok: true; value: string } | { ok: false; error: string } {
  let constraint: Constraint;
  try {
    constraint = parseConstraint(range);
  } catch (err) {
    if (!(err instanceof ConstraintError)) throw err;
    return { ok: false, error: `semver range ${JSON.stringify(range)} is not valid` };
  }
  let best: { tag: string; version: semver.SemVer } | undefined;
  for (const tag of tags) {
    const version = parseVersion(tag);
    if (!version || !satisfies(version, constraint)) continue;
    if (!best || semver.compare(version, best.version) > 0) best = { tag, version };
  }
  if (!best) {
    return {
      ok: false,
      error: `no tag matches semver ${range} (${tags.length} tag${tags.length === 1 ? "" : "s"} seen)`,
    };
  }
  return { ok: true, value: best.tag };
}
