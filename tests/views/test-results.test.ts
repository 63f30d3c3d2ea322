import { describe, expect, it } from "vitest";
import { collectTestRun, formatSeconds, summaryLine } from "../../src/views/test-results.js";
import { finishedRun } from "./fixtures.js";

const cwd = "/repo";

describe("collectTestRun", () => {
  it("makes one case per selected object, ordered by kind, namespace and name", () => {
    const result = finishedRun(cwd);
    const entries = [...result.store.list("HelmRelease"), ...result.store.list("Kustomization")];
    const run = collectTestRun(result, entries, { cwd, helmEnabled: false, durationMs: 2000 });
    expect(run.cases.map((c) => [c.kind, c.name, c.outcome])).toEqual([
      ["Kustomization", "flux-system/apps", "passed"],
      ["Kustomization", "flux-system/infra", "failed"],
      ["Kustomization", "flux-system/later", "skipped"],
      ["HelmRelease", "podinfo/podinfo", "skipped"],
    ]);
    expect([run.passed, run.failed, run.skipped]).toEqual([1, 1, 2]);
  });

  it("keeps where each object was defined, its timings and the root cause of a failure", () => {
    const result = finishedRun(cwd);
    const run = collectTestRun(result, result.store.list("Kustomization"), {
      cwd,
      helmEnabled: false,
      durationMs: 1,
    });
    const apps = run.cases.find((c) => c.name === "flux-system/apps");
    expect(apps).toMatchObject({
      file: "clusters/prod/apps.yaml",
      line: 2,
      producer: "Kustomization/flux-system/flux-system",
      durationMs: 1500,
    });
    const infra = run.cases.find((c) => c.name === "flux-system/infra");
    expect(infra?.rootCause).toEqual({
      object: "OCIRepository/flux-system/remote",
      reason: "ArtifactFailed",
      message: 'pull failed: <unauthorized> & "denied"',
      location: "clusters/prod/remote.yaml:7",
    });
  });

  it("says why an unrendered HelmRelease is skipped, and fails one that helm should have rendered", () => {
    const result = finishedRun(cwd);
    const hr = result.store.list("HelmRelease");
    const off = collectTestRun(result, hr, { cwd, helmEnabled: false, durationMs: 0 });
    expect(off.cases[0]).toMatchObject({
      outcome: "skipped",
      message: expect.stringMatching(/--enable-helm/),
    });
    const on = collectTestRun(result, hr, { cwd, helmEnabled: true, durationMs: 0 });
    expect(on.cases[0]).toMatchObject({
      outcome: "failed",
      message: "HelmRelease was never reconciled",
    });
  });

  it("turns repository problems into failed cases named by file and line", () => {
    const result = finishedRun(cwd, [
      {
        severity: "error",
        reason: "ParseFailed",
        message: "bad indentation",
        file: `${cwd}/x.yaml`,
        line: 4,
      },
      { severity: "warning", reason: "InvalidObject", message: "ignored", file: `${cwd}/y.yaml` },
    ]);
    const run = collectTestRun(result, [], { cwd, helmEnabled: false, durationMs: 0 });
    expect(run.cases).toEqual([
      {
        kind: "Repository",
        name: "x.yaml:4",
        outcome: "failed",
        reason: "ParseFailed",
        message: "bad indentation",
        location: "x.yaml:4",
        file: "x.yaml",
        line: 4,
      },
    ]);
    expect(run.failed).toBe(1);
  });
});

describe("summaryLine", () => {
  it("reads like pytest's closing line", () => {
    expect(summaryLine({ passed: 3, failed: 1, skipped: 0, durationMs: 1234 })).toBe(
      "3 passed, 1 failed, 0 skipped in 1.23 s",
    );
    expect(formatSeconds(65_400)).toBe("65.4 s");
    expect(formatSeconds(612_000)).toBe("612 s");
  });
});
