import path from "node:path";
import { describe, expect, it } from "vitest";
import { runDiagnostics } from "../../src/diagnostics/index.js";
import { readRepository } from "../../src/diagnostics/read.js";
import { bootstrap, configMap, fluxKustomization, useTempRepos } from "../support/repo.js";

const makeRepo = useTempRepos();

describe("readRepository", () => {
  it("reads the path and what the cluster builds outside it, honouring ignore files and chart folders", async () => {
    const repo = await makeRepo({
      "clusters/prod/flux-system/gotk.yaml": bootstrap(),
      "clusters/prod/apps.yaml": fluxKustomization("apps", { path: "./apps/prod" }),
      "apps/prod/kustomization.yaml": "resources:\n  - ../base\n",
      "apps/base/kustomization.yaml": "resources: [cm.yaml]\n",
      "apps/base/cm.yaml": configMap("settings", { a: "b" }),
      "apps/base/.krmignore": "ignored.yaml\n",
      "apps/base/ignored.yaml": "- not read\n",
      "apps/chart/Chart.yaml": "name: chart\n",
      "apps/chart/templates/x.yaml": "{{ .Values }}\n",
      "unrelated/other.yaml": "- not read either\n",
    });
    const { repo: read, folders } = await readRepository(
      repo.root,
      path.join(repo.root, "clusters/prod"),
    );
    const files = [...read.files.keys()].map((f) => path.relative(repo.root, f)).sort();
    expect(files).toEqual([
      "apps/base/cm.yaml",
      "apps/base/kustomization.yaml",
      "apps/prod/kustomization.yaml",
      "clusters/prod/apps.yaml",
      "clusters/prod/flux-system/gotk.yaml",
    ]);
    expect(folders.map((f) => path.relative(repo.root, f))).toEqual([
      "clusters/prod",
      "apps/prod",
      "apps/base",
    ]);
  });

  it("finds nothing wrong in a healthy repository", async () => {
    const repo = await makeRepo({
      "clusters/prod/flux-system/gotk.yaml": bootstrap(),
      "clusters/prod/apps.yaml": fluxKustomization("apps", { path: "./apps" }),
      "apps/cm.yaml": configMap("settings", { a: "b" }),
    });
    const result = await runDiagnostics(repo.root, path.join(repo.root, "clusters/prod"));
    expect(result).toMatchObject({ findings: [], errors: 0, warnings: 0, files: 3 });
  });
});
