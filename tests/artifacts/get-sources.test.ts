/**
 * `get sources`: the listing of sources with their resolved revisions, from
 * --sources mappings (no network), and the messages for kinds that can only be
 * mapped.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { runCli } from "../support/cli.js";
import { useTempRepos } from "../support/repo.js";

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const fixture = path.join(projectRoot, "testdata", "sources-mapped");
const mapped = [
  "--sources",
  "podinfo=vendor/podinfo,apps=vendor/oci-apps,generated=vendor/oci-apps",
];

describe("flux-local get sources", () => {
  it("lists every source with READY, STATUS, URL and REVISION, and fails on the unmapped one", async () => {
    // A bare `reports` keeps the Kustomization built from the Bucket in the run
    // (flux-local's --sources restriction) without mapping the Bucket.
    const out = await runCli(
      ["get", "sources", "--path", "clusters/prod", ...mapped, "--sources", "reports", "--offline"],
      { cwd: fixture },
    );
    const rows = out.stdout
      .trimEnd()
      .split("\n")
      .map((l) => l.trim().split(/\s{2,}/));
    expect(rows[0]).toEqual(["NAME", "READY", "STATUS", "URL", "REVISION"]);
    expect(rows.slice(1).map((r) => [r[0], r[1]])).toEqual([
      ["gitrepository/podinfo", "True"],
      ["ocirepository/apps", "True"],
      ["bucket/reports", "False"],
      ["externalartifact/generated", "True"],
    ]);
    expect(rows[1]?.[3]).toBe("https://git.example.com/podinfo.git");
    expect(rows[1]?.[4]).toBe("local");
    expect(rows[3]?.[2]).toBe(
      "Bucket flux-system/reports: buckets are not fetched by flux-local; map it to a local directory with --sources reports=PATH",
    );
    expect(out.exitCode).toBe(1);
    expect(out.stderr).toContain("Bucket flux-system/reports");
  });

  it("leaves out what --sources does not list: its Kustomizations skipped, its source not needed", async () => {
    const out = await runCli(
      ["get", "sources", "--path", "clusters/prod", ...mapped, "--offline", "-o", "yaml"],
      { cwd: fixture },
    );
    expect(out.exitCode).toBe(0);
    const listed = parse(out.stdout) as Array<{ name: string; status: { reason: string } }>;
    expect(listed.find((s) => s.name === "reports")?.status.reason).toBe("NotNeeded");
    const ks = await runCli(
      ["get", "ks", "-A", "--status", "--path", "clusters/prod", ...mapped, "--offline"],
      { cwd: fixture },
    );
    expect(ks.exitCode).toBe(0);
    expect(ks.stdout).toMatch(/reports .*NotInSources: not in --sources/);
  });

  it("filters by kind and prints yaml", async () => {
    const out = await runCli(
      [
        "get",
        "sources",
        "--kind",
        "oci",
        "-o",
        "yaml",
        "--path",
        "clusters/prod",
        ...mapped,
        "--sources",
        "reports=vendor/oci-apps",
        "--offline",
      ],
      {
        cwd: fixture,
      },
    );
    expect(out.exitCode).toBe(0);
    expect(out.stdout).toBe(
      [
        "- kind: OCIRepository",
        "  name: apps",
        "  namespace: flux-system",
        "  ready: true",
        "  status:",
        "    phase: Ready",
        "    reason: ReconciliationSucceeded",
        `    message: mapped to ${path.join(fixture, "vendor/oci-apps")}`,
        "  url: oci://registry.example.com/fleet/apps",
        "  revision: local",
        `  path: ${path.join(fixture, "vendor/oci-apps")}`,
        "",
      ].join("\n"),
    );
  });

  it("renders Kustomizations from mapped Git and OCI sources", async () => {
    const out = await runCli(
      [
        "build",
        "all",
        "--path",
        "clusters/prod",
        ...mapped,
        "--sources",
        "reports=vendor/oci-apps",
      ],
      {
        cwd: fixture,
      },
    );
    expect(out.exitCode).toBe(0);
    expect(out.stdout).toContain("from: git");
    expect(out.stdout).toContain("from: oci");
  });

  it("says an ExternalArtifact must be mapped", async () => {
    const out = await runCli(
      ["get", "sources", "--kind", "external", "--path", "clusters/prod", "--offline"],
      {
        cwd: fixture,
      },
    );
    expect(out.exitCode).toBe(1);
    expect(out.stdout).toContain(
      "ExternalArtifact flux-system/generated: an ExternalArtifact is produced in the cluster by another controller (no ArtifactGenerator of this repository generates it); map it to a local directory with --sources generated=PATH",
    );
  });
});

describe("sources nothing in the run uses", () => {
  const makeRepo = useTempRepos();

  it("are NotNeeded, never fetched and never failures", async () => {
    const repo = await makeRepo({
      "clusters/prod/sources.yaml": [
        "apiVersion: source.toolkit.fluxcd.io/v1\nkind: Bucket\nmetadata:\n  name: unused-bucket\n  namespace: flux-system\nspec:\n  bucketName: x\n  endpoint: minio.invalid\n",
        "apiVersion: source.toolkit.fluxcd.io/v1\nkind: ExternalArtifact\nmetadata:\n  name: unused-artifact\n  namespace: flux-system\nspec: {}\n",
        "apiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmRepository\nmetadata:\n  name: unused-charts\n  namespace: flux-system\nspec:\n  url: https://charts.invalid\n",
        "apiVersion: source.toolkit.fluxcd.io/v1\nkind: OCIRepository\nmetadata:\n  name: unused-oci\n  namespace: flux-system\nspec:\n  url: oci://registry.invalid/x\n  ref:\n    tag: v1\n",
      ].join("---\n"),
    });
    for (const args of [["build", "all"], ["build", "all", "--enable-helm"], ["test"]]) {
      const out = await runCli([...args, "--path", "clusters/prod"], { cwd: repo.root });
      expect(out.stderr).not.toMatch(/failure/);
      expect(out.exitCode).toBe(0);
    }
    const out = await runCli(["get", "sources", "--path", "clusters/prod", "-o", "yaml"], {
      cwd: repo.root,
    });
    expect(out.exitCode).toBe(0);
    const listed = parse(out.stdout) as Array<{
      name: string;
      status: { phase: string; reason: string };
    }>;
    expect(listed.map((s) => [s.name, s.status.phase, s.status.reason])).toEqual([
      ["unused-oci", "Skipped", "NotNeeded"],
      ["unused-bucket", "Skipped", "NotNeeded"],
      ["unused-artifact", "Skipped", "NotNeeded"],
      ["unused-charts", "Skipped", "NotNeeded"],
    ]);
  });
});
