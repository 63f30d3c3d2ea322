/**
 * `flux-local test` as a user and a CI job run it: one line per object, the
 * failures with their file, line and root cause, the closing count, JUnit and
 * JSON files, GitHub annotations, exit codes.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { JsonReport } from "../../src/views/json.js";
import { runCli } from "../support/cli.js";
import {
  bootstrap,
  configMap,
  failingSource,
  fluxKustomization,
  useTempRepos,
} from "../support/repo.js";

const makeRepo = useTempRepos();

const helmRelease = `---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: podinfo
  namespace: podinfo
spec:
  chart:
    spec:
      chart: podinfo
      sourceRef:
        kind: HelmRepository
        name: podinfo
        namespace: flux-system
`;

const healthy = {
  "clusters/prod/flux-system/gotk.yaml": bootstrap(),
  "clusters/prod/apps.yaml": fluxKustomization("apps", { path: "./apps" }),
  "clusters/prod/later.yaml": fluxKustomization("later", { path: "./apps", suspend: true }),
  "apps/cm.yaml": configMap("settings", { a: "b" }),
  "apps/release.yaml": helmRelease,
};

const broken = { ...healthy, ...failingSource };

/** Output lines with the timings taken out. */
function lines(stdout: string): string[] {
  return stdout
    .replace(/ \(\d+\.\d+ s\)/g, "")
    .replace(/in \d+\.\d+ s$/m, "in T s")
    .trimEnd()
    .split("\n");
}

