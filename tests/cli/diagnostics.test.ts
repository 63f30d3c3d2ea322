/**
 * `flux-local diagnostics` as users and their CI run it: flux-local's lines on
 * stdout (byte for byte for the cases flux-local had), warnings on stderr,
 * exit code 1 on errors, GitHub annotations.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runCli } from "../support/cli.js";
import { bootstrap, configMap, fluxKustomization, useTempRepos } from "../support/repo.js";

const makeRepo = useTempRepos();
let tmp: string | undefined;
afterEach(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
  tmp = undefined;
});

/** flux-local's own cases: a directory whose only file is example.yaml. */
async function flux_localCase(content: Buffer) {
  tmp = await mkdtemp(path.join(os.tmpdir(), "flux-local-diag-"));
  const file = path.join(tmp, "example.yaml");
  await writeFile(file, content);
  const out = await runCli(["diagnostics", "--path", tmp], { cwd: tmp });
  return { ...out, stdout: out.stdout.split(file).join("<<TEST_FILE>>") };
}

describe("flux-local diagnostics", () => {
  it("prints flux-local's lines for documents that are not mappings or not YAML", async () => {
    const list = await flux_localCase(Buffer.from("- entry\n"));
    expect(list.stdout).toBe(
      "[DIAGNOSTICS FAIL]: `<<TEST_FILE>>` expected dictionary but was list: ['entry']\n",
    );
    expect(list.exitCode).toBe(1);
    await rm(tmp!, { recursive: true });

    const scalar = await flux_localCase(Buffer.from("entry\n--- var\n...\n"));
    expect(scalar.stdout).toBe(
      "[DIAGNOSTICS FAIL]: `<<TEST_FILE>>` was not a dictionary: <class 'str'>: entry\n" +
        "[DIAGNOSTICS FAIL]: `<<TEST_FILE>>` was not a dictionary: <class 'str'>: var\n",
    );
    await rm(tmp!, { recursive: true });

    const binary = await flux_localCase(Buffer.from([0, 0, 0]));
    expect(binary.stdout).toBe(
      "[DIAGNOSTICS FAIL]: `<<TEST_FILE>>` failed to parse as yaml: unacceptable character #x0000: special characters are not allowed\n" +
        '  in "<unicode string>", position 0\n',
    );
    expect(binary.exitCode).toBe(1);
  });

  it("says OK for a healthy repository, with a summary on stderr; --quiet drops the summary", async () => {
    const repo = await makeRepo({
      "clusters/prod/flux-system/gotk.yaml": bootstrap(),
      "clusters/prod/apps.yaml": fluxKustomization("apps", { path: "./apps" }),
      "apps/cm.yaml": configMap("settings", { a: "b" }),
      ".github/workflows/ci.yaml": "on: push\njobs: {}\n",
    });
    const out = await runCli(["diagnostics"], { cwd: repo.root });
    expect(out.stdout).toBe("[DIAGNOSTICS OK]\n");
    expect(out.exitCode).toBe(0);
    expect(out.stderr).toMatch(/^diagnostics: 0 errors, 0 warnings in 4 files \(\d+\.\d+ s\)\n$/);
    const quiet = await runCli(["diagnostics", "clusters/prod", "-q"], { cwd: repo.root });
    expect(quiet.stdout).toBe("[DIAGNOSTICS OK]\n");
    expect(quiet.stderr).toBe("");
  });

  it("finds duplicates, missing references, cycles and deprecated APIs, with file and line", async () => {
    const repo = await makeRepo({
      "clusters/prod/flux-system/gotk.yaml": bootstrap(),
      "clusters/prod/apps.yaml":
        fluxKustomization("apps", { path: "./apps", dependsOn: [{ name: "infra" }] }) +
        fluxKustomization("infra", { path: "./apps", dependsOn: [{ name: "apps" }] }) +
        fluxKustomization("db", { path: "./apps", dependsOn: [{ name: "nope" }] }),
      "apps/a.yaml": configMap("settings", { a: "b" }),
      "apps/b.yaml": configMap("settings", { a: "c" }),
      "apps/release.yaml":
        "apiVersion: helm.toolkit.fluxcd.io/v2beta1\nkind: HelmRelease\nmetadata:\n  name: web\n  namespace: default\nspec:\n  chart:\n    spec:\n      chart: web\n      sourceRef:\n        kind: HelmRepository\n        name: charts\n",
    });
    const out = await runCli(["diagnostics", "--path", "clusters/prod"], { cwd: repo.root });
    expect(out.exitCode).toBe(1);
    expect(out.stdout.split("\n").filter(Boolean)).toEqual([
      "[DIAGNOSTICS FAIL]: `apps/release.yaml:1` HelmRelease default/web: spec.chart.spec.sourceRef refers to HelmRepository default/charts, which is not defined in the repository",
      "[DIAGNOSTICS FAIL]: `clusters/prod/apps.yaml:2` dependsOn cycle: Kustomization/flux-system/apps -> Kustomization/flux-system/infra -> Kustomization/flux-system/apps",
      "[DIAGNOSTICS FAIL]: `clusters/prod/apps.yaml:2` the build of Kustomization flux-system/apps (apps) would hold 1 object twice, which kustomize refuses: ConfigMap default/settings (apps/a.yaml:2 and apps/b.yaml:2)",
      "[DIAGNOSTICS FAIL]: `clusters/prod/apps.yaml:44` Kustomization flux-system/db: spec.dependsOn refers to Kustomization flux-system/nope, which is not defined in the repository",
    ]);
    expect(out.stderr).toContain(
      "[DIAGNOSTICS WARN]: `apps/release.yaml:1` HelmRelease default/web uses helm.toolkit.fluxcd.io/v2beta1, which Flux 2.8 removed: use helm.toolkit.fluxcd.io/v2 (`flux migrate` rewrites it; rendered as helm.toolkit.fluxcd.io/v2)\n",
    );
    expect(out.stderr).toMatch(/diagnostics: 4 errors, 1 warning in 5 files/);
  });

  it("annotates findings under GitHub Actions and writes the step summary", async () => {
    const repo = await makeRepo({
      "clusters/prod/bad.yaml": "- a list\n",
      "clusters/prod/old.yaml":
        "apiVersion: source.toolkit.fluxcd.io/v1beta2\nkind: HelmRepository\nmetadata:\n  name: charts\n  namespace: flux-system\nspec:\n  url: https://charts.example.com\n",
    });
    const summary = path.join(repo.root, "summary.md");
    const out = await runCli(["diagnostics", "--path", "clusters/prod"], {
      cwd: repo.root,
      env: { GITHUB_ACTIONS: "true", GITHUB_WORKSPACE: repo.root, GITHUB_STEP_SUMMARY: summary },
    });
    expect(out.exitCode).toBe(1);
    expect(out.stderr).toContain(
      "::error file=clusters/prod/bad.yaml,line=1,title=flux-local diagnostics%3A document::expected dictionary but was list: ['a list']\n",
    );
    expect(out.stderr).toContain(
      "::warning file=clusters/prod/old.yaml,line=1,title=flux-local diagnostics%3A deprecated::HelmRepository flux-system/charts uses source.toolkit.fluxcd.io/v1beta2, which Flux 2.8 removed: use source.toolkit.fluxcd.io/v1 (`flux migrate` rewrites it; rendered as source.toolkit.fluxcd.io/v1)\n",
    );
    const md = await readFile(summary, "utf8");
    expect(md).toMatch(
      /^### flux-local diagnostics: 1 error, 1 warning\n\n\| Severity \| Location \| Check \| Message \|/,
    );
    expect(md).toContain(
      "| error | `clusters/prod/bad.yaml:1` | document | expected dictionary but was list: ['a list'] |",
    );
  });

  it("rejects a path that does not exist", async () => {
    const out = await runCli(["diagnostics", "--path", "/no/such/dir"], { cwd: os.tmpdir() });
    expect(out.exitCode).toBe(2);
    expect(out.stderr).toMatch(/--path \/no\/such\/dir: no such directory/);
  });
});
