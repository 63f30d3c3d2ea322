import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  compareInputs,
  fingerprint,
  kustomizeInputs,
  stableJson,
  withPart,
  type InputReader,
} from "../../src/render/inputs.js";

/** A file system in a map: absolute path -> content. */
function memoryReader(files: Record<string, string>): InputReader {
  const abs = new Map(Object.entries(files).map(([k, v]) => [path.resolve("/repo", k), v]));
  return {
    read: (file) => Promise.resolve(abs.has(file) ? Buffer.from(abs.get(file) ?? "") : undefined),
    isDirectory: (file) =>
      Promise.resolve([...abs.keys()].some((k) => k.startsWith(`${file}${path.sep}`))),
    list: (dir) =>
      Promise.resolve([...abs.keys()].filter((k) => k.startsWith(`${dir}${path.sep}`))),
  };
}

const tree = {
  "apps/prod/kustomization.yaml":
    "resources: [../base, configmap.yaml]\npatches:\n- path: patch.yaml\n",
  "apps/prod/configmap.yaml": "kind: ConfigMap\n",
  "apps/prod/patch.yaml": "kind: Deployment\n",
  "apps/base/kustomization.yaml":
    "resources: [deploy.yaml]\ncomponents: [../components/x]\nconfigMapGenerator:\n- name: c\n  files: [app.env]\n",
  "apps/base/deploy.yaml": "kind: Deployment\n",
  "apps/base/app.env": "A=1\n",
  "apps/components/x/kustomization.yaml": "kind: Component\nresources: [x.yaml]\n",
  "apps/components/x/x.yaml": "kind: Service\n",
  "apps/unrelated/other.yaml": "kind: Other\n",
};

const doc = { resources: ["../base", "configmap.yaml"], patches: [{ path: "patch.yaml" }] };

async function inputsOf(files: Record<string, string>) {
  return kustomizeInputs("/repo", "/repo/apps/prod", doc, memoryReader(files));
}

describe("render inputs fingerprint", () => {
  it("lists every file a build reads, transitively, and nothing else", async () => {
    const inputs = await inputsOf(tree);
    expect(Object.keys(inputs.files)).toEqual([
      "apps/base/app.env",
      "apps/base/deploy.yaml",
      "apps/base/kustomization.yaml",
      "apps/components/x/kustomization.yaml",
      "apps/components/x/x.yaml",
      "apps/prod/configmap.yaml",
      "apps/prod/patch.yaml",
    ]);
    expect(inputs.parts).toHaveProperty("path");
    expect(inputs.parts).toHaveProperty("kustomization");
  });

  it("is stable, and ignores files the build does not read", async () => {
    const a = await inputsOf(tree);
    const b = await inputsOf({ ...tree, "apps/unrelated/other.yaml": "kind: Changed\n" });
    expect(b.key).toBe(a.key);
  });

  it("changes with any file read, even deep in a component, and says which", async () => {
    const a = await inputsOf(tree);
    const b = await inputsOf({ ...tree, "apps/components/x/x.yaml": "kind: Service\nx: 1\n" });
    expect(b.key).not.toBe(a.key);
    expect(compareInputs(a, b)).toEqual([
      { input: "file apps/components/x/x.yaml", change: "changed" },
    ]);
  });

  it("records missing references, so adding the file changes the key", async () => {
    const { "apps/prod/patch.yaml": _patch, ...without } = tree;
    const a = await inputsOf(without);
    expect(a.files["apps/prod/patch.yaml"]).toBe("missing");
    const b = await inputsOf(tree);
    expect(compareInputs(a, b)).toEqual([{ input: "file apps/prod/patch.yaml", change: "added" }]);
  });

  it("covers the spec and the substitutions as named parts", async () => {
    const a = await inputsOf(tree);
    const b = await kustomizeInputs(
      "/repo",
      "/repo/apps/prod",
      { ...doc, namePrefix: "x-" },
      memoryReader(tree),
    );
    expect(compareInputs(a, b)).toEqual([{ input: "kustomization", change: "changed" }]);
    const s1 = withPart(a, "substitutions", { domain: "a.example" });
    const s2 = withPart(a, "substitutions", { domain: "b.example" });
    expect(compareInputs(s1, s2)).toEqual([{ input: "substitutions", change: "changed" }]);
    expect(withPart(a, "substitutions", { x: "1" }).key).toBe(
      withPart(a, "substitutions", { x: "1" }).key,
    );
  });

  it("does not depend on key order, nor on where the checkout is", async () => {
    expect(stableJson({ b: 1, a: { d: 2, c: 3 } })).toBe(stableJson({ a: { c: 3, d: 2 }, b: 1 }));
    const a = fingerprint("helm", { values: { a: 1, b: 2 }, chart: "podinfo 6.5.3" });
    const b = fingerprint("helm", { chart: "podinfo 6.5.3", values: { b: 2, a: 1 } });
    expect(a.key).toBe(b.key);
    const other = await kustomizeInputs(
      "/elsewhere",
      "/elsewhere/apps/prod",
      doc,
      memoryReader({}),
    );
    expect(Object.keys(other.files)).toContain("apps/prod/configmap.yaml");
  });
});
