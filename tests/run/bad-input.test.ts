/**
 * Every kind of bad input named in the core-pipeline issue: each gives a clear
 * failure that names the object (and file), and the rest of the run completes.
 */
import { describe, expect, it } from "vitest";
import { render, type RenderResult } from "../../src/run.js";
import { collectFailures } from "../../src/views/failures.js";
import { bootstrap, configMap, fluxKustomization, useTempRepos } from "../support/repo.js";

const makeRepo = useTempRepos();

async function renderRepo(
  files: Record<string, string | { symlink: string }>,
  options: Parameters<typeof render>[0] extends infer R ? Partial<R> : never = {},
): Promise<RenderResult> {
  const repo = await makeRepo({ "clusters/prod/flux-system/gotk.yaml": bootstrap(), ...files });
  return render({ path: "clusters/prod", cwd: repo.root, ...options });
}

function status(result: RenderResult, name: string) {
  return result.store.get(`Kustomization/flux-system/${name}`)?.status;
}

const okApp = {
  "apps/ok/cm.yaml": configMap("ok", { a: "b" }),
  "clusters/prod/ok.yaml": fluxKustomization("ok", { path: "./apps/ok" }),
};

describe("bad input", () => {
  it("reports malformed YAML with file and line, and renders the rest", async () => {
    const result = await renderRepo({
      ...okApp,
      "clusters/prod/broken.yaml":
        "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [unclosed\n",
    });
    const issue = result.issues.find((i) => i.reason === "ParseFailed");
    expect(issue?.file).toMatch(/clusters\/prod\/broken\.yaml$/);
    expect(issue?.line).toBeGreaterThanOrEqual(5);
    expect(status(result, "ok")?.phase).toBe("Ready");
  });

  it("fails a Kustomization whose build reads malformed YAML, naming the file", async () => {
    const result = await renderRepo({
      ...okApp,
      "apps/bad/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x\n",
      "clusters/prod/bad.yaml": fluxKustomization("bad", { path: "./apps/bad" }),
    });
    expect(status(result, "bad")).toMatchObject({ phase: "Failed", reason: "BuildFailed" });
    expect(status(result, "bad")?.message).toMatch(/apps\/bad\/cm\.yaml/);
    expect(status(result, "ok")?.phase).toBe("Ready");
  });

  it("reports a Flux object without a name, and a manifest without kind in a build", async () => {
    const result = await renderRepo({
      ...okApp,
      "clusters/prod/noname.yaml":
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  namespace: flux-system\nspec:\n  path: ./apps/ok\n  sourceRef: {kind: GitRepository, name: flux-system}\n",
      "apps/nokind/cm.yaml": "apiVersion: v1\nmetadata:\n  name: x\n",
      "clusters/prod/nokind.yaml": fluxKustomization("nokind", { path: "./apps/nokind" }),
    });
    const invalid = result.issues.find((i) => i.reason === "InvalidObject");
    expect(invalid?.message).toMatch(/invalid Kustomization: metadata.name/);
    expect(invalid?.file).toMatch(/noname\.yaml$/);
    expect(status(result, "nokind")?.message).toMatch(/apps\/nokind\/cm\.yaml.*no kind/);
  });

  it("reports duplicate definitions with both files", async () => {
    const result = await renderRepo({
      ...okApp,
      "clusters/prod/dup.yaml": fluxKustomization("ok", { path: "./apps/other" }),
    });
    const dup = result.issues.find((i) => i.reason === "DuplicateObject");
    expect(dup?.message).toMatch(
      /Kustomization flux-system\/ok is defined twice.*ok\.yaml.*dup\.yaml|dup\.yaml.*ok\.yaml/,
    );
  });

  it("fails a spec.path that does not exist, or skips it when asked", async () => {
    const files = {
      ...okApp,
      "clusters/prod/gone.yaml": fluxKustomization("gone", { path: "./apps/gone" }),
    };
    const failed = await renderRepo(files);
    expect(status(failed, "gone")).toMatchObject({ phase: "Failed", reason: "PathNotFound" });
    expect(status(failed, "gone")?.message).toMatch(/--skip-invalid-kustomization-paths/);
    const skipped = await renderRepo(files, { skipInvalidKustomizationPaths: true });
    expect(status(skipped, "gone")).toMatchObject({ phase: "Skipped", reason: "PathNotFound" });
    expect(collectFailures(skipped, skipped.store.list(), "/")).toEqual([]);
  });

  it("refuses paths and symlinks that escape the source root", async () => {
    const result = await renderRepo({
      ...okApp,
      "clusters/prod/up.yaml": fluxKustomization("up", { path: "../../etc" }),
      "apps/dotdot/kustomization.yaml": "resources:\n  - ../../../../../etc/hostname\n",
      "clusters/prod/dotdot.yaml": fluxKustomization("dotdot", { path: "./apps/dotdot" }),
      "apps/link/kustomization.yaml": "resources:\n  - secret.yaml\n",
      "apps/link/secret.yaml": { symlink: "/etc/hostname" },
      "clusters/prod/link.yaml": fluxKustomization("link", { path: "./apps/link" }),
    });
    expect(status(result, "up")).toMatchObject({ phase: "Failed", reason: "PathNotFound" });
    expect(status(result, "up")?.message).toMatch(/escapes the source root/);
    expect(status(result, "dotdot")?.message).toMatch(/resolves outside the source root/);
    expect(status(result, "link")?.message).toMatch(
      /secret\.yaml.*resolves outside the source root/,
    );
    expect(status(result, "ok")?.phase).toBe("Ready");
  });

  it("reports a Kustomization without sourceRef, and one whose source does not exist", async () => {
    const result = await renderRepo({
      ...okApp,
      "clusters/prod/nosource.yaml":
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: nosource\n  namespace: flux-system\nspec:\n  path: ./apps/ok\n",
      "clusters/prod/oci.yaml": fluxKustomization("oci", {
        path: "./",
        sourceRef: { kind: "OCIRepository", name: "missing" },
      }),
    });
    // One failure, of the object itself (not also a repository-level issue).
    expect(result.issues.find((i) => i.reason === "InvalidObject")).toBeUndefined();
    expect(status(result, "nosource")).toMatchObject({ phase: "Failed", reason: "InvalidObject" });
    expect(status(result, "nosource")?.message).toMatch(/spec.sourceRef/);
    expect(status(result, "oci")).toMatchObject({ phase: "Failed", reason: "SourceNotFound" });
    expect(status(result, "oci")?.message).toMatch(/--sources missing=PATH/);
  });

  it("reports a dependsOn cycle on every member, and their dependents with the root cause", async () => {
    const result = await renderRepo({
      ...okApp,
      "clusters/prod/a.yaml": fluxKustomization("a", {
        path: "./apps/ok",
        dependsOn: [{ name: "b" }],
      }),
      "clusters/prod/b.yaml": fluxKustomization("b", {
        path: "./apps/ok",
        dependsOn: [{ name: "c" }],
      }),
      "clusters/prod/c.yaml": fluxKustomization("c", {
        path: "./apps/ok",
        dependsOn: [{ name: "a" }],
      }),
      "clusters/prod/d.yaml": fluxKustomization("d", {
        path: "./apps/ok",
        dependsOn: [{ name: "a" }],
      }),
      "clusters/prod/e.yaml": fluxKustomization("e", {
        path: "./apps/ok",
        dependsOn: [{ name: "nope" }],
      }),
    });
    for (const name of ["a", "b", "c"]) {
      expect(status(result, name)).toMatchObject({ phase: "Failed", reason: "DependencyCycle" });
      expect(status(result, name)?.message).toMatch(
        /dependency cycle: .*Kustomization\/flux-system\/a/,
      );
    }
    expect(status(result, "d")).toMatchObject({ phase: "Failed", reason: "DependencyNotReady" });
    expect(status(result, "e")).toMatchObject({ phase: "Failed", reason: "DependencyNotFound" });
    expect(status(result, "ok")?.phase).toBe("Ready");
  });

  it("fails on an invalid variable name", async () => {
    const result = await renderRepo({
      ...okApp,
      "apps/vars/cm.yaml": configMap("v", { a: "${x}" }),
      "clusters/prod/vars.yaml": fluxKustomization("vars", {
        path: "./apps/vars",
        postBuild: { substitute: { "bad-name": "1" } },
      }),
    });
    expect(status(result, "vars")).toMatchObject({ phase: "Failed", reason: "SubstitutionFailed" });
    expect(status(result, "vars")?.message).toMatch(/'bad-name' var name is invalid/);
  });

  it("fails on an unset variable in strict mode only", async () => {
    const files = {
      ...okApp,
      "apps/vars/cm.yaml": configMap("v", { a: "${unset_var}", b: "${with_default:=x}" }),
      "clusters/prod/vars.yaml": fluxKustomization("vars", {
        path: "./apps/vars",
        postBuild: { substitute: {} },
      }),
    };
    const lenient = await renderRepo(files);
    expect(status(lenient, "vars")?.phase).toBe("Ready");
    const strict = await renderRepo(files, { strictSubstitute: true });
    expect(status(strict, "vars")).toMatchObject({ phase: "Failed", reason: "SubstitutionFailed" });
    expect(status(strict, "vars")?.message).toMatch(
      /ConfigMap default\/v.*variable not set \(strict mode\): "unset_var"/,
    );
  });

  it("fails when substitution breaks the YAML, naming the object", async () => {
    const result = await renderRepo({
      ...okApp,
      "apps/vars/cm.yaml":
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: v\n  namespace: default\ndata:\n  a: ${value}\n",
      "clusters/prod/vars.yaml": fluxKustomization("vars", {
        path: "./apps/vars",
        postBuild: { substitute: { value: "[unclosed" } },
      }),
    });
    expect(status(result, "vars")).toMatchObject({ phase: "Failed", reason: "SubstitutionFailed" });
    expect(status(result, "vars")?.message).toMatch(/ConfigMap default\/v produced invalid YAML/);
  });

  it("fails a missing substituteFrom object unless it is optional", async () => {
    const result = await renderRepo({
      ...okApp,
      "apps/vars/cm.yaml": configMap("v", { a: "${x:=1}" }),
      "clusters/prod/vars.yaml": fluxKustomization("vars", {
        path: "./apps/vars",
        postBuild: { substituteFrom: [{ kind: "ConfigMap", name: "absent" }] },
      }),
      "clusters/prod/optional.yaml": fluxKustomization("optional", {
        path: "./apps/vars",
        postBuild: { substituteFrom: [{ kind: "ConfigMap", name: "absent", optional: true }] },
      }),
    });
    expect(status(result, "vars")?.message).toMatch(
      /substituteFrom ConfigMap flux-system\/absent not found/,
    );
    expect(status(result, "optional")?.phase).toBe("Ready");
  });

  it("fails helmCharts in a kustomization, as Flux does", async () => {
    const result = await renderRepo({
      ...okApp,
      "apps/helm/kustomization.yaml":
        "helmCharts:\n  - name: podinfo\n    repo: https://charts.example.com\n",
      "clusters/prod/helm.yaml": fluxKustomization("helm", { path: "./apps/helm" }),
    });
    expect(status(result, "helm")).toMatchObject({ phase: "Failed", reason: "BuildFailed" });
    expect(status(result, "helm")?.message).toMatch(/helmCharts is not supported/);
  });

  it("reports kustomize's own failure with its message", async () => {
    const result = await renderRepo({
      ...okApp,
      "apps/missing/kustomization.yaml": "resources:\n  - not-there.yaml\n",
      "clusters/prod/missing.yaml": fluxKustomization("missing", { path: "./apps/missing" }),
    });
    expect(status(result, "missing")).toMatchObject({ phase: "Failed", reason: "BuildFailed" });
    expect(status(result, "missing")?.message).toMatch(/kustomize build failed: .*not-there\.yaml/);
    expect(status(result, "missing")?.message).not.toMatch(/\/ks-[^/]+\/root/); // no scratch paths
  });

  it("never writes into the user's tree", async () => {
    const result = await renderRepo({
      ...okApp,
      "apps/generated/cm.yaml": configMap("g", { a: "b" }),
      "clusters/prod/generated.yaml": fluxKustomization("generated", {
        path: "./apps/generated",
        targetNamespace: "other",
      }),
    });
    expect(status(result, "generated")?.phase).toBe("Ready");
    const { readdir } = await import("node:fs/promises");
    expect(await readdir(`${result.options.repoRoot}/apps/generated`)).toEqual(["cm.yaml"]);
  });
});
