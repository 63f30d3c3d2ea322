import { describe, expect, it } from "vitest";
import { checkDuplicates } from "../../src/diagnostics/duplicates.js";
import { fluxKs, GOTK, object, repoOf, show } from "./helpers.js";

const cm = (name: string, namespace?: string) => object("ConfigMap", "v1", name, namespace);

function check(files: Record<string, string>) {
  return checkDuplicates(repoOf(files), show).map((f) => `${f.file}:${f.line} ${f.message}`);
}

describe("checkDuplicates", () => {
  it("reports an object defined twice in one kustomize build, at the second definition", () => {
    expect(
      check({
        "apps/kustomization.yaml": "resources:\n  - a.yaml\n  - b.yaml\n",
        "apps/a.yaml": cm("settings", "default"),
        "apps/b.yaml": cm("settings", "default"),
      }),
    ).toEqual([
      "/repo/apps/b.yaml:2 ConfigMap default/settings is defined twice in the kustomize build of apps: at apps/a.yaml:2 and here",
    ]);
  });

  it("applies the namespace, prefix and suffix each kustomization sets", () => {
    expect(
      check({
        "apps/kustomization.yaml": "resources:\n  - one\n  - two\n",
        "apps/one/kustomization.yaml": "namespace: one\nresources: [cm.yaml]\n",
        "apps/one/cm.yaml": cm("settings"),
        "apps/two/kustomization.yaml": "namePrefix: two-\nresources: [cm.yaml]\n",
        "apps/two/cm.yaml": cm("settings", "one"),
        "dup/kustomization.yaml": "namespace: same\nresources: [a.yaml, b.yaml]\n",
        "dup/a.yaml": cm("x", "a"),
        "dup/b.yaml": cm("x", "b"),
      }),
    ).toEqual([
      "/repo/dup/b.yaml:2 ConfigMap same/x is defined twice in the kustomize build of dup: at dup/a.yaml:2 and here",
    ]);
  });

  it("names a placeholder Namespace after each folder's namespace, as kustomize does", () => {
    const component =
      "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources: [namespace.yaml]\n";
    const folder = (ns: string) =>
      `namespace: ${ns}\ncomponents: [../../components/common]\nresources: [cm.yaml]\n`;
    const files: Record<string, string> = {
      "gotk.yaml": GOTK + fluxKs("cluster-apps", { path: "./kubernetes/apps" }),
      "kubernetes/components/common/kustomization.yaml": component,
      "kubernetes/components/common/namespace.yaml": object("Namespace", "v1", "_"),
    };
    for (const ns of ["default", "media", "network", "observability"]) {
      files[`kubernetes/apps/${ns}/kustomization.yaml`] = folder(ns);
      files[`kubernetes/apps/${ns}/cm.yaml`] = cm("settings");
    }
    expect(check(files)).toEqual([]);
    // Two folders with one namespace do hold that Namespace twice.
    files["kubernetes/apps/media/kustomization.yaml"] = folder("default");
    expect(check(files)).toEqual([
      "/repo/gotk.yaml:10 the build of Kustomization flux-system/cluster-apps (kubernetes/apps) would hold 2 objects twice, which kustomize refuses: ConfigMap default/settings (kubernetes/apps/default/cm.yaml:2 and kubernetes/apps/media/cm.yaml:2); Namespace default (kubernetes/components/common/namespace.yaml:2, included twice)",
    ]);
  });

  it("does not compare objects of different clusters, only of one build", () => {
    expect(
      check({
        "clusters/a/gotk.yaml": GOTK,
        "clusters/b/gotk.yaml": GOTK,
        "unused-a/cm.yaml": cm("x", "default"),
        "unused-b/cm.yaml": cm("x", "default"),
      }),
    ).toEqual([]);
  });

  it("sums up a Flux Kustomization whose generated build holds objects twice", () => {
    expect(
      check({
        "gotk.yaml": GOTK + fluxKs("everything", {}),
        "clusters/a/gotk.yaml": GOTK,
        "base/kustomization.yaml": "resources: [cm.yaml]\n",
        "base/cm.yaml": cm("x", "default"),
        "overlay/kustomization.yaml": "resources: [../base]\n",
      }),
    ).toEqual([
      "/repo/gotk.yaml:10 the build of Kustomization flux-system/everything (.) would hold 2 objects twice, which kustomize refuses: " +
        "GitRepository flux-system/flux-system (clusters/a/gotk.yaml:2 and gotk.yaml:2); ConfigMap default/x (base/cm.yaml:2, included twice)",
    ]);
  });

  it("reports repeats within one file even outside any build", () => {
    expect(check({ "loose.yaml": cm("x", "default") + cm("x", "default") })).toEqual([
      "/repo/loose.yaml:4 ConfigMap default/x is defined twice in one file: at loose.yaml:2 and here",
    ]);
  });
});
