import semver from "semver";
import { describe, expect, it } from "vitest";
import {
  describePlan,
  isImmutable,
  parseVersion,
  pickSemver,
  planRef,
  resolveRef,
  type AdvertisedRef,
} from "../../src/artifacts/git/refs.js";
import { parseConstraint, satisfies } from "../../src/util/semver.js";

const A = "a".repeat(40);
const B = "b".repeat(40);
const C = "c".repeat(40);
const T = "d".repeat(40);

const refs: AdvertisedRef[] = [
  { ref: "HEAD", oid: A },
  { ref: "refs/heads/main", oid: A },
  { ref: "refs/heads/dev", oid: B },
  { ref: "refs/tags/v1.0.0", oid: B },
  // annotated: the tag object, peeled to its commit
  { ref: "refs/tags/v1.1.0", oid: T, peeled: C },
  { ref: "refs/tags/v2.0.0-rc.1", oid: A },
  { ref: "refs/tags/not-a-version", oid: A },
  { ref: "refs/pull/7/head", oid: C },
];

describe("planRef", () => {
  it("follows Flux's precedence: commit, name, tag, semver, branch", () => {
    expect(
      planRef({ commit: A, name: "refs/heads/x", tag: "t", semver: "*", branch: "b" }),
    ).toEqual({ kind: "commit", commit: A, branch: "b" });
    expect(planRef({ name: "refs/heads/x", tag: "t", semver: "*" }).kind).toBe("name");
    expect(planRef({ tag: "t", semver: "*", branch: "b" }).kind).toBe("tag");
    expect(planRef({ semver: "*", branch: "b" }).kind).toBe("semver");
    expect(planRef({ branch: "b" })).toEqual({ kind: "branch", branch: "b" });
  });
  it("defaults to the master branch", () => {
    expect(planRef(undefined)).toEqual({ kind: "branch", branch: "master" });
    expect(planRef({})).toEqual({ kind: "branch", branch: "master" });
  });
  it("knows which references never move", () => {
    expect(isImmutable(planRef({ commit: A }))).toBe(true);
    expect(isImmutable(planRef({ tag: "v1" }))).toBe(true);
    expect(isImmutable(planRef({ name: "refs/tags/v1" }))).toBe(true);
    expect(isImmutable(planRef({ name: "refs/heads/main" }))).toBe(false);
    expect(isImmutable(planRef({ semver: "1.x" }))).toBe(false);
    expect(isImmutable(planRef({ branch: "main" }))).toBe(false);
    expect(describePlan(planRef({ semver: "~1.0" }))).toBe("semver ~1.0");
  });
});

describe("resolveRef", () => {
  it("resolves a branch to its tip with a Flux revision", () => {
    expect(resolveRef(planRef({ branch: "dev" }), refs)).toEqual({
      ok: true,
      value: { commit: B, revision: `dev@sha1:${B}`, fetchRef: "refs/heads/dev", shallow: true },
    });
  });
  it("peels annotated tags", () => {
    const r = resolveRef(planRef({ tag: "v1.1.0" }), refs);
    expect(r.ok && r.value).toMatchObject({ commit: C, revision: `v1.1.0@sha1:${C}` });
  });
  it("picks the newest tag in a semver range, ignoring pre-releases and non-versions", () => {
    const r = resolveRef(planRef({ semver: ">=1.0.0" }), refs);
    expect(r.ok && r.value).toMatchObject({ commit: C, revision: `v1.1.0@sha1:${C}` });
    const pre = resolveRef(planRef({ semver: ">=2.0.0-rc.0" }), refs);
    expect(pre.ok && pre.value.revision).toBe(`v2.0.0-rc.1@sha1:${A}`);
  });
  it("resolves a full ref name", () => {
    const r = resolveRef(planRef({ name: "refs/pull/7/head" }), refs);
    expect(r.ok && r.value).toMatchObject({ commit: C, revision: `refs/pull/7/head@sha1:${C}` });
  });
  it("takes a commit as it is, on its branch when one is given", () => {
    expect(resolveRef(planRef({ commit: C }), refs)).toEqual({
      ok: true,
      value: { commit: C, revision: `sha1:${C}`, shallow: false },
    });
    const onBranch = resolveRef(planRef({ commit: C, branch: "main" }), refs);
    expect(onBranch.ok && onBranch.value).toMatchObject({
      revision: `main@sha1:${C}`,
      fetchRef: "refs/heads/main",
      shallow: false,
    });
    const tip = resolveRef(planRef({ commit: A, branch: "main" }), refs);
    expect(tip.ok && tip.value.shallow).toBe(true);
  });
  it.each([
    [{ branch: "nope" }, "branch nope not found"],
    [{ tag: "v9" }, "tag v9 not found"],
    [{ name: "refs/heads/nope" }, "ref refs/heads/nope not found"],
    [{ semver: ">=3.0.0" }, "no tag matches semver >=3.0.0 (4 tags seen)"],
    [{ semver: "not a range!" }, 'semver range "not a range!" is not valid'],
    [{ commit: "abc123" }, "not a full commit hash"],
    [{ commit: A, branch: "nope" }, "branch nope not found"],
  ])("reports %j: %s", (ref, message) => {
    const r = resolveRef(planRef(ref), refs);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toContain(message);
  });
});

describe("semver selection", () => {
  it("reads tags leniently, like Flux", () => {
    expect(parseVersion("v1.2.3")?.version).toBe("1.2.3");
    expect(parseVersion("1.2")?.version).toBe("1.2.0");
    expect(parseVersion("v2")?.version).toBe("2.0.0");
    expect(parseVersion("1.2.3-rc.1+build.5")?.version).toBe("1.2.3-rc.1");
    expect(parseVersion("release-1.2.3")).toBeUndefined();
    expect(parseVersion("latest")).toBeUndefined();
  });
  it("accepts Flux's comma-separated constraints", () => {
    const test = (range: string, version: string) =>
      satisfies(new semver.SemVer(version), parseConstraint(range));
    expect(test(">=1.0.0, <2.0.0", "1.5.0")).toBe(true);
    expect(test(">=1.0.0, <2.0.0", "2.0.0")).toBe(false);
    expect(test("1.x || >=3.0.0", "3.1.0")).toBe(true);
  });
  it("picks the highest matching version", () => {
    expect(pickSemver("~1.2", ["1.2.0", "v1.2.9", "1.3.0", "1.2.10"])).toEqual({
      ok: true,
      value: "1.2.10",
    });
    expect(pickSemver("*", [])).toEqual({
      ok: false,
      error: "no tag matches semver * (0 tags seen)",
    });
  });
});
