/**
 * The ArtifactGenerator copy semantics (source-watcher's builder), on real
 * directories: cp-like single copies, Go fs.Glob matching, `dir/**`
 * stripping, exclusions, Merge and Extract, and the errors it reports.
 */
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, realpath, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  applyCopyOperations,
  excluded,
  goGlob,
  hashDirectory,
} from "../../src/artifacts/generator.js";
import type { CopyOperation } from "../../src/flux/schema.js";

const temps: string[] = [];
afterEach(async () => {
  await Promise.all(temps.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function tree(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(path.join(os.tmpdir(), "generator-"));
  temps.push(root);
  for (const [rel, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, rel)), { recursive: true });
    await writeFile(path.join(root, rel), content);
  }
  return root;
}

async function list(dir: string, rel = ""): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(path.join(dir, rel), { withFileTypes: true })) {
    const child = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await list(dir, child)));
    else out.push(child);
  }
  return out.sort();
}

const repo = {
  "deploy/app.yaml": "a: 1\n",
  "deploy/README.md": "docs\n",
  "deploy/sub/svc.yaml": "b: 2\n",
  "deploy/sub/testdata/x.yaml": "x\n",
  "config.yaml": "c: 3\n",
  "values.yaml": "image:\n  tag: v1\n  pullPolicy: Always\nlist: [1, 2]\n",
  ".git/HEAD": "ref\n",
};

async function build(ops: CopyOperation[], files = repo): Promise<string[]> {
  const src = await tree(files);
  const out = await tree({});
  await applyCopyOperations(ops, new Map([["repo", src]]), path.join(out, "artifact"));
  return list(path.join(out, "artifact"));
}

