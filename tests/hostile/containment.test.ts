/**
 * Issue 10, items 1–3: a repository cannot make kustomize read a file outside
 * the source root, whatever field, config file or spelling it uses.
 */
import path from "node:path";
import { describe, expect, it } from "vitest";
import { appRepo, buildAll, SECRET, settings, useHostile } from "./support.js";

const hostile = useHostile();

function kustomization(body: string): string {
  return `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n${body}`;
}

async function expectRefused(files: Record<string, string | { symlink: string }>, message: RegExp) {
  const repo = await appRepo(hostile.makeRepo, { "app/cm.yaml": settings, ...files });
  const out = await buildAll(repo);
  expect(out.stdout + out.stderr).not.toContain(SECRET);
  expect(out.exitCode).toBe(1);
  expect(out.stderr).toMatch(message);
  return out;
}

describe("item 1: files named inside generator/transformer/validator configs", () => {
  it("refuses a ConfigMapGenerator config file whose files leave the root", async () => {
    const outside = await hostile.outside();
    await expectRefused(
      {
        "app/kustomization.yaml": kustomization("resources: [cm.yaml]\ngenerators: [gen.yaml]\n"),
        "app/gen.yaml": `apiVersion: builtin\nkind: ConfigMapGenerator\nmetadata:\n  name: leak\nfiles:\n  - ${path.join(outside, "secret.txt")}\n`,
      },
      /app\/kustomization\.yaml: generators gen\.yaml ConfigMapGenerator\.files entry ".*secret\.txt" resolves outside the source root/,
    );
  });

  it("refuses a SecretGenerator's envs and a PatchTransformer's path, and the same inline", async () => {
    const outside = await hostile.outside();
    await expectRefused(
      {
        "app/kustomization.yaml": kustomization("resources: [cm.yaml]\ngenerators: [gen.yaml]\n"),
        "app/gen.yaml": `apiVersion: builtin\nkind: SecretGenerator\nmetadata:\n  name: leak\nenvs:\n  - ../../../../../../../../..${path.join(outside, "secret.env")}\n`,
      },
      /SecretGenerator\.envs entry .* resolves outside the source root/,
    );
    await expectRefused(
      {
        "app/kustomization.yaml": kustomization(
          `resources: [cm.yaml]\ntransformers:\n  - |\n    apiVersion: builtin\n    kind: PatchTransformer\n    metadata:\n      name: leak\n    path: ${path.join(outside, "patch.yaml")}\n`,
        ),
      },
      /transformers PatchTransformer\.path entry .*patch\.yaml" resolves outside the source root/,
    );
  });

  it("follows a validators entry that is a folder, through its build output", async () => {
    const outside = await hostile.outside();
    await expectRefused(
      {
        "app/kustomization.yaml": kustomization("resources: [cm.yaml]\nvalidators: [./checks]\n"),
        "app/checks/kustomization.yaml": kustomization(
          "resources: [t.yaml]\npatches:\n  - target: {kind: PatchTransformer}\n    patch: |\n      - op: replace\n        path: /path\n        value: " +
            path.join(outside, "patch.yaml") +
            "\n",
        ),
        "app/checks/t.yaml":
          "apiVersion: builtin\nkind: PatchTransformer\nmetadata:\n  name: harmless\npath: ../cm.yaml\n",
      },
      /validators \.\/checks PatchTransformer\.path entry .* resolves outside the source root/,
    );
  });

  it("still builds generator configs whose files stay inside", async () => {
    const repo = await appRepo(hostile.makeRepo, {
      "app/kustomization.yaml": kustomization("generators: [gen.yaml]\n"),
      "app/gen.yaml":
        "apiVersion: builtin\nkind: ConfigMapGenerator\nmetadata:\n  name: generated\n  namespace: default\nfiles:\n  - data.txt\noptions:\n  disableNameSuffixHash: true\n",
      "app/data.txt": "hello\n",
    });
    const out = await buildAll(repo);
    expect(out.stderr).toBe("");
    expect(out.exitCode).toBe(0);
    expect(out.stdout).toContain("data.txt: |");
  });

  it("builds a generator config whose files are reached with '..' (the build mirror exposes them)", async () => {
    const repo = await appRepo(hostile.makeRepo, {
      "app/kustomization.yaml": kustomization("generators: [gen.yaml]\n"),
      "app/gen.yaml":
        "apiVersion: builtin\nkind: ConfigMapGenerator\nmetadata:\n  name: generated\n  namespace: default\nfiles:\n  - ../shared/data.txt\noptions:\n  disableNameSuffixHash: true\n",
      "shared/data.txt": "hello\n",
    });
    const out = await buildAll(repo);
    expect(out.stderr).toBe("");
    expect(out.exitCode).toBe(0);
    expect(out.stdout).toContain("data.txt: |");
  });
});

describe("item 2: inline versus path, decided as kustomize decides", () => {
  for (const field of [
    "patchesStrategicMerge",
    "crds",
    "configurations",
    "generators",
    "transformers",
    "validators",
  ]) {
    it(`refuses a path that looks like YAML in ${field}`, async () => {
      const outside = await hostile.outside();
      const depth = "../".repeat(12);
      const entry = `${depth}${outside.slice(1)}/x: y/../patch.yaml`;
      await expectRefused(
        {
          "app/kustomization.yaml": kustomization(
            `resources: [cm.yaml]\n${field}:\n  - ${JSON.stringify(entry)}\n`,
          ),
        },
        new RegExp(`${field} entry .* resolves outside the source root`),
      );
    });
  }

  it("keeps reading an inline strategic-merge patch as inline", async () => {
    const repo = await appRepo(hostile.makeRepo, {
      "app/cm.yaml": settings,
      "app/kustomization.yaml": kustomization(
        "resources: [cm.yaml]\npatchesStrategicMerge:\n  - |\n    apiVersion: v1\n    kind: ConfigMap\n    metadata:\n      name: settings\n      namespace: default\n    data:\n      a: patched\n",
      ),
    });
    const out = await buildAll(repo);
    expect(out.exitCode).toBe(0);
    expect(out.stdout).toContain("a: patched");
  });
});

describe("item 3: links in a folder without a kustomization", () => {
  it("refuses a *.yaml link to a device without reading it", async () => {
    await expectRefused(
      { "app/zero.yaml": { symlink: "/dev/zero" } },
      /app\/zero\.yaml: link "zero\.yaml" resolves outside the source root/,
    );
  });

  it("refuses a *.yaml link to a folder, and a link leaving the root", async () => {
    const outside = await hostile.outside();
    await expectRefused(
      { "app/dir.yaml": { symlink: "../clusters" } },
      /app\/dir\.yaml is not a regular file/,
    );
    await expectRefused(
      { "app/leak.yaml": { symlink: path.join(outside, "patch.yaml") } },
      /leak\.yaml.*resolves outside the source root/,
    );
  });

  it("follows a link that stays inside", async () => {
    const repo = await appRepo(hostile.makeRepo, {
      "shared/cm.yaml": settings,
      "app/cm.yaml": { symlink: "../shared/cm.yaml" },
    });
    const out = await buildAll(repo);
    expect(out.exitCode).toBe(0);
    expect(out.stdout).toContain("name: settings");
  });
});
