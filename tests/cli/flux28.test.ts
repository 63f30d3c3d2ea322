/**
 * Repositories written for Flux 2.8 and older ones, through `test`: API
 * versions Flux 2.8 removed (a warning, the object still renders), unknown
 * versions (an error), and `dependsOn[].readyExpr` (an invalid expression
 * fails its object; valid ones depend as plain dependsOn).
 */
import { describe, expect, it } from "vitest";
import { runCli } from "../support/cli.js";
import { bootstrap, configMap, fluxKustomization, useTempRepos } from "../support/repo.js";

const makeRepo = useTempRepos();

function lines(stdout: string): string[] {
  return stdout
    .replace(/ \(\d+\.\d+ s\)/g, "")
    .replace(/in \d+\.\d+ s$/m, "in T s")
    .trimEnd()
    .split("\n");
}

describe("Flux 2.8 API versions and readyExpr in test", () => {
  it("warns on removed versions, fails unknown ones and invalid readyExpr", async () => {
    const repo = await makeRepo({
      "clusters/prod/flux-system/gotk.yaml": bootstrap(),
      "clusters/prod/infra.yaml": fluxKustomization("infra", { path: "./apps" }).replace(
        "kustomize.toolkit.fluxcd.io/v1",
        "kustomize.toolkit.fluxcd.io/v1beta2",
      ),
      "clusters/prod/apps.yaml": fluxKustomization("apps", {
        path: "./apps",
        dependsOn: [
          {
            name: "infra",
            readyExpr: "dep.status.conditions.exists(c, c.type == 'Ready' && c.status == 'True')",
          },
        ],
      }),
      "clusters/prod/broken.yaml": fluxKustomization("broken", {
        path: "./apps",
        dependsOn: [{ name: "infra", readyExpr: "this is ((( not cel" }],
      }),
      "clusters/prod/future.yaml": fluxKustomization("future", { path: "./apps" }).replace(
        "kustomize.toolkit.fluxcd.io/v1",
        "kustomize.toolkit.fluxcd.io/v9",
      ),
      "apps/cm.yaml": configMap("settings", { a: "b" }),
    });
    const out = await runCli(["test", "--path", "clusters/prod"], { cwd: repo.root });
    expect(out.exitCode).toBe(1);
    expect(lines(out.stdout)).toEqual([
      "PASSED  Kustomization flux-system/apps",
      "FAILED  Kustomization flux-system/broken",
      "    at clusters/prod/broken.yaml:2, produced by Kustomization/flux-system/flux-system",
      "    InvalidObject: spec.dependsOn[0].readyExpr: invalid CEL: at 1:6: found i but expecting end of input",
      "PASSED  Kustomization flux-system/flux-system",
      // One failure, although the bootstrap Kustomization produces it too.
      "FAILED  Kustomization flux-system/future",
      "    at clusters/prod/future.yaml:2, produced by Kustomization/flux-system/flux-system",
      "    InvalidObject: invalid Kustomization: apiVersion: kustomize.toolkit.fluxcd.io/v9 is not a version of Kustomization (known: v1, v1beta1, v1beta2)",
      "PASSED  Kustomization flux-system/infra",
      "",
      "WARNING clusters/prod/infra.yaml:2: Kustomization flux-system/infra uses kustomize.toolkit.fluxcd.io/v1beta2, which Flux 2.8 removed: use kustomize.toolkit.fluxcd.io/v1 (`flux migrate` rewrites it; rendered as kustomize.toolkit.fluxcd.io/v1)",
      "",
      "3 passed, 2 failed, 0 skipped, 1 warning in T s",
    ]);
  });
});
