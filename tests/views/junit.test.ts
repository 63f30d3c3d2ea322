import { describe, expect, it } from "vitest";
import { escapeXml, toJUnit } from "../../src/views/junit.js";
import { collectTestRun } from "../../src/views/test-results.js";
import { finishedRun, T0 } from "./fixtures.js";

const cwd = "/repo";

function junitOf() {
  const result = finishedRun(cwd, [
    {
      severity: "error",
      reason: "ParseFailed",
      message: "tab\tin <yaml>",
      file: `${cwd}/x.yaml`,
      line: 4,
    },
  ]);
  const entries = [...result.store.list("Kustomization"), ...result.store.list("HelmRelease")];
  const run = collectTestRun(result, entries, { cwd, helmEnabled: false, durationMs: 2500 });
  return toJUnit(run, { timestamp: new Date(T0) });
}

describe("toJUnit", () => {
  it("writes one suite per kind and one case per object, with failures, skips and times", () => {
    expect(junitOf()).toBe(`<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="flux-local" tests="5" failures="2" errors="0" skipped="2" time="2.500">
  <testsuite name="Repository" tests="1" failures="1" errors="0" skipped="0" time="0.000" timestamp="2026-01-02T03:04:05.000Z">
    <testcase classname="Repository" name="x.yaml:4" time="0.000" file="x.yaml" line="4">
      <failure message="ParseFailed: tab&#9;in &lt;yaml&gt;" type="ParseFailed">ParseFailed: tab\tin &lt;yaml&gt;
defined at: x.yaml:4</failure>
    </testcase>
  </testsuite>
  <testsuite name="Kustomization" tests="3" failures="1" errors="0" skipped="1" time="1.750" timestamp="2026-01-02T03:04:05.000Z">
    <testcase classname="Kustomization" name="flux-system/apps" time="1.500" file="clusters/prod/apps.yaml" line="2"/>
    <testcase classname="Kustomization" name="flux-system/infra" time="0.250" file="clusters/prod/infra.yaml" line="12">
      <failure message="DependencyNotReady: dependency OCIRepository flux-system/remote is failed" type="DependencyNotReady">DependencyNotReady: dependency OCIRepository flux-system/remote is failed
defined at: clusters/prod/infra.yaml:12
root cause: OCIRepository/flux-system/remote (clusters/prod/remote.yaml:7): ArtifactFailed: pull failed: &lt;unauthorized&gt; &amp; &quot;denied&quot;</failure>
    </testcase>
    <testcase classname="Kustomization" name="flux-system/later" time="0.000" file="clusters/prod/later.yaml" line="1">
      <skipped message="Suspended: spec.suspend is true"/>
    </testcase>
  </testsuite>
  <testsuite name="HelmRelease" tests="1" failures="0" errors="0" skipped="1" time="0.000" timestamp="2026-01-02T03:04:05.000Z">
    <testcase classname="HelmRelease" name="podinfo/podinfo" time="0.000" file="apps/podinfo.yaml" line="3">
      <skipped message="Skipped: not rendered: HelmRelease rendering is off (use --enable-helm)"/>
    </testcase>
  </testsuite>
</testsuites>
`);
  });
});

describe("escapeXml", () => {
  it("escapes markup and drops characters XML 1.0 cannot hold", () => {
    expect(escapeXml(`a<b>&"c'`)).toBe("a&lt;b&gt;&amp;&quot;c&apos;");
    expect(escapeXml("nul\u0000 bell\u0007 ok\n")).toBe("nul bell ok\n");
    expect(escapeXml("emoji \ud83d\ude00 lone \ud83d!")).toBe("emoji \ud83d\ude00 lone !");
  });
});
