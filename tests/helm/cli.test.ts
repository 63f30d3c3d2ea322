/**
 * `build hr` and `build all --enable-helm` as a user runs them, on the
 * example repository of this checkout (testdata/helm-example).
 */
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { runCli } from "../support/cli.js";
import { projectRoot } from "./support.js";

const example = ["--path", "testdata/helm-example/clusters/prod", "--quiet"];

function kinds(stdout: string): string[] {
  return parseAllDocuments(stdout).map((d) => {
    const o = d.toJS() as { kind: string; metadata: { name: string } };
    return `${o.kind}/${o.metadata.name}`;
  });
}

describe("flux-local build hr / build all --enable-helm", () => {
  it("builds one HelmRelease of the example", async () => {
    const out = await runCli(["build", "hr", "podinfo", "-n", "podinfo", ...example], {
      cwd: projectRoot,
    });
    expect(out.stderr).toBe("");
    expect(out.exitCode).toBe(0);
    expect(kinds(out.stdout)).toEqual([
      "ConfigMap/podinfo-redis",
      "Service/podinfo",
      "Deployment/podinfo",
      "Ingress/podinfo",
      "Job/podinfo-migrate",
    ]);
    expect(out.stdout).toContain("image: ghcr.io/stefanprodan/podinfo:6.6.0"); // post-renderer
    expect(out.stdout).not.toContain("do-not-print-me");
  });

  it("passes helm flags through (-s, --no-hooks, --no-skip-crds, -a)", async () => {
    const out = await runCli(
      [
        "build",
        "hr",
        "podinfo",
        "-n",
        "podinfo",
        ...example,
        "-s",
        "templates/deployment.yaml",
        "-s",
        "templates/cronjob.yaml",
        "-a",
        "batch/v1/CronJob",
        "--no-hooks",
      ],
      { cwd: projectRoot },
    );
    expect(out.exitCode).toBe(0);
    expect(kinds(out.stdout)).toEqual(["Deployment/podinfo", "CronJob/podinfo-cleanup"]);
    const crds = await runCli(
      ["build", "hr", "podinfo", "-n", "podinfo", ...example, "--no-skip-crds"],
      {
        cwd: projectRoot,
      },
    );
    expect(kinds(crds.stdout)).toContain("CustomResourceDefinition/podinfos.example.com");
  });

  it("prints Kustomization objects, then every HelmRelease's, with --enable-helm", async () => {
    const out = await runCli(["build", "all", "--enable-helm", ...example], { cwd: projectRoot });
    expect(out.stderr).toBe("");
    expect(out.exitCode).toBe(0);
    const list = kinds(out.stdout);
    const lastRelease = Math.max(
      list.indexOf("HelmRelease/podinfo"),
      list.indexOf("HelmRelease/umbrella"),
    );
    expect(list.indexOf("Deployment/podinfo")).toBeGreaterThan(lastRelease);
    expect(list).toContain("Deployment/shop");
    const plain = await runCli(["build", "all", ...example], { cwd: projectRoot });
    expect(kinds(plain.stdout)).not.toContain("Deployment/podinfo");
  });

  it("reports a missing HelmRelease and a failing one with its object and helm's message", async () => {
    const missing = await runCli(["build", "hr", "nope", "-n", "podinfo", ...example], {
      cwd: projectRoot,
    });
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toContain("HelmRelease nope not found in namespace podinfo");
    const failing = await runCli(
      ["build", "hr", "podinfo", "-n", "podinfo", ...example, "-s", "templates/nothing.yaml"],
      { cwd: projectRoot },
    );
    expect(failing.exitCode).toBe(1);
    expect(failing.stderr).toMatch(
      /HelmRelease podinfo\/podinfo \(.*\): InstallFailed: helm template failed: could not find template templates\/nothing\.yaml in chart/,
    );
    expect(failing.stderr).not.toMatch(/\n\s+at /);
  });
});
