/**
 * Which file each built object came from, told by the kustomization tree
 * instead of kustomize's origin annotations (src/render/kustomize/origins.ts):
 * for every tree, the objects and the files of the objects asked for are
 * exactly what a build with origin annotations says, with the worker and with
 * a kustomize process; trees the tree cannot answer for are built with the
 * annotations. Real kustomize and the real worker only.
 */
import { mkdtemp, realpath, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { IgnoreRules } from "../../src/discovery/ignore.js";
import type { KubeObject } from "../../src/flux/objects.js";
import type { Kustomization } from "../../src/flux/schema.js";
import { FileFacts } from "../../src/render/file-facts.js";
import { kustomizeBuild, type BuiltObject } from "../../src/render/kustomize/build.js";
import { findKustomizationFile } from "../../src/render/kustomize/files.js";
import { planOrigins } from "../../src/render/kustomize/origins.js";
import { applyFluxSpec } from "../../src/render/kustomize/overlay.js";
import {
  ProcessRunner,
  type KustomizeRunner,
  type WorkerPool,
} from "../../src/render/kustomize/runner.js";
import { checkKustomizationTree, readYamlFile } from "../../src/render/kustomize/safety.js";
import { isStoredKind } from "../../src/store/produced.js";
import { useTempRepos } from "../support/repo.js";
import { useWorkerPools } from "../support/worker.js";

type Spec = Kustomization["spec"];
const spec = (more: Partial<Spec> = {}): Spec => ({
  sourceRef: { kind: "GitRepository", name: "repo" },
  ...more,
});

const cm = (name: string, namespace?: string) =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n${namespace ? `  namespace: ${namespace}\n` : ""}data: {a: "1"}\n`;
const hr = (name: string) =>
  `apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: &app ${name}\nspec:\n  chartRef: {kind: OCIRepository, name: *app}\n`;
const deploy = (name: string) =>
  `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: ${name}}\nspec:\n  replicas: 1\n`;

/** What the Kustomization controller asks for: the objects that join the store. */
const stored = (o: KubeObject) => isStoredKind(o);
const every = () => true;

const pool = useWorkerPools(1);
const temps: string[] = [];
afterEach(async () => {
  await Promise.all(temps.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

describe("files of built objects without origin annotations", () => {
  const makeRepo = useTempRepos();
  async function repo(files: Record<string, string | { symlink: string }>): Promise<string> {
    return realpath((await makeRepo(files, { git: false })).root);
  }

  /** How the build of `dir` is planned: "tree" (no annotations) or kustomize's reason why not. */
  async function plan(
    root: string,
    dir: string,
    fluxSpec: Spec,
    wanted: (o: KubeObject) => boolean,
  ): Promise<string> {
    const facts = new FileFacts();
    const abs = path.join(root, dir);
    const file = findKustomizationFile(abs, facts);
    const original = file ? (readYamlFile(file, file, facts)[0] as Record<string, unknown>) : {};
    const doc = applyFluxSpec(original, fluxSpec);
    const reads = await checkKustomizationTree(root, abs, doc, file ?? abs, { facts });
    const planned = planOrigins(reads.shape, facts, wanted);
    return "reason" in planned ? planned.reason : "tree";
  }

  /**
   * The build of `dir` asking for the files of `wanted` objects, against a
   * build with origin annotations (every object's file, as before): the same
   * objects, and the same file for each object asked for; with the worker and
   * with a kustomize process alike.
   */
  async function compare(
    root: string,
    dir: string,
    fluxSpec: Spec,
    wanted: (o: KubeObject) => boolean,
  ): Promise<Array<[string, string | undefined]>> {
    const build = async (
      runner: WorkerPool | ProcessRunner,
      filesFor?: (o: KubeObject) => boolean,
    ): Promise<BuiltObject[]> => {
      const scratchDir = await realpath(await mkdtemp(path.join(os.tmpdir(), "flux-local-o-")));
      temps.push(scratchDir);
      return kustomizeBuild({
        root,
        dir: path.join(root, dir),
        spec: fluxSpec,
        ignore: IgnoreRules.empty(),
        scratchDir,
        runner,
        ...(filesFor ? { filesFor } : {}),
      });
    };
    const shown = (built: BuiltObject[]) =>
      built.map(({ object, file }): [string, string | undefined] => [
        `${object.kind}/${object.metadata?.name}`,
        file === undefined || !wanted(object) ? undefined : path.relative(root, file),
      ]);
    const annotated = await build(pool());
    const told = await build(pool(), wanted);
    expect(told.map((b) => b.object)).toStrictEqual(annotated.map((b) => b.object));
    expect(shown(told)).toStrictEqual(shown(annotated));
    const byProcess = await build(new ProcessRunner(), wanted);
    expect(byProcess).toStrictEqual(told);
    return shown(told);
  }

  it("names the resource file, not patches naming the same object, through bases, components and links", async () => {
    const root = await repo({
      "apps/app/kustomization.yaml": [
        "resources: [flux.yaml, ../base, ../linked, deploy.yaml]",
        "components: [../../components/extra]",
        "patches:",
        "  - path: patch.yaml",
        "  - patch: |",
        "      apiVersion: v1",
        "      kind: ConfigMap",
        "      metadata: {name: settings}",
        "      data: {b: '2'}",
        "patchesStrategicMerge: [merge.yaml]",
        "",
      ].join("\n"),
      // Two documents in one file, an anchor on a name.
      "apps/app/flux.yaml": `${hr("web")}---\n${cm("settings")}`,
      "apps/app/deploy.yaml": deploy("web"),
      // Patches name the objects too: they are not where the objects come from.
      "apps/app/patch.yaml": cm("settings").replace('a: "1"', 'c: "3"'),
      "apps/app/merge.yaml": hr("web").replace("chartRef", "values: {x: 1}\n  chartRef"),
      "apps/base/kustomization.yaml": "namespace: base\nresources: [cm.yaml]\n",
      "apps/base/cm.yaml": cm("base"),
      "shared/kustomization.yaml": "resources: [cm.yaml]\n",
      "shared/cm.yaml": cm("linked"),
      "apps/linked": { symlink: "../shared" },
      "components/extra/kustomization.yaml":
        "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources: [cm.yaml]\nlabels: [{pairs: {tier: web}}]\n",
      "components/extra/cm.yaml": cm("extra"),
    });
    const fluxSpec = spec({
      targetNamespace: "apps",
      patches: [
        {
          patch:
            "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: any}\nspec: {interval: 1h}\n",
          target: { kind: "HelmRelease" },
        },
      ],
      images: [{ name: "nginx", newTag: "2" }],
    });
    expect(await plan(root, "apps/app", fluxSpec, stored)).toBe("tree");
    expect(await plan(root, "apps/app", fluxSpec, every)).toBe("tree");
    expect(await compare(root, "apps/app", fluxSpec, stored)).toEqual([
      ["HelmRelease/web", "apps/app/flux.yaml"],
      ["ConfigMap/settings", "apps/app/flux.yaml"],
      ["ConfigMap/base", "apps/base/cm.yaml"],
      // As kustomize names it: through the link, not where it leads.
      ["ConfigMap/linked", "apps/linked/cm.yaml"],
      ["Deployment/web", undefined],
      ["ConfigMap/extra", "components/extra/cm.yaml"],
    ]);
    expect((await compare(root, "apps/app", fluxSpec, every)).at(-2)).toEqual([
      "Deployment/web",
      "apps/app/deploy.yaml",
    ]);
  });

  it("names the file of a folder without a kustomization, nested ones included", async () => {
    const root = await repo({
      "apps/app/a.yaml": `${cm("a")}---\n# empty\n---\n${hr("a")}`,
      "apps/app/sub/kustomization.yaml": "resources: [b.yaml]\n",
      "apps/app/sub/b.yaml": cm("b"),
    });
    expect(await plan(root, "apps/app", spec(), stored)).toBe("tree");
    expect(await compare(root, "apps/app", spec({ targetNamespace: "x" }), stored)).toEqual([
      ["ConfigMap/a", "apps/app/a.yaml"],
      ["HelmRelease/a", "apps/app/a.yaml"],
      ["ConfigMap/b", "apps/app/sub/b.yaml"],
    ]);
  });

  it("asks kustomize when names change, a generator merges or a patch may rename", async () => {
    const root = await repo({
      "prefix/kustomization.yaml": "resources: [../base]\n",
      "suffix/kustomization.yaml": "resources: [../base]\nnameSuffix: -s\n",
      "nested/kustomization.yaml": "resources: [../prefixed]\n",
      "prefixed/kustomization.yaml": "namePrefix: p-\nresources: [../base/cm.yaml]\n",
      "base/kustomization.yaml": "resources: [cm.yaml]\n",
      "base/cm.yaml": cm("settings"),
      "merged/kustomization.yaml":
        "resources: [cm.yaml]\nconfigMapGenerator:\n  - name: settings\n    behavior: merge\n    literals: [b=2]\n",
      "merged/cm.yaml": cm("settings"),
      "unannotated/kustomization.yaml":
        "resources: [cm.yaml]\npatchesJson6902:\n  - target: {version: v1, kind: ConfigMap, name: settings}\n    path: remove.yaml\n",
      "unannotated/remove.yaml": "- {op: add, path: /metadata/annotations, value: {}}\n",
      "unannotated/cm.yaml": cm("settings"),
      "json/kustomization.yaml":
        "resources: [cm.yaml]\npatches:\n  - target: {kind: ConfigMap}\n    patch: |\n      - op: replace\n        path: /metadata/name\n        value: renamed\n",
      "json/cm.yaml": cm("settings"),
      "allowed/kustomization.yaml":
        "resources: [cm.yaml]\npatches:\n  - options: {allowNameChange: true}\n    patch: |\n      apiVersion: v1\n      kind: ConfigMap\n      metadata: {name: settings}\n",
      "allowed/cm.yaml": cm("settings"),
      "replaced/kustomization.yaml":
        "resources: [cm.yaml]\nreplacements:\n  - source: {kind: ConfigMap, name: settings, fieldPath: data.a}\n    targets:\n      - select: {kind: ConfigMap}\n        fieldPaths: [data.b]\n        options: {create: true}\n",
      "replaced/cm.yaml": cm("settings"),
      "annotated/kustomization.yaml":
        "resources: [cm.yaml]\ncommonAnnotations:\n  config.kubernetes.io/origin: 'path: elsewhere.yaml'\n",
      "annotated/cm.yaml": cm("settings"),
    });
    const cases: Array<[string, Spec, RegExp, Array<[string, string | undefined]>]> = [
      [
        "prefix",
        spec({ namePrefix: "flux-" }),
        /namePrefix/,
        [["ConfigMap/flux-settings", "base/cm.yaml"]],
      ],
      ["suffix", spec(), /nameSuffix/, [["ConfigMap/settings-s", "base/cm.yaml"]]],
      ["nested", spec(), /namePrefix/, [["ConfigMap/p-settings", "base/cm.yaml"]]],
      [
        "merged",
        spec(),
        /configMapGenerator settings with behavior "merge"/,
        [["ConfigMap/settings", "merged/cm.yaml"]],
      ],
      ["json", spec(), /JSON patch changing names/, [["ConfigMap/renamed", "json/cm.yaml"]]],
      [
        "unannotated",
        spec(),
        /JSON patch changing names, kinds or annotations/,
        [["ConfigMap/settings", undefined]],
      ],
      ["allowed", spec(), /change names/, [["ConfigMap/settings", "allowed/cm.yaml"]]],
      ["replaced", spec(), /replacements/, [["ConfigMap/settings", "replaced/cm.yaml"]]],
      [
        "annotated",
        spec(),
        /sets config.kubernetes.io\/ annotations/,
        [["ConfigMap/settings", "annotated/elsewhere.yaml"]],
      ],
    ];
    for (const [dir, fluxSpec, reason, files] of cases) {
      expect(await plan(root, dir, fluxSpec, stored), dir).toMatch(reason);
      expect(await compare(root, dir, fluxSpec, stored), dir).toEqual(files);
    }
  });

  it("asks kustomize when a patch replaces or removes annotations (it then names no file)", async () => {
    const smp = (name: string, ...lines: string[]) =>
      [
        "  - patch: |",
        "      apiVersion: v1",
        "      kind: ConfigMap",
        ...lines.map((l) => `      ${l}`),
      ]
        .join("\n")
        .replace("NAME", name);
    const root = await repo({
      "dropped/kustomization.yaml": [
        "resources: [a.yaml, b.yaml, c.yaml]",
        "patches:",
        smp("a", "metadata:", "  name: NAME", "  annotations: null"),
        smp("b", "metadata:", "  name: NAME", "  $patch: replace", "  annotations: {x: y}"),
        "",
      ].join("\n"),
      "dropped/a.yaml": cm("a").replace("metadata:\n", "metadata:\n  annotations: {keep: me}\n"),
      "dropped/b.yaml": cm("b"),
      "dropped/c.yaml": cm("c"),
      "merged/kustomization.yaml": [
        "resources: [a.yaml, b.yaml]",
        "patches:",
        smp("a", "metadata:", "  name: NAME", "  annotations: {team: web}"),
        smp("b", "$patch: delete", "metadata: {name: NAME}"),
        "",
      ].join("\n"),
      "merged/a.yaml": cm("a"),
      "merged/b.yaml": cm("b"),
    });
    expect(await plan(root, "dropped", spec(), stored)).toMatch(/a patch replacing annotations/);
    expect(await compare(root, "dropped", spec(), stored)).toEqual([
      ["ConfigMap/a", undefined],
      ["ConfigMap/b", undefined],
      ["ConfigMap/c", "dropped/c.yaml"],
    ]);
    expect(await plan(root, "merged", spec(), stored)).toBe("tree");
    expect(await compare(root, "merged", spec(), stored)).toEqual([
      ["ConfigMap/a", "merged/a.yaml"],
    ]);
  });

  it("names no file for generated objects, and reads JSON patches that keep names", async () => {
    const root = await repo({
      "apps/kustomization.yaml": [
        "resources: [cm.yaml, sub]",
        "configMapGenerator:",
        "  - name: generated",
        "    literals: [a=1]",
        "  - name: plain",
        "    literals: [a=1]",
        "    options: {disableNameSuffixHash: true}",
        "patches:",
        "  - target: {kind: ConfigMap}",
        "    patch: |",
        "      - {op: add, path: /data/added, value: x}",
        "      - {op: add, path: /metadata/annotations/team, value: web}",
        "      - {op: add, path: /metadata/labels, value: {tier: web}}",
        "",
      ].join("\n"),
      "apps/cm.yaml": cm("settings"),
      "apps/sub/kustomization.yaml":
        "resources: [hr.yaml]\nsecretGenerator:\n  - name: secret\n    literals: [b=2]\n",
      "apps/sub/hr.yaml": hr("web"),
    });
    const fluxSpec = spec({
      patchesJson6902: [
        {
          target: {
            group: "helm.toolkit.fluxcd.io",
            version: "v2",
            kind: "HelmRelease",
            name: "web",
          },
          patch: [{ op: "replace", path: "/metadata/namespace", value: "moved" }],
        },
      ],
    });
    expect(await plan(root, "apps", fluxSpec, stored)).toBe("tree");
    expect(await compare(root, "apps", fluxSpec, stored)).toEqual([
      ["ConfigMap/settings", "apps/cm.yaml"],
      ["HelmRelease/web", "apps/sub/hr.yaml"],
      // Made by kustomize: no file.
      ["Secret/secret-6dg6bbh8f9", undefined],
      ["ConfigMap/generated-f5tmm4mb49", undefined],
      ["ConfigMap/plain", undefined],
    ]);
  });

  it("serves the same files from the render cache, with and without annotations", async () => {
    const root = await repo({
      "tree/kustomization.yaml": "resources: [cm.yaml]\n",
      "tree/cm.yaml": cm("settings"),
      "asked/kustomization.yaml": "resources: [cm.yaml]\nnamePrefix: p-\n",
      "asked/cm.yaml": cm("settings"),
    });
    const entries = new Map<string, string>();
    const cache = {
      get: (key: string) => Promise.resolve(entries.get(key)),
      put: (key: string, value: string) => Promise.resolve(void entries.set(key, value)),
    };
    const worker = pool();
    // Warm: every build from the cache, none run.
    const cachedOnly: KustomizeRunner = {
      mode: "worker",
      identity: () => worker.identity(),
      build: () => Promise.reject(new Error("built")),
      buildOutput: () => Promise.reject(new Error("built")),
      buildOverlay: () => Promise.reject(new Error("built")),
      close: () => Promise.resolve(),
    };
    for (const dir of ["tree", "asked"]) {
      const build = (runner: KustomizeRunner) =>
        kustomizeBuild({
          root,
          dir: path.join(root, dir),
          spec: spec(),
          ignore: IgnoreRules.empty(),
          scratchDir: root,
          runner,
          cache,
          filesFor: stored,
        });
      const cold = await build(worker);
      expect(cold.map((b) => b.file)).toEqual([path.join(root, dir, "cm.yaml")]);
      expect(await build(cachedOnly)).toStrictEqual(cold);
    }
    expect(entries.size).toBe(2);
  });

  it("asks kustomize when an object is defined in two files", async () => {
    const root = await repo({
      "apps/kustomization.yaml": "resources: [a, b]\n",
      "apps/a/kustomization.yaml": "namespace: a\nresources: [cm.yaml]\n",
      "apps/a/cm.yaml": cm("settings"),
      "apps/b/kustomization.yaml": "namespace: b\nresources: [cm.yaml]\n",
      "apps/b/cm.yaml": cm("settings"),
      // Only objects asked for count: two Deployments of one name do not.
      "deploys/kustomization.yaml": "resources: [a, b]\n",
      "deploys/a/kustomization.yaml": "namespace: a\nresources: [d.yaml, cm.yaml]\n",
      "deploys/a/d.yaml": deploy("web"),
      "deploys/a/cm.yaml": cm("a"),
      "deploys/b/kustomization.yaml": "namespace: b\nresources: [d.yaml]\n",
      "deploys/b/d.yaml": deploy("web"),
      // The same kind and name under another group: found after the build.
      "groups/kustomization.yaml": "resources: [a.yaml, b.yaml]\n",
      "groups/a.yaml": cm("settings"),
      "groups/b.yaml": cm("settings").replace("apiVersion: v1", "apiVersion: example.com/v1"),
    });
    expect(await plan(root, "apps", spec(), stored)).toMatch(/ConfigMap settings is defined twice/);
    expect(await compare(root, "apps", spec(), stored)).toEqual([
      ["ConfigMap/settings", "apps/a/cm.yaml"],
      ["ConfigMap/settings", "apps/b/cm.yaml"],
    ]);
    expect(await plan(root, "deploys", spec(), stored)).toBe("tree");
    expect(await compare(root, "deploys", spec(), stored)).toEqual([
      ["Deployment/web", undefined],
      ["ConfigMap/a", "deploys/a/cm.yaml"],
      ["Deployment/web", undefined],
    ]);
    expect(await plan(root, "groups", spec(), stored)).toBe("tree");
    expect(await compare(root, "groups", spec(), stored)).toEqual([
      ["ConfigMap/settings", "groups/a.yaml"],
      ["ConfigMap/settings", undefined],
    ]);
  });

  it("keeps the origin annotations a kustomization asks for, and asks kustomize for files", async () => {
    const root = await repo({
      "apps/kustomization.yaml": "resources: [cm.yaml]\nbuildMetadata: [originAnnotations]\n",
      "apps/cm.yaml": cm("settings"),
      "labels/kustomization.yaml": "resources: [cm.yaml]\nbuildMetadata: [managedByLabel]\n",
      "labels/cm.yaml": cm("settings"),
    });
    const [built] = await kustomizeBuild({
      root,
      dir: path.join(root, "apps"),
      spec: spec(),
      ignore: IgnoreRules.empty(),
      scratchDir: root,
      runner: pool(),
      filesFor: stored,
    });
    expect(built?.object.metadata?.annotations?.["config.kubernetes.io/origin"]).toBe(
      "path: cm.yaml\n",
    );
    expect(built?.file).toBe(path.join(root, "apps/cm.yaml"));
    expect(await compare(root, "apps", spec(), stored)).toEqual([
      ["ConfigMap/settings", "apps/cm.yaml"],
    ]);
    expect(await compare(root, "labels", spec(), stored)).toEqual([
      ["ConfigMap/settings", "labels/cm.yaml"],
    ]);
  });

  it("asks kustomize for files it cannot read without a parse, and for folders met twice", async () => {
    const root = await repo({
      "flow/kustomization.yaml": "resources: [cm.yaml]\n",
      "flow/cm.yaml": '{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "json"}}\n',
      "list/kustomization.yaml": "resources: [list.yaml]\n",
      "list/list.yaml": `apiVersion: v1\nkind: List\nmetadata: {name: l}\nitems:\n  - ${cm("item").trimEnd().split("\n").join("\n    ")}\n`,
      "twice/kustomization.yaml": "resources: [a, b]\n",
      "twice/a/kustomization.yaml": "namespace: a\nresources: [../common]\n",
      "twice/b/kustomization.yaml": "namespace: b\nresources: [../common]\n",
      "twice/common/kustomization.yaml": "resources: [cm.yaml]\n",
      "twice/common/cm.yaml": cm("common"),
    });
    expect(await plan(root, "flow", spec(), stored)).toMatch(/not read without a parse/);
    expect(await compare(root, "flow", spec(), stored)).toEqual([
      ["ConfigMap/json", "flow/cm.yaml"],
    ]);
    expect(await plan(root, "list", spec(), stored)).toMatch(/not read without a parse/);
    expect(await compare(root, "list", spec(), stored)).toEqual([
      ["ConfigMap/item", "list/list.yaml"],
    ]);
    expect(await plan(root, "twice", spec(), stored)).toMatch(/met twice/);
    expect(await compare(root, "twice", spec(), stored)).toEqual([
      ["ConfigMap/common", "twice/common/cm.yaml"],
      ["ConfigMap/common", "twice/common/cm.yaml"],
    ]);
  });
});
