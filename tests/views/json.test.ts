import { describe, expect, it } from "vitest";
import { formatJsonReport, toJsonReport } from "../../src/views/json.js";
import { collectTestRun } from "../../src/views/test-results.js";
import { finishedRun, T0 } from "./fixtures.js";

const cwd = "/repo";

describe("toJsonReport", () => {
  it("holds the summary, every test case and every object of the store", () => {
    const result = finishedRun(cwd);
    const run = collectTestRun(result, result.store.list("Kustomization"), {
      cwd,
      helmEnabled: false,
      durationMs: 2000.4,
    });
    const report = toJsonReport(result, run, { cwd, startedAt: new Date(T0) });
    expect(report.summary).toEqual({ passed: 1, failed: 1, skipped: 1, total: 3 });
    expect(report.durationMs).toBe(2000);
    expect(report.startedAt).toBe("2026-01-02T03:04:05.000Z");
    expect(report.tests[1]).toEqual({
      kind: "Kustomization",
      name: "flux-system/infra",
      outcome: "failed",
      object: "Kustomization/flux-system/infra",
      phase: "Failed",
      reason: "DependencyNotReady",
      message: "dependency OCIRepository flux-system/remote is failed",
      rootCause: {
        object: "OCIRepository/flux-system/remote",
        reason: "ArtifactFailed",
        message: 'pull failed: <unauthorized> & "denied"',
        location: "clusters/prod/remote.yaml:7",
      },
      location: "clusters/prod/infra.yaml:12",
      file: "clusters/prod/infra.yaml",
      line: 12,
      startedAt: "2026-01-02T03:04:05.000Z",
      finishedAt: "2026-01-02T03:04:05.250Z",
      durationMs: 250,
    });
    expect(report.objects.map((o) => `${o.key} ${o.phase}`)).toEqual([
      "Kustomization/flux-system/apps Ready",
      "OCIRepository/flux-system/remote Failed",
      "Kustomization/flux-system/infra Failed",
      "Kustomization/flux-system/later Suspended",
      "HelmRelease/podinfo/podinfo Pending",
    ]);
    expect(report.objects[0]).toEqual({
      key: "Kustomization/flux-system/apps",
      kind: "Kustomization",
      namespace: "flux-system",
      name: "apps",
      phase: "Ready",
      reason: "ReconciliationSucceeded",
      message: "",
      file: "clusters/prod/apps.yaml",
      line: 2,
      producer: "Kustomization/flux-system/flux-system",
      startedAt: "2026-01-02T03:04:05.000Z",
      finishedAt: "2026-01-02T03:04:06.500Z",
      durationMs: 1500,
    });
    expect(JSON.parse(formatJsonReport(report))).toEqual(report);
  });
});
