/**
 * The render cache: a second run with nothing changed starts no kustomize; a
 * change to one file re-builds only the Kustomizations that read it (through
 * `../base` too); --no-cache neither reads nor writes it. Counted with one
 * kustomize process per build (FLUX_LOCAL_KUSTOMIZE_WORKER=0) so every build
 * shows.
 */
import { mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { onCommand } from "../../src/exec/run.js";
import { render, type RenderRequest } from "../../src/run.js";
import { runCli } from "../support/cli.js";
import { bootstrap, configMap, fluxKustomization, useTempRepos } from "../support/repo.js";

describe("render cache", () => {
  const makeRepo = useTempRepos();
  let cacheDir: string;
  let saved: string | undefined;
  beforeEach(async () => {
    cacheDir = await mkdtemp(path.join(os.tmpdir(), "flux-local-render-cache-"));
    saved = process.env.FLUX_LOCAL_KUSTOMIZE_WORKER;
    process.env.FLUX_LOCAL_KUSTOMIZE_WORKER = "0";
  });
  afterEach(async () => {
    if (saved === undefined) delete process.env.FLUX_LOCAL_KUSTOMIZE_WORKER;
    else process.env.FLUX_LOCAL_KUSTOMIZE_WORKER = saved;
    await rm(cacheDir, { recursive: true, force: true });
  });

  const repoFiles = () => ({
    "clusters/prod/flux-system.yaml": bootstrap(),
    "clusters/prod/apps.yaml":
      fluxKustomization("one", { path: "./apps/one", targetNamespace: "one" }) +
      fluxKustomization("two", { path: "./apps/two", targetNamespace: "two" }) +
      fluxKustomization("three", {
        path: "./apps/three",
        postBuild: { substitute: { greeting: "hello" } },
      }),
    "apps/base/kustomization.yaml": "resources: [cm.yaml]\n",
    "apps/base/cm.yaml": configMap("base", { a: "1" }),
    "apps/one/kustomization.yaml": "resources: [../base]\n",
    "apps/two/kustomization.yaml": "resources: [../base, extra.yaml]\n",
    "apps/two/extra.yaml": configMap("extra", { b: "2" }),
    "apps/three/kustomization.yaml": "resources: [cm.yaml]\n",
    "apps/three/cm.yaml": configMap("three", { text: "${greeting}" }),
  });

  async function counted(request: RenderRequest) {
    let kustomize = 0;
    const stop = onCommand(({ argv }) => {
      if (argv.includes("build")) kustomize++;
    });
    try {
      const result = await render({ cacheDir, ...request });
      const snapshot = stringify(
        [...result.store.list()]
          .sort((a, b) => a.key.localeCompare(b.key))
          .map((e) => ({ key: e.key, phase: e.status.phase, artifact: e.artifact })),
      );
      return { kustomize, snapshot, result };
    } finally {
      stop();
    }
  }

  it("gives the same output warm, with no kustomize at all", async () => {
    const repo = await makeRepo(repoFiles());
    const cold = await counted({ path: "clusters/prod", cwd: repo.root });
    expect(cold.kustomize).toBe(4);
    const warm = await counted({ path: "clusters/prod", cwd: repo.root });
    expect(warm.kustomize).toBe(0);
    expect(warm.snapshot).toBe(cold.snapshot);
    expect(warm.result.store.get("ConfigMap/three/three") ?? warm.snapshot).toBeTruthy();
  });

  it("re-builds only what reads a changed file", async () => {
    const repo = await makeRepo(repoFiles());
    await counted({ path: "clusters/prod", cwd: repo.root });

    await writeFile(path.join(repo.root, "apps/two/extra.yaml"), configMap("extra", { b: "3" }));
    const one = await counted({ path: "clusters/prod", cwd: repo.root });
    expect(one.kustomize).toBe(1);
    expect(one.snapshot).toContain('b: "3"');

    await writeFile(path.join(repo.root, "apps/base/cm.yaml"), configMap("base", { a: "9" }));
    const base = await counted({ path: "clusters/prod", cwd: repo.root });
    expect(base.kustomize).toBe(2); // one and two read ../base
    expect(base.snapshot).toContain('a: "9"');
    expect(base.snapshot).not.toContain('a: "1"');
  });

  it("re-builds when a file named inside a generator config changes", async () => {
    const repo = await makeRepo({
      "clusters/prod/flux-system.yaml": bootstrap(),
      "clusters/prod/apps.yaml": fluxKustomization("gen", { path: "./apps/gen" }),
      "apps/gen/kustomization.yaml": "generators: [gen.yaml]\n",
      "apps/gen/gen.yaml":
        "apiVersion: builtin\nkind: ConfigMapGenerator\nmetadata:\n  name: generated\n  namespace: default\nfiles:\n  - ../shared/data.txt\noptions:\n  disableNameSuffixHash: true\n",
      "apps/shared/data.txt": "first\n",
    });
    const cold = await counted({ path: "clusters/prod", cwd: repo.root });
    expect(cold.snapshot).toContain("first");
    await writeFile(path.join(repo.root, "apps/shared/data.txt"), "second\n");
    const warm = await counted({ path: "clusters/prod", cwd: repo.root });
    expect(warm.kustomize).toBe(1);
    expect(warm.snapshot).toContain("second");
    expect(warm.snapshot).not.toContain("first");
  });

  it("re-builds when a file reached through a linked folder changes", async () => {
    const repo = await makeRepo({
      "clusters/prod/flux-system.yaml": bootstrap(),
      "clusters/prod/apps.yaml": fluxKustomization("one", { path: "./apps/one" }),
      "apps/one/kustomization.yaml": "resources: [base]\n",
      "apps/one/base": { symlink: "../../shared/base" },
      // Relative to where the base really is: shared/common, not apps/common.
      "shared/base/kustomization.yaml": "resources: [../common]\n",
      "shared/common/kustomization.yaml": "resources: [cm.yaml]\n",
      "shared/common/cm.yaml": configMap("common", { a: "1" }),
    });
    const cold = await counted({ path: "clusters/prod", cwd: repo.root });
    expect(cold.snapshot).toContain('a: "1"');
    await writeFile(path.join(repo.root, "shared/common/cm.yaml"), configMap("common", { a: "2" }));
    const warm = await counted({ path: "clusters/prod", cwd: repo.root });
    expect(warm.kustomize).toBe(1);
    expect(warm.snapshot).toContain('a: "2"');
  });

  it("does not serve a build that a second kustomization file now breaks", async () => {
    const repo = await makeRepo(repoFiles());
    await counted({ path: "clusters/prod", cwd: repo.root });
    await writeFile(path.join(repo.root, "apps/base/kustomization.yml"), "resources: []\n");
    const warm = await counted({ path: "clusters/prod", cwd: repo.root });
    expect(warm.kustomize).toBe(2); // one and two read ../base
    expect(warm.result.store.get("Kustomization/flux-system/one")?.status.phase).toBe("Failed");
  });

  it("treats a changed cached output as a miss, never as output", async () => {
    const repo = await makeRepo(repoFiles());
    const cold = await counted({ path: "clusters/prod", cwd: repo.root });
    const outputs: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      for (const entry of await readdir(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) await walk(full);
        else if (entry.name.endsWith(".entry")) outputs.push(full);
      }
    };
    await walk(path.join(cacheDir, "renders"));
    expect(outputs).toHaveLength(4);
    for (const file of outputs) {
      const text = await readFile(file, "utf8");
      // Same size, same time: only the content check can tell.
      const st = await stat(file);
      const at = text.indexOf("e", text.indexOf("\n")); // in the output, past the header
      await writeFile(file, `${text.slice(0, at)}x${text.slice(at + 1)}`);
      await utimes(file, st.atime, st.mtime);
    }
    const warm = await counted({ path: "clusters/prod", cwd: repo.root });
    expect(warm.kustomize).toBe(4);
    expect(warm.snapshot).toBe(cold.snapshot);
  });

  it("applies substitution to cached output every run", async () => {
    const files = repoFiles();
    const repo = await makeRepo(files);
    await counted({ path: "clusters/prod", cwd: repo.root });
    await writeFile(
      path.join(repo.root, "clusters/prod/apps.yaml"),
      files["clusters/prod/apps.yaml"].replace('"hello"', '"bonjour"'),
    );
    const warm = await counted({ path: "clusters/prod", cwd: repo.root });
    // Only the cluster folder (which holds apps.yaml) is built again, not `three`.
    expect(warm.kustomize).toBe(1);
    expect(warm.snapshot).toContain("text: bonjour");
  });

  it("--no-cache neither reads nor writes it", async () => {
    const repo = await makeRepo(repoFiles());
    const first = await counted({ path: "clusters/prod", cwd: repo.root, noCache: true });
    const second = await counted({ path: "clusters/prod", cwd: repo.root, noCache: true });
    expect([first.kustomize, second.kustomize]).toEqual([4, 4]);
    expect(await readdir(cacheDir)).not.toContain("renders");
    expect(second.snapshot).toBe(first.snapshot);
  });

  it("cache info counts the rendered entries; cache prune bounds them", async () => {
    const repo = await makeRepo(repoFiles());
    await counted({ path: "clusters/prod", cwd: repo.root });
    const info = await runCli(["cache", "info", "--cache-dir", cacheDir], { cwd: repo.root });
    expect(info.exitCode).toBe(0);
    expect(info.stdout).toMatch(/renders\/kustomize\s+4\s/);
    const keep = await runCli(["cache", "prune", "--cache-dir", cacheDir, "--max-size", "1G"], {
      cwd: repo.root,
    });
    expect(keep.stdout).toMatch(/^removed 0 entries .* kept 4 /);
    const all = await runCli(["cache", "prune", "--cache-dir", cacheDir, "--all"], {
      cwd: repo.root,
    });
    expect(all.stdout).toMatch(/^removed 4 entries /);
    const cold = await counted({ path: "clusters/prod", cwd: repo.root });
    expect(cold.kustomize).toBe(4);
    const bad = await runCli(["cache", "prune", "--cache-dir", cacheDir, "--max-size", "lots"], {
      cwd: repo.root,
    });
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain("--max-size lots");
  });
});
