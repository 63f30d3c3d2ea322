/**
 * A CI job that switches from the Python flux-local to us must not die on
 * "unknown option": every flag of flux-local's argument parsers
 * (flux_local/tool/*.py, outside `diff`) goes through our parser, and
 * `--sources` keeps flux-local's meaning (bare names, restriction).
 */
import { lstat } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { runCli } from "../support/cli.js";
import { bootstrap, configMap, fluxKustomization, useTempRepos } from "../support/repo.js";

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const example = ["--path", "testdata/example"];

/** flux-local's selector and common flags (selector.py), with values. */
const SELECTOR = [
  "--sources",
  "flux-system",
  "-A",
  "--no-all-namespaces",
  "-n",
  "flux-system",
  "-l",
  "app=x",
  "--skip-crds",
  "--no-skip-crds",
  "--skip-secrets",
  "--no-skip-secrets",
  "--skip-kinds",
  "Secret",
  "--skip-invalid-kustomization-paths",
  "--no-skip-invalid-kustomization-paths",
  "--kustomize-build-flags",
  "--load-restrictor=LoadRestrictionsNone",
];
const HELM = [
  "--kube-version",
  "1.30",
  "-a",
  "v1",
  "--skip-invalid-helm-release-paths",
  "--no-skip-invalid-helm-release-paths",
];

const CASES: Record<string, string[]> = {
  "get ks": ["get", "ks", ...SELECTOR, "-o", "wide", "--enable-oci", "--no-enable-oci"],
  "get hr": ["get", "hr", ...SELECTOR, "--enable-oci"],
  "get cluster": [
    "get",
    "cluster",
    ...SELECTOR,
    "--enable-images",
    "--no-enable-images",
    "--only-images",
    "--no-only-images",
    "-o",
    "diff",
  ],
  "build ks": [
    "build",
    "ks",
    ...SELECTOR,
    "--wipe-secrets",
    "--no-wipe-secrets",
    "--enable-oci",
    "--output-file",
    "/dev/stdout",
  ],
  "build hr": [
    "build",
    "hr",
    ...SELECTOR,
    ...HELM,
    "--wipe-secrets",
    "--enable-oci",
    "--output-file",
    "/dev/stdout",
  ],
  "build all": [
    "build",
    "all",
    "--no-enable-helm",
    "--skip-crds",
    "--skip-secrets",
    "--skip-kinds",
    "Secret",
    "--skip-invalid-kustomization-paths",
    "--kustomize-build-flags",
    "--enable-helm",
    "--wipe-secrets",
    "--enable-oci",
    ...HELM,
    "--output-file",
    "/dev/stdout",
  ],
  test: ["test", "--no-enable-helm", "--verbosity", "2", "-v", ...SELECTOR, ...HELM],
};

describe("flux-local's flags", () => {
  it.each(Object.entries(CASES))("%s accepts every flux-local flag", async (_name, args) => {
    const out = await runCli(["--log-level", "WARNING", ...args, ...example], { cwd: projectRoot });
    expect(out.stderr).not.toMatch(/unknown option|error: /);
    expect(out.exitCode).not.toBe(2);
  });

  it("--output-file /dev/stdout (flux-local's default) writes to stdout, never replaces it", async () => {
    const out = await runCli(["build", "ks", "--output-file", "/dev/stdout", ...example], {
      cwd: projectRoot,
    });
    expect(out.exitCode).toBe(0);
    expect(out.stdout).toContain("kind: ");
    expect((await lstat("/dev/null")).isCharacterDevice()).toBe(true);
  });

  it("--kustomize-build-flags --enable-helm says that Flux refuses helmCharts", async () => {
    const out = await runCli(
      ["build", "all", "--kustomize-build-flags", "--enable-helm", ...example],
      { cwd: projectRoot },
    );
    expect(out.exitCode).toBe(0);
    expect(out.stderr).toContain("Flux's kustomize-controller refuses helmCharts");
  });

  it("an unknown command is a usage error", async () => {
    const out = await runCli(["images"], { cwd: projectRoot });
    expect(out.exitCode).toBe(2);
    expect(out.stderr).toContain("unknown command 'images'");
  });
});

describe("--sources, as in flux-local", () => {
  const makeRepo = useTempRepos();

  async function twoSources() {
    return makeRepo({
      "clusters/prod/flux-system/gotk.yaml": bootstrap(),
      "clusters/prod/apps.yaml": fluxKustomization("apps", { path: "./apps" }),
      "clusters/prod/remote.yaml":
        fluxKustomization("remote", {
          path: "./",
          sourceRef: { kind: "OCIRepository", name: "remote" },
        }) +
        "---\napiVersion: source.toolkit.fluxcd.io/v1\nkind: OCIRepository\nmetadata:\n  name: remote\n  namespace: flux-system\nspec:\n  url: oci://registry.invalid/x\n  ref:\n    tag: v1\n",
      "clusters/prod/after.yaml": fluxKustomization("after", {
        path: "./apps",
        namePrefix: "after-",
        dependsOn: [{ name: "remote" }],
      }),
      "apps/cm.yaml": configMap("settings", { a: "1" }),
    });
  }

  it("a bare NAME is this checkout and restricts the run to Kustomizations built from it", async () => {
    const repo = await twoSources();
    const test = await runCli(["test", "--path", "clusters/prod", "--sources", "flux-system"], {
      cwd: repo.root,
    });
    expect(test.exitCode).toBe(0);
    expect(test.stdout).toContain(
      "SKIPPED Kustomization flux-system/remote: not in --sources (built from OCIRepository flux-system/remote)",
    );
    // A dependency that --sources left out holds nothing up.
    expect(test.stdout).toMatch(/PASSED {2}Kustomization flux-system\/after/);
    const ks = await runCli(["get", "ks", "--path", "clusters/prod", "--sources", "flux-system"], {
      cwd: repo.root,
    });
    expect(ks.exitCode).toBe(0);
    expect(ks.stdout).not.toContain("remote");
    const sources = await runCli(
      ["get", "sources", "--path", "clusters/prod", "--sources", "flux-system", "-o", "name"],
      { cwd: repo.root },
    );
    expect(sources.exitCode).toBe(0);
  });

  it("NAME=PATH forms still map, and the mapped source restricts too", async () => {
    const repo = await twoSources();
    const out = await runCli(
      ["test", "--path", "clusters/prod", "--sources", "flux-system,remote=apps"],
      { cwd: repo.root },
    );
    expect(out.exitCode).toBe(0);
    expect(out.stdout).toMatch(/PASSED {2}Kustomization flux-system\/remote/);
    const only = await runCli(["test", "--path", "clusters/prod", "--sources", "remote=apps"], {
      cwd: repo.root,
    });
    expect(only.stdout).toContain("SKIPPED Kustomization flux-system/apps: not in --sources");
  });
});
