import { describe, expect, it } from "vitest";
import { IgnoreRules } from "../../src/discovery/ignore.js";
import { generateKustomization } from "../../src/render/kustomize/generate.js";
import { useTempRepos } from "../support/repo.js";

const makeRepo = useTempRepos();

describe("generateKustomization", () => {
  it("lists manifests, takes sub-kustomizations whole and walks other folders", async () => {
    const repo = await makeRepo(
      {
        "a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
        "notes.txt": "not yaml",
        "nested/b.yml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n",
        "app/kustomization.yaml": "resources: [c.yaml]\n",
        "app/c.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
        "ignored/d.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: d}\n",
        ".sourceignore": "ignored/\n",
      },
      { git: false },
    );
    const rules = await IgnoreRules.empty().enter(repo.root);
    const generated = await generateKustomization(repo.root, rules);
    expect(generated.resources).toEqual(["./a.yaml", "./app", "./nested/b.yml"]);
  });

  it("fails on a YAML file that is not Kubernetes objects, naming it", async () => {
    const repo = await makeRepo({ "values.yaml": "replicas: 3\n" }, { git: false });
    await expect(generateKustomization(repo.root, IgnoreRules.empty())).rejects.toThrow(
      /failed to decode Kubernetes YAML from .*values\.yaml: line 1: document has no kind/,
    );
  });
});
