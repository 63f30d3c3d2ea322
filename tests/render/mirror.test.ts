/**
 * The build mirror: the target's entries, the chain of real folders above it,
 * and only what the kustomization reaches with `..` — so a build in a folder
 * of N siblings costs its own size, not N.
 */
import { mkdtemp, readdir, readFile, realpath, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { mirrorTree } from "../../src/render/kustomize/mirror.js";
import { useTempRepos } from "../support/repo.js";

describe("mirrorTree", () => {
  const makeRepo = useTempRepos();
  const scratches: string[] = [];
  afterEach(async () => {
    await Promise.all(scratches.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  });
  async function scratch(): Promise<string> {
    const dir = await mkdtemp(path.join(os.tmpdir(), "flux-local-mirror-"));
    scratches.push(dir);
    return dir;
  }

  async function repoWithSiblings() {
    const files: Record<string, string> = {
      "apps/base/deploy.yaml": "kind: x\n",
      "components/ha/kustomization.yaml": "kind: Component\n",
      "README.md": "hi\n",
    };
    for (let i = 0; i < 50; i++) files[`apps/app-${i}/kustomization.yaml`] = "resources: []\n";
    files["apps/app-7/cm.yaml"] = "kind: ConfigMap\n";
    const repo = await makeRepo(files, { git: false });
    return realpath(repo.root);
  }

  it("links the target's entries but not its kustomization file, and only the referenced siblings", async () => {
    const root = await repoWithSiblings();
    const out = await scratch();
    const mirrored = mirrorTree(root, path.join(root, "apps/app-7"), out, [
      "cm.yaml",
      "../base",
      "../../components/ha",
    ]);
    expect(mirrored).toBe(path.join(out, "root", "apps", "app-7"));
    expect((await readdir(mirrored)).sort()).toEqual(["cm.yaml"]);
    expect((await readdir(path.join(out, "root", "apps"))).sort()).toEqual(["app-7", "base"]);
    expect((await readdir(path.join(out, "root"))).sort()).toEqual(["apps", "components"]);
    // References resolve as in the original tree.
    expect(await readFile(path.join(mirrored, "../base/deploy.yaml"), "utf8")).toBe("kind: x\n");
    expect(
      await readFile(path.join(mirrored, "../../components/ha/kustomization.yaml"), "utf8"),
    ).toBe("kind: Component\n");
  });

  it("links every ancestor's entries when the kustomization reaches an ancestor itself", async () => {
    const root = await repoWithSiblings();
    const out = await scratch();
    mirrorTree(root, path.join(root, "apps/app-7"), out, [".."]);
    expect(await readdir(path.join(out, "root", "apps"))).toHaveLength(51);
    expect((await readdir(path.join(out, "root"))).sort()).toEqual([
      "README.md",
      "apps",
      "components",
    ]);
  });

  it("mirrors the root itself", async () => {
    const root = await repoWithSiblings();
    const out = await scratch();
    const mirrored = mirrorTree(root, root, out, ["apps/app-7"]);
    expect(mirrored).toBe(path.join(out, "root"));
    expect((await readdir(mirrored)).sort()).toEqual(["README.md", "apps", "components"]);
  });
});
