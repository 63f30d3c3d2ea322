/**
 * The worker's builds from a kustomization in the request (worker/overlay.go:
 * no scratch mirror) against a kustomize process in the build mirror: the same
 * objects, origins and error text, for generated and replaced kustomizations,
 * `../` references, components, generator files, links leaving the root (not
 * there at all) and a kustomization with its own OpenAPI schema. Real
 * kustomize and the real worker only.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, realpath, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { IgnoreRules } from "../../src/discovery/ignore.js";
import { parseYamlDocuments } from "../../src/discovery/yaml.js";
import type { Kustomization } from "../../src/flux/schema.js";
import { kustomizeBuild, type BuiltObject } from "../../src/render/kustomize/build.js";
import { buildInMirror, reachedEntries } from "../../src/render/kustomize/mirror.js";
import {
  KustomizeFailure,
  ProcessRunner,
  type WorkerPool,
  type KustomizeBuildOptions,
  type KustomizeOutput,
} from "../../src/render/kustomize/runner.js";
import { useTempRepos } from "../support/repo.js";
import { useWorkerPools } from "../support/worker.js";

const flux: KustomizeBuildOptions = { loadRestrictionsNone: true };
const SECRET = "SECRET-OUTSIDE-THE-ROOT";

const pool = useWorkerPools(1);
const temps: string[] = [];
afterEach(async () => {
  await Promise.all(temps.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});
async function temp(prefix: string): Promise<string> {
  const dir = await realpath(await mkdtemp(path.join(os.tmpdir(), prefix)));
  temps.push(dir);
  return dir;
}

const cm = (name: string) =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${name}}\ndata: {a: "1"}\n`;
const deploy = (name: string) =>
  [
    "apiVersion: apps/v1",
    "kind: Deployment",
    `metadata: {name: ${name}}`,
    "spec:",
    "  template:",
    "    spec:",
    "      containers:",
    "        - {name: main, image: nginx:1.0}",
    "        - {name: side, image: busybox:1.0}",
    "",
  ].join("\n");

type Spec = Kustomization["spec"];
const spec = (more: Partial<Spec> = {}): Spec => ({
  sourceRef: { kind: "GitRepository", name: "repo" },
  ...more,
});

/** A build's outcome as data: its objects with their files, or its error text. */
async function outcome(
  build: () => Promise<BuiltObject[]>,
): Promise<{ built?: BuiltObject[]; error?: string }> {
  try {
    return { built: await build() };
  } catch (err) {
    return { error: `${(err as Error).name}: ${(err as Error).message}` };
  }
}

