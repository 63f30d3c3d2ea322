import { describe, expect, it } from "vitest";
import { isExactVersion, resolveVersion } from "../../src/artifacts/charts/version.js";
import { ConstraintError, parseConstraint, satisfies } from "../../src/util/semver.js";
import semver from "semver";

const check = (constraint: string, version: string) =>
  satisfies(new semver.SemVer(version), parseConstraint(constraint));

describe("chart version constraints (Masterminds semantics)", () => {
  it.each([
    // [constraint, version, matches]
    ["1.2.3", "1.2.3", true],
    ["=1.2.3", "1.2.4", false],
    ["1.2", "1.2.9", true], // a partial version is a tilde range
    ["1.2", "1.3.0", false],
    ["1", "1.9.0", true],
    ["1.x", "1.4.0", true],
    ["1.2.x", "1.3.0", false],
    ["*", "0.0.1", true],
    ["*", "1.0.0-rc.1", false], // pre-releases need a pre-release comparator
    [">=1.0.0-0", "1.0.0-rc.1", true],
    ["~1.2.3", "1.2.9", true],
    ["~1.2.3", "1.3.0", false],
    ["~1", "1.9.9", true],
    ["^1.2.3", "1.9.0", true],
    ["^1.2.3", "2.0.0", false],
    ["^0.2.3", "0.2.9", true],
    ["^0.2.3", "0.3.0", false],
    ["^0.0.3", "0.0.4", false],
    [">1.2", "1.2.9", false], // > with a dirty minor: the next minor
    [">1.2", "1.3.0", true],
    [">11", "11.1.0", false],
    ["<=1.2", "1.2.9", true],
    ["<=1.2", "1.3.0", false],
    [">=1.0.0, <2.0.0", "1.5.0", true], // comma is AND
    [">=1.0.0 <2.0.0", "2.0.0", false], // space is AND
    ["<1.0.0 || >=2.0.0", "2.1.0", true],
    ["1.0.0 - 1.4.0", "1.4.0", true],
    ["1.0.0 - 1.4.0", "1.4.1", false],
    ["!=1.2.3", "1.2.3", false],
    ["!=1.2.x", "1.3.0", true],
    ["v1.2.3", "1.2.3", true],
    ["1.2.3", "1.2.3+build.5", true], // build metadata does not take part
  ])("%s on %s is %s", (constraint, version, expected) => {
    expect(check(constraint, version)).toBe(expected);
  });

  it("refuses what is not a constraint", () => {
    expect(() => parseConstraint("latest")).toThrow(ConstraintError);
    expect(() => parseConstraint(">= a.b")).toThrow(ConstraintError);
  });

  it("tells exact versions from ranges", () => {
    expect(isExactVersion("6.5.4")).toBe(true);
    expect(isExactVersion("v6.5.4")).toBe(true);
    expect(isExactVersion("6.5.4-rc.1+b")).toBe(true);
    expect(isExactVersion("6.5")).toBe(false);
    expect(isExactVersion(">=6")).toBe(false);
    expect(isExactVersion(undefined)).toBe(false);
  });
});

describe("resolveVersion (source-controller's choice)", () => {
  const versions = ["2.0.0-rc.1", "1.10.0", "1.9.3", "1.2.0", "0.9.0", "not-semver"].map(
    (version) => ({
      version,
    }),
  );

  it("takes the highest stable version by default", () => {
    expect(resolveVersion(versions, undefined)?.version).toBe("1.10.0");
    expect(resolveVersion(versions, "*")?.version).toBe("1.10.0");
    expect(resolveVersion(versions, "")?.version).toBe("1.10.0");
  });

  it("takes the highest version in a range, pre-releases only when asked", () => {
    expect(resolveVersion(versions, "~1.9")?.version).toBe("1.9.3");
    expect(resolveVersion(versions, ">=1.0.0-0")?.version).toBe("2.0.0-rc.1");
    expect(resolveVersion(versions, "<1")?.version).toBe("0.9.0");
    expect(resolveVersion(versions, "3.x")).toBeUndefined();
  });

  it("prefers an exact string match, even a non-semver one", () => {
    expect(resolveVersion(versions, "not-semver")?.version).toBe("not-semver");
    expect(resolveVersion(versions, "1.2.0")?.version).toBe("1.2.0");
  });

  it("orders versions equal but for build metadata by creation time", () => {
    const built = [
      { version: "1.0.0+a", created: "2024-01-01T00:00:00Z" },
      { version: "1.0.0+b", created: "2024-06-01T00:00:00Z" },
    ];
    expect(resolveVersion(built, "1.0.0")?.version).toBe("1.0.0+b");
  });

  it("throws on an invalid constraint", () => {
    expect(() => resolveVersion(versions, "latest")).toThrow(ConstraintError);
  });
});