describe("ArtifactGenerator copy operations", () => {
  it("copies like cp: a file to a path, into a directory, a directory as a sub-directory", async () => {
    expect(await build([{ from: "@repo/config.yaml", to: "@artifact/apps/app.yaml" }])).toEqual([
      "apps/app.yaml",
    ]);
    expect(await build([{ from: "@repo/config.yaml", to: "@artifact/apps/" }])).toEqual([
      "apps/config.yaml",
    ]);
    expect(await build([{ from: "@repo/deploy/", to: "@artifact/apps/" }])).toEqual([
      "apps/deploy/README.md",
      "apps/deploy/app.yaml",
      "apps/deploy/sub/svc.yaml",
      "apps/deploy/sub/testdata/x.yaml",
    ]);
  });

  it("strips the prefix of dir/** and keeps the match path of other globs", async () => {
    expect(await build([{ from: "@repo/deploy/**", to: "@artifact/" }])).toEqual([
      "README.md",
      "app.yaml",
      "sub/svc.yaml",
      "sub/testdata/x.yaml",
    ]);
    expect(await build([{ from: "@repo/deploy/*.yaml", to: "@artifact/out/" }])).toEqual([
      "out/deploy/app.yaml",
    ]);
    // ** does not cross directories (Go's fs.Glob): deploy/**/*.yaml is deploy/*/*.yaml.
    expect(await build([{ from: "@repo/deploy/**/*.yaml", to: "@artifact/" }])).toEqual([
      "deploy/sub/svc.yaml",
    ]);
    // The source's .git is never copied.
    expect(await build([{ from: "@repo/**", to: "@artifact/" }])).not.toContain(".git/HEAD");
  });

  it("excludes by path (doublestar) and by file name", async () => {
    expect(
      await build([
        { from: "@repo/deploy/**", to: "@artifact/", exclude: ["*.md", "**/testdata/**"] },
      ]),
    ).toEqual(["app.yaml", "sub/svc.yaml"]);
    expect(excluded("a/b/c.md", ["*.md"])).toBe(true);
    expect(excluded("a/testdata/x", ["**/testdata/**"])).toBe(true);
    expect(excluded("a/b.yaml", ["*.md"])).toBe(false);
  });

  it("merges YAML with the Merge strategy: maps deep, lists replaced", async () => {
    const src = await tree({ ...repo, "prod.yaml": "image:\n  tag: v2\nlist: [3]\n" });
    const out = await tree({});
    const dir = path.join(out, "artifact");
    const origins = new Map<string, string>();
    await applyCopyOperations(
      [
        { from: "@repo/values.yaml", to: "@artifact/chart/values.yaml" },
        { from: "@repo/prod.yaml", to: "@artifact/chart/values.yaml", strategy: "Merge" },
        { from: "@repo/deploy/**", to: "@artifact/apps/" },
      ],
      new Map([["repo", src]]),
      dir,
      origins,
    );
    expect(await readFile(path.join(dir, "chart/values.yaml"), "utf8")).toBe(
      "image:\n  pullPolicy: Always\n  tag: v2\nlist:\n  - 3\n",
    );
    // Where each file came from (a merged file: the first one copied there).
    const real = await realpath(src);
    expect(Object.fromEntries(origins)).toMatchObject({
      "chart/values.yaml": path.join(real, "values.yaml"),
      "apps/app.yaml": path.join(real, "deploy/app.yaml"),
      "apps/sub/svc.yaml": path.join(real, "deploy/sub/svc.yaml"),
    });
  });

  it("extracts tarballs with the Extract strategy and skips other files", async () => {
    const chart = await tree({ "podinfo/Chart.yaml": "name: podinfo\n" });
    const src = await tree({ "charts/keep.txt": "x\n" });
    execFileSync("tar", [
      "-czf",
      path.join(src, "charts/podinfo-1.0.0.tgz"),
      "-C",
      chart,
      "podinfo",
    ]);
    const out = await tree({});
    const dir = path.join(out, "artifact");
    await applyCopyOperations(
      [{ from: "@repo/charts/*.tgz", to: "@artifact/", strategy: "Extract" }],
      new Map([["repo", src]]),
      dir,
    );
    expect(await list(dir)).toEqual(["podinfo/Chart.yaml"]);
  });

  it("names the operation that fails and why", async () => {
    await expect(build([{ from: "@repo/nothing/*.yaml", to: "@artifact/" }])).rejects.toThrow(
      "copy from '@repo/nothing/*.yaml' to '@artifact/': no files match pattern 'nothing/*.yaml' in source 'repo'",
    );
    await expect(build([{ from: "@repo/missing.yaml", to: "@artifact/" }])).rejects.toThrow(
      "source 'missing.yaml' does not exist",
    );
    await expect(build([{ from: "@other/x", to: "@artifact/" }])).rejects.toThrow(
      "source alias 'other' not found",
    );
    await expect(
      build([{ from: "@repo/deploy/*.md", to: "@artifact/", exclude: ["*.md"] }]),
    ).rejects.toThrow("were excluded");
    await expect(build([{ from: "@repo/../etc/passwd", to: "@artifact/" }])).rejects.toThrow(
      "outside the source",
    );
    await expect(build([{ from: "@repo/config.yaml", to: "@artifact/../x" }])).rejects.toThrow(
      "outside the artifact",
    );
  });

  it("globs as Go's fs.Glob and hashes content deterministically", async () => {
    const src = await tree(repo);
    expect(await goGlob(src, "deploy/*")).toEqual([
      "deploy/README.md",
      "deploy/app.yaml",
      "deploy/sub",
    ]);
    expect(await goGlob(src, "*/sub/*.yaml")).toEqual(["deploy/sub/svc.yaml"]);
    const a = await tree({ "x/y.yaml": "1\n" });
    const b = await tree({ "x/y.yaml": "1\n" });
    const c = await tree({ "x/y.yaml": "2\n" });
    expect(await hashDirectory(a)).toBe(await hashDirectory(b));
    expect(await hashDirectory(a)).not.toBe(await hashDirectory(c));
  });
});