describe("builds from a kustomization in the request (kustomizeBuild)", () => {
  const makeRepo = useTempRepos();

  /**
   * kustomizeBuild of `dir` with the worker and with a kustomize process; the
   * worker's scratch folder does not exist, so a mirror there would fail.
   */
  async function bothWays(
    root: string,
    dir: string,
    fluxSpec: Spec,
    { mirrored = false }: { mirrored?: boolean } = {},
  ) {
    const request = (runner: WorkerPool | ProcessRunner, scratchDir: string) =>
      kustomizeBuild({
        root,
        dir: path.join(root, dir),
        spec: fluxSpec,
        ignore: IgnoreRules.empty(),
        scratchDir,
        runner,
      });
    const viaWorker = await outcome(async () =>
      request(
        pool(),
        mirrored
          ? await temp("flux-local-overlay-scratch-")
          : path.join(root, "no-such-scratch-folder"),
      ),
    );
    const viaProcess = await outcome(async () =>
      request(new ProcessRunner(), await temp("flux-local-overlay-scratch-")),
    );
    expect(viaWorker).toStrictEqual(viaProcess);
    return viaWorker;
  }

  async function repo(files: Record<string, string | { symlink: string }>): Promise<string> {
    return realpath((await makeRepo(files, { git: false })).root);
  }

  const pushed: Partial<Spec> = {
    targetNamespace: "apps",
    patches: [
      {
        patch:
          "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: any}\nspec:\n  template:\n    spec:\n      containers:\n        - {name: main, image: nginx:2.0}\n",
        target: { kind: "Deployment" },
      },
    ],
    images: [{ name: "busybox", newTag: "9.9" }],
  };

  it("generates the kustomization of a folder without one", async () => {
    const root = await repo({
      "apps/app/deploy.yaml": deploy("web"),
      "apps/app/cm.yaml": cm("settings"),
      "apps/app/sub/kustomization.yaml": "resources: [cm.yaml]\n",
      "apps/app/sub/cm.yaml": cm("sub"),
      "apps/app/notes.txt": "not yaml\n",
    });
    const { built } = await bothWays(root, "apps/app", spec(pushed));
    expect(built?.map((b) => [b.object.metadata?.name, path.relative(root, b.file ?? "")])).toEqual(
      [
        ["settings", "apps/app/cm.yaml"],
        ["web", "apps/app/deploy.yaml"],
        ["sub", "apps/app/sub/cm.yaml"],
      ],
    );
    const web = built?.find((b) => b.object.kind === "Deployment")?.object;
    expect(JSON.stringify(web)).toContain("nginx:2.0");
    expect(JSON.stringify(web)).toContain("busybox:9.9");
  });

  for (const name of ["kustomization.yaml", "kustomization.yml", "Kustomization"]) {
    it(`replaces an existing ${name} (the other names are not there)`, async () => {
      const root = await repo({
        [`apps/app/${name}`]: "resources: [deploy.yaml]\nnamePrefix: p-\n",
        "apps/app/deploy.yaml": deploy("web"),
        "apps/app/other.yaml": cm("not-listed"),
      });
      const { built } = await bothWays(root, "apps/app", spec(pushed));
      expect(built?.map((b) => b.object.metadata?.name)).toEqual(["p-web"]);
      expect(built?.[0]?.object.metadata?.namespace).toBe("apps");
      expect(built?.[0]?.file).toBe(path.join(root, "apps/app/deploy.yaml"));
    });
  }

  it("reaches siblings and ancestors' entries with ../, and fails alike on what is missing", async () => {
    const files = {
      "apps/base/kustomization.yaml": "resources: [deploy.yaml]\n",
      "apps/base/deploy.yaml": deploy("web"),
      "shared/cm.yaml": cm("shared"),
      "components/ha/kustomization.yaml":
        "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources: [cm.yaml]\n",
      "components/ha/cm.yaml": cm("ha"),
      "apps/app/kustomization.yaml":
        "resources: [../base, ../../shared/cm.yaml]\ncomponents: [../../components/ha]\n",
      "apps/missing/kustomization.yaml": "resources: [../nothere, ../../shared/nothere.yaml]\n",
      "apps/parent/kustomization.yaml": "resources: [..]\n",
      "apps/root/kustomization.yaml": "resources: [../..]\n",
    };
    const root = await repo(files);
    const { built } = await bothWays(root, "apps/app", spec());
    expect(built?.map((b) => [b.object.metadata?.name, path.relative(root, b.file ?? "")])).toEqual(
      [
        ["web", "apps/base/deploy.yaml"],
        ["shared", "shared/cm.yaml"],
        ["ha", "components/ha/cm.yaml"],
      ],
    );
    for (const dir of ["apps/missing", "apps/parent", "apps/root"]) {
      const { error } = await bothWays(root, dir, spec());
      expect(error, dir).toMatch(/^RenderError: kustomize build failed: /);
      // Real paths, never a scratch folder's.
      expect(error, dir).toContain(root);
      expect(error, dir).not.toMatch(/flux-local-overlay-scratch-|no-such-scratch-folder/);
    }
  });

  it("lets bases and components reach what they reference themselves, in the real tree", async () => {
    const root = await repo({
      // The top reaches only its own entries; what they load reaches on.
      "kubernetes/apps/kustomization.yaml": "resources: [cert-manager, ./db/ks.yaml]\n",
      "kubernetes/apps/cert-manager/kustomization.yaml":
        "resources: [cm.yaml]\ncomponents: [../../components/common]\n",
      "kubernetes/apps/cert-manager/cm.yaml": cm("cert-manager"),
      "kubernetes/apps/db/ks.yaml": cm("db"),
      "kubernetes/components/common/kustomization.yaml":
        "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources: [../../shared/cm.yaml]\n",
      "kubernetes/shared/cm.yaml": cm("common"),
      // A base that comes back to the folder built sees its own kustomization.
      "loop/app/kustomization.yaml": "resources: [../base]\n",
      "loop/base/kustomization.yaml": "resources: [../app/cm.yaml, ../app]\n",
      "loop/app/cm.yaml": cm("loop"),
    });
    const { built } = await bothWays(root, "kubernetes/apps", spec({ targetNamespace: "x" }));
    expect(built?.map((b) => [b.object.metadata?.name, path.relative(root, b.file ?? "")])).toEqual(
      [
        ["cert-manager", "kubernetes/apps/cert-manager/cm.yaml"],
        ["common", "kubernetes/shared/cm.yaml"],
        ["db", "kubernetes/apps/db/ks.yaml"],
      ],
    );
    await bothWays(root, "loop/app", spec({ namePrefix: "p-" }));
  });

  it("adds components from the Flux spec, dropping missing ones when asked", async () => {
    const root = await repo({
      "components/ha/kustomization.yaml":
        "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\npatches:\n  - patch: |\n      apiVersion: apps/v1\n      kind: Deployment\n      metadata: {name: web}\n      spec: {replicas: 3}\n",
      "apps/app/kustomization.yaml": "resources: [deploy.yaml]\n",
      "apps/app/deploy.yaml": deploy("web"),
    });
    const { built } = await bothWays(
      root,
      "apps/app",
      spec({
        components: ["../../components/ha", "../../components/gone"],
        ignoreMissingComponents: true,
      }),
    );
    expect(JSON.stringify(built?.[0]?.object)).toContain('"replicas":3');
    const { error } = await bothWays(
      root,
      "apps/app",
      spec({ components: ["../../components/gone"] }),
    );
    expect(error).toContain(path.join(root, "components/gone"));
  });

  it("reads configMapGenerator files and envs, here and through ../", async () => {
    const root = await repo({
      "apps/app/kustomization.yaml": [
        "configMapGenerator:",
        "  - name: config",
        "    files: [data.txt, renamed.txt=../../shared/other.txt]",
        "    envs: [settings.env]",
        "secretGenerator:",
        "  - name: secret",
        "    files: [../../shared/key.txt]",
        "",
      ].join("\n"),
      "apps/app/data.txt": "hello\n",
      "apps/app/settings.env": "A=1\nB=two\n",
      "shared/other.txt": "other\n",
      "shared/key.txt": "key\n",
    });
    const { built } = await bothWays(root, "apps/app", spec({ nameSuffix: "-x" }));
    expect(built?.map((b) => b.object.kind)).toEqual(["ConfigMap", "Secret"]);
    expect(JSON.stringify(built?.[0]?.object)).toContain('"renamed.txt":"other\\n"');
  });

  it("does not show links that leave the root, and refuses references to them alike", async () => {
    const outside = await temp("flux-local-overlay-outside-");
    await writeFile(path.join(outside, "secret.yaml"), cm(SECRET));
    const root = await repo({
      "apps/app/kustomization.yaml": "resources: [cm.yaml]\n",
      "apps/app/cm.yaml": cm("inside"),
      "apps/app/escape.yaml": { symlink: path.join(outside, "secret.yaml") },
      "apps/app/escape-dir": { symlink: outside },
      "apps/ref/kustomization.yaml": "resources: [escape.yaml]\n",
      "apps/ref/escape.yaml": { symlink: path.join(outside, "secret.yaml") },
    });
    const { built } = await bothWays(root, "apps/app", spec());
    expect(built?.map((b) => b.object.metadata?.name)).toEqual(["inside"]);
    const { error } = await bothWays(root, "apps/ref", spec());
    expect(error).toMatch(/resolves outside the source root/);
    expect(error).not.toContain(SECRET);
  });

  it("builds a kustomization with its own openapi schema as a process does", async () => {
    const root = await repo(openapiRepo("apps/app"));
    // A fresh kustomize process (the schema is process-wide), in the mirror.
    const { built } = await bothWays(root, "apps/app", spec(), { mirrored: true });
    expect(JSON.stringify(built?.[0]?.object)).toContain('"image":"patched"');
  });
});

