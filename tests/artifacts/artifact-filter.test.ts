import { describe, expect, it } from "vitest";
import { ArtifactFilter } from "../../src/artifacts/git/ignore.js";

describe("ArtifactFilter", () => {
  it("applies Flux's default exclusions", () => {
    const f = ArtifactFilter.create();
    expect(f.ignores(".git", true)).toBe(true);
    expect(f.ignores(".github", true)).toBe(true);
    expect(f.ignores("docs/logo.png", false)).toBe(true);
    expect(f.ignores("deep/dir/.sops.yaml", false)).toBe(true);
    expect(f.ignores("charts/app-1.0.0.tar.gz", false)).toBe(true);
    expect(f.ignores(".gitignore", false)).toBe(true);
    expect(f.ignores("apps/deployment.yaml", false)).toBe(false);
    expect(f.ignores("apps", true)).toBe(false);
  });

  it("scopes a .sourceignore to its directory", () => {
    const f = ArtifactFilter.create({
      sourceignores: new Map([
        ["", "/tests/\n*.md\n"],
        ["apps", "secret*.yaml\n"],
      ]),
    });
    expect(f.ignores("tests", true)).toBe(true);
    expect(f.ignores("apps/tests", true)).toBe(false);
    expect(f.ignores("README.md", false)).toBe(true);
    expect(f.ignores("apps/secret-db.yaml", false)).toBe(true);
    expect(f.ignores("infra/secret-db.yaml", false)).toBe(false);
  });

  it("lets spec.ignore come last: it can bring back a default exclusion", () => {
    const f = ArtifactFilter.create({
      sourceignores: new Map([["", "*.yaml\n"]]),
      specIgnore: "!keep.yaml\n!*.png\n",
    });
    expect(f.ignores("drop.yaml", false)).toBe(true);
    expect(f.ignores("keep.yaml", false)).toBe(false);
    expect(f.ignores("logo.png", false)).toBe(false);
  });

  it("lets a child .sourceignore re-include what its parent excludes", () => {
    const f = ArtifactFilter.create({
      sourceignores: new Map([
        ["apps/base", "!*.txt\n"],
        ["", "*.txt\n"],
      ]),
    });
    expect(f.ignores("notes.txt", false)).toBe(true);
    expect(f.ignores("apps/base/notes.txt", false)).toBe(false);
  });

  it("ignores whole directories with a trailing slash pattern", () => {
    const f = ArtifactFilter.create({ specIgnore: "clusters/**/flux-system/\n" });
    expect(f.ignores("clusters/prod/flux-system", true)).toBe(true);
    expect(f.ignores("clusters/prod/flux-system", false)).toBe(false);
  });
});
