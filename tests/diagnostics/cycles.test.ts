import { describe, expect, it } from "vitest";
import {
  checkDependsOnCycles,
  cycleThrough,
  stronglyConnected,
} from "../../src/diagnostics/cycles.js";
import { objectsOf } from "../../src/diagnostics/model.js";
import { fluxKs, object, repoOf } from "./helpers.js";

describe("stronglyConnected", () => {
  it("finds the components of a graph, each sorted", () => {
    const edges = new Map([
      ["a", ["b"]],
      ["b", ["c"]],
      ["c", ["a", "d"]],
      ["d", ["e"]],
      ["e", ["d"]],
      ["f", ["f"]],
    ]);
    const components = stronglyConnected(edges).map((c) => c.join(","));
    expect(components.sort()).toEqual(["a,b,c", "d,e", "f"]);
    expect(cycleThrough("a", new Set(["a", "b", "c"]), edges)).toEqual(["a", "b", "c"]);
  });

  it("handles long chains without deep recursion", () => {
    const edges = new Map<string, string[]>();
    for (let i = 0; i < 50_000; i++) edges.set(`n${i}`, [`n${i + 1}`]);
    expect(stronglyConnected(edges).every((c) => c.length === 1)).toBe(true);
  });
});

describe("checkDependsOnCycles", () => {
  it("reports each cycle once, at its first member, with the path", () => {
    const repo = repoOf({
      "ks.yaml":
        fluxKs("a", { path: "./a", dependsOn: [{ name: "b" }] }) +
        fluxKs("b", { path: "./b", dependsOn: [{ name: "c", namespace: "flux-system" }] }) +
        fluxKs("c", { path: "./c", dependsOn: [{ name: "a" }] }) +
        fluxKs("d", { path: "./d", dependsOn: [{ name: "a" }] }),
      "hr.yaml": object("HelmRelease", "helm.toolkit.fluxcd.io/v2", "self", "apps", {
        spec: { dependsOn: [{ name: "self" }] },
      }),
    });
    const found = checkDependsOnCycles(objectsOf(repo)).map(
      (f) => `${f.file}:${f.line} ${f.message}`,
    );
    expect(found.sort()).toEqual([
      "/repo/hr.yaml:2 dependsOn cycle: HelmRelease/apps/self -> HelmRelease/apps/self",
      "/repo/ks.yaml:2 dependsOn cycle: Kustomization/flux-system/a -> Kustomization/flux-system/b -> Kustomization/flux-system/c -> Kustomization/flux-system/a",
    ]);
  });

  it("is quiet without cycles", () => {
    const repo = repoOf({
      "ks.yaml":
        fluxKs("a", { path: "./a" }) + fluxKs("b", { path: "./b", dependsOn: [{ name: "a" }] }),
    });
    expect(checkDependsOnCycles(objectsOf(repo))).toEqual([]);
  });
});