/** A custom kind whose list merges by `name` only under its own schema. */
function openapiRepo(dir: string): Record<string, string> {
  const schema = {
    definitions: {
      "v1.Widget": {
        "x-kubernetes-group-version-kind": [
          { group: "example.com", kind: "Widget", version: "v1" },
        ],
        properties: {
          apiVersion: { type: "string" },
          kind: { type: "string" },
          metadata: { type: "object" },
          spec: {
            properties: {
              parts: {
                items: { properties: { name: { type: "string" }, image: { type: "string" } } },
                type: "array",
                "x-kubernetes-patch-merge-key": "name",
                "x-kubernetes-patch-strategy": "merge",
              },
            },
            type: "object",
          },
        },
        type: "object",
      },
    },
  };
  const widget =
    "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec:\n  parts:\n    - {name: a, image: one}\n    - {name: b, image: two}\n";
  const patch =
    "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec:\n  parts:\n    - {name: b, image: patched}\n";
  return {
    [`${dir}/kustomization.yaml`]:
      "resources: [widget.yaml]\npatches: [{path: patch.yaml}]\nopenapi: {path: schema.json}\n",
    [`${dir}/schema.json`]: JSON.stringify(schema),
    [`${dir}/widget.yaml`]: widget,
    [`${dir}/patch.yaml`]: patch,
    // The same without the schema: the list is replaced, not merged.
    "plain/kustomization.yaml": "resources: [widget.yaml]\npatches: [{path: patch.yaml}]\n",
    "plain/widget.yaml": widget,
    "plain/patch.yaml": patch,
  };
}