describe("flux-local test", () => {
  it("prints one line per Kustomization and HelmRelease and the closing count; exit 0", async () => {
    const repo = await makeRepo(healthy);
    const out = await runCli(["test", "--path", "clusters/prod", "--offline"], { cwd: repo.root });
    expect(out.exitCode).toBe(0);
    expect(lines(out.stdout)).toEqual([
      "PASSED  Kustomization flux-system/apps",
      "PASSED  Kustomization flux-system/flux-system",
      "SKIPPED Kustomization flux-system/later: spec.suspend is true",
      "SKIPPED HelmRelease podinfo/podinfo: not rendered: HelmRelease rendering is off (use --enable-helm)",
      "",
      "2 passed, 0 failed, 2 skipped in T s",
    ]);
    // No progress display and nothing else when not on a terminal.
    expect(out.stderr).toBe("");
  });

  it("accepts the Python flux-local's `test PATH` and filters like get", async () => {
    const repo = await makeRepo(healthy);
    const byPath = await runCli(["test", "clusters/prod"], { cwd: repo.root });
    expect(byPath.exitCode).toBe(0);
    expect(byPath.stdout).toContain("2 passed, 0 failed, 2 skipped");

    const one = await runCli(["test", "ks", "apps", "--path", "clusters/prod"], { cwd: repo.root });
    expect(lines(one.stdout)).toEqual([
      "PASSED  Kustomization flux-system/apps",
      "",
      "1 passed, 0 failed, 0 skipped in T s",
    ]);
    const hrs = await runCli(["test", "hr", "-n", "podinfo", "--path", "clusters/prod"], {
      cwd: repo.root,
    });
    expect(lines(hrs.stdout)[0]).toMatch(/^SKIPPED HelmRelease podinfo\/podinfo/);
    const other = await runCli(["test", "hr", "-n", "flux-system", "--path", "clusters/prod"], {
      cwd: repo.root,
    });
    expect(lines(other.stdout)).toEqual(["0 passed, 0 failed, 0 skipped in T s"]);

    const missing = await runCli(["test", "ks", "nope", "--path", "clusters/prod"], {
      cwd: repo.root,
    });
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toMatch(/nothing to test: no Kustomization named nope/);

    const usage = await runCli(["test", "clusters/prod", "extra"], { cwd: repo.root });
    expect(usage.exitCode).toBe(2);
    expect(usage.stderr).toMatch(
      /expected "test \[ks\|hr\|rset\|ag\|all\] \[NAME\]" or "test PATH"/,
    );
  });

  it("shows each failure with where it was defined and its root cause; exit 1; JUnit and JSON", async () => {
    const repo = await makeRepo(broken);
    // A report that cannot be written is a usage error that names it, found
    // before rendering (issue 10, item 7), not a crash.
    const unwritable = await runCli(
      ["test", "ks", "--offline", "--path", "clusters/prod", "--junit", "no/such/dir/junit.xml"],
      { cwd: repo.root },
    );
    expect(unwritable.exitCode).toBe(2);
    expect(unwritable.stderr).toMatch(
      /^flux-local: --junit no\/such\/dir\/junit\.xml: cannot write the file: the folder .*no\/such\/dir does not exist/m,
    );
    expect(unwritable.stderr).not.toMatch(/\n\s+at /);

    const run = await runCli(
      [
        "test",
        "ks",
        "--offline",
        "--path",
        "clusters/prod",
        "--junit",
        "junit.xml",
        "--json",
        "results.json",
      ],
      { cwd: repo.root },
    );
    expect(run.exitCode).toBe(1);
    const text = lines(run.stdout);
    expect(text).toContain("FAILED  Kustomization flux-system/bad");
    expect(run.stdout).toMatch(
      /FAILED {2}Kustomization flux-system\/after.*\n {4}at clusters\/prod\/after\.yaml:2, produced by Kustomization\/flux-system\/flux-system\n {4}DependencyNotReady: .*\n {4}root cause: OCIRepository\/flux-system\/remote \(clusters\/prod\/remote\.yaml:1, produced by Kustomization\/flux-system\/flux-system\): ArtifactFailed: /,
    );
    expect(text.at(-1)).toBe("2 passed, 2 failed, 1 skipped in T s");

    const junit = await readFile(path.join(repo.root, "junit.xml"), "utf8");
    expect(junit).toMatch(
      /^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuites name="flux-local" tests="5" failures="2" errors="0" skipped="1"/,
    );
    expect(junit).toContain('<testsuite name="Kustomization" tests="5" failures="2"');
    expect(junit).toMatch(
      /<testcase classname="Kustomization" name="flux-system\/bad" time="[\d.]+" file="clusters\/prod\/bad.yaml" line="2">\n {6}<failure message="SourceNotReady: /,
    );
    expect(junit).toContain('<skipped message="Suspended: spec.suspend is true"/>');

    const json = JSON.parse(
      await readFile(path.join(repo.root, "results.json"), "utf8"),
    ) as JsonReport;
    expect(json.summary).toEqual({ passed: 2, failed: 2, skipped: 1, total: 5 });
    const after = json.tests.find((t) => t.name === "flux-system/after");
    expect(after).toMatchObject({
      kind: "Kustomization",
      outcome: "failed",
      reason: "DependencyNotReady",
      file: "clusters/prod/after.yaml",
      line: 2,
      rootCause: { object: "OCIRepository/flux-system/remote", reason: "ArtifactFailed" },
    });
    expect(json.objects.map((o) => o.key)).toContain("OCIRepository/flux-system/remote");
    expect(json.objects.find((o) => o.key === "Kustomization/flux-system/apps")).toMatchObject({
      phase: "Ready",
      file: "clusters/prod/apps.yaml",
      startedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      durationMs: expect.any(Number),
    });
  });

  it("fails on YAML that does not parse, naming the file and line", async () => {
    const repo = await makeRepo({ ...healthy, "clusters/prod/bad.yaml": "a: 1\n  b: [\n" });
    const out = await runCli(["test", "--path", "clusters/prod"], { cwd: repo.root });
    expect(out.exitCode).toBe(1);
    expect(out.stdout).toMatch(/^FAILED {2}file clusters\/prod\/bad\.yaml:\d+\n {4}ParseFailed: /m);
  });

  it("under GitHub Actions, annotates failures and writes the step summary", async () => {
    const repo = await makeRepo(broken);
    const summary = path.join(repo.root, "summary.md");
    const env = {
      GITHUB_ACTIONS: "true",
      GITHUB_WORKSPACE: repo.root,
      GITHUB_STEP_SUMMARY: summary,
    };
    const out = await runCli(["test", "--offline", "--path", "clusters/prod"], {
      cwd: repo.root,
      env,
    });
    expect(out.exitCode).toBe(1);
    expect(out.stderr).toMatch(
      /^::error file=clusters\/prod\/bad\.yaml,line=2,title=Kustomization flux-system\/bad%3A SourceNotReady::SourceNotReady: .*%0Aroot cause: OCIRepository\/flux-system\/remote: ArtifactFailed: /m,
    );
    expect(out.stderr).toMatch(
      /^::error file=clusters\/prod\/after\.yaml,line=2,.*%0Aroot cause: /m,
    );
    const md = await readFile(summary, "utf8");
    expect(md).toMatch(
      /^### flux-local test: 2 passed, 2 failed, 2 skipped in \d+\.\d+ s\n\n\| Object \| Location \|/,
    );
    expect(md).toContain(
      "| Kustomization flux-system/bad | `clusters/prod/bad.yaml:2, produced by",
    );

    // Other commands annotate their failures too.
    const build = await runCli(["build", "all", "--offline", "--path", "clusters/prod"], {
      cwd: repo.root,
      env,
    });
    expect(build.exitCode).toBe(1);
    expect(build.stderr).toMatch(/^::error file=clusters\/prod\/bad\.yaml,line=2,/m);
    expect(build.stdout).not.toContain("::error");
  });
});