describe("the worker's view of the tree (no safety check in front)", () => {
  const makeRepo = useTempRepos();

  /** kustomize's answer as data: its objects, or its error text. */
  async function answer(build: () => Promise<KustomizeOutput | undefined>) {
    try {
      const output = await build();
      if (output === undefined) return { none: true };
      if ("objects" in output) return { objects: output.objects };
      return { objects: parseYamlDocuments(output.yaml).documents.map((d) => d.object) };
    } catch (err) {
      expect(err).toBeInstanceOf(KustomizeFailure);
      return { error: (err as Error).message };
    }
  }

  /**
   * `kustomization` in `dir` built by the worker from the request and by a
   * kustomize process in the mirror (references as the safety check would
   * list them): the same answer.
   */
  async function bothWays(
    workers: WorkerPool,
    root: string,
    dir: string,
    kustomization: string,
    references: string[] = [],
  ) {
    const real = path.join(root, dir);
    const viaWorker = await answer(() =>
      workers.buildOverlay(
        real,
        { root, kustomization, reach: reachedEntries(root, real, references) },
        flux,
      ),
    );
    const viaMirror = await answer(async () =>
      buildInMirror(
        new ProcessRunner(),
        {
          root,
          dir: real,
          kustomization,
          references,
          scratchDir: await temp("flux-local-overlay-scratch-"),
        },
        flux,
      ),
    );
    expect({ dir, kustomization, ...viaWorker }).toStrictEqual({
      dir,
      kustomization,
      ...viaMirror,
    });
    expect(viaWorker).not.toHaveProperty("none");
    return viaWorker;
  }

  it("hides links leaving the root, broken links, FIFOs and the folder's other kustomization files", async () => {
    const outside = await temp("flux-local-overlay-outside-");
    await writeFile(path.join(outside, "secret.yaml"), cm(SECRET));
    const root = await realpath(
      (
        await makeRepo(
          {
            "apps/app/cm.yaml": cm("inside"),
            "apps/app/kustomization.yaml": "resources: [does-not-matter.yaml]\n",
            "apps/app/kustomization.yml": "resources: [does-not-matter.yaml]\n",
            "apps/app/Kustomization": "resources: [does-not-matter.yaml]\n",
            "apps/app/escape.yaml": { symlink: path.join(outside, "secret.yaml") },
            "apps/app/escape-dir": { symlink: outside },
            "apps/app/broken.yaml": { symlink: "nowhere.yaml" },
            "apps/app/other/cm.yaml": cm("other"),
            "apps/app/inside.yaml": { symlink: "other/cm.yaml" },
            "apps/app/up": { symlink: "../../shared" },
            "apps/sibling/cm.yaml": cm("sibling"),
            "shared/cm.yaml": cm("shared"),
            "shared/escape.yaml": { symlink: path.join(outside, "secret.yaml") },
          },
          { git: false },
        )
      ).root,
    );
    execFileSync("mkfifo", [path.join(root, "apps/app/fifo.yaml")]);
    const workers = pool();
    const build = (kustomization: string, references: string[] = []) =>
      bothWays(workers, root, "apps/app", kustomization, references);

    // The folder's own files and links inside the root are there.
    expect((await build("resources: [cm.yaml, inside.yaml]\n")).objects).toHaveLength(2);
    expect((await build("resources: [up/cm.yaml]\n")).objects).toHaveLength(1);
    // Hidden: kustomize finds nothing there (a FIFO is never opened).
    for (const hidden of [
      "escape.yaml",
      "escape-dir",
      "escape-dir/secret.yaml",
      "broken.yaml",
      "fifo.yaml",
      "kustomization.yml",
      "Kustomization",
      "kustomization.yaml/x.yaml",
    ]) {
      const { error } = await build(`resources: [${hidden}]\n`);
      expect(error, hidden).toBeDefined();
      expect(error, hidden).not.toContain(SECRET);
      expect(error, hidden).toContain(path.join(root, "apps/app"));
    }
    expect((await build("configMapGenerator: [{name: c, files: [escape.yaml]}]\n")).error).toMatch(
      /no such file or directory/,
    );
    // Below an entry shown, the tree is as it is (as through the mirror's link).
    expect((await build("resources: [up/escape.yaml]\n")).objects).toHaveLength(1);
    // An ancestor's entry is there only when the kustomization reaches it.
    expect((await build("resources: [../sibling/cm.yaml]\n")).error).toContain(
      path.join(root, "apps/sibling"),
    );
    expect(
      (await build("resources: [../sibling/cm.yaml]\n", ["../sibling/cm.yaml"])).objects,
    ).toHaveLength(1);
    expect((await build("resources: [../../shared/cm.yaml]\n", [".."])).objects).toHaveLength(1);
    // One worker served every build, in turn.
    expect(workers.started).toBe(1);
  });

  it("builds with a kustomization's own openapi schema, then the built-in one again", async () => {
    const root = await realpath((await makeRepo(openapiRepo("app"), { git: false })).root);
    const workers = pool();
    const kustomization = (dir: string) =>
      readFileSync(path.join(root, dir, "kustomization.yaml"), "utf8");
    const custom = await bothWays(workers, root, "app", kustomization("app"));
    expect(JSON.stringify(custom.objects)).toContain('"name":"a"');
    expect(JSON.stringify(custom.objects)).toContain('"image":"patched"');
    // The next build in the same worker: the list is replaced again.
    const plain = await bothWays(workers, root, "plain", kustomization("plain"));
    expect(JSON.stringify(plain.objects)).not.toContain('"name":"a"');
    const broken = await bothWays(
      workers,
      root,
      "plain",
      "resources: [widget.yaml]\nopenapi: {version: v1.0.0-nope}\n",
    );
    expect(broken.error).toBeDefined();
    expect(workers.started).toBe(1);
  });
});
