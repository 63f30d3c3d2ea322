/**
 * `get sources`: the listing of sources with their resolved revisions, from
 * --sources mappings (no network), and the messages for kinds that can only be
 * mapped.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { runCli } from "../support/cli.js";

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const fixture = path.join(projectRoot, "testdata", "sources-mapped");
const mapped = [
  "--sources",
  "podinfo=vendor/podinfo,apps=vendor/oci-apps,generated=vendor/oci-apps",
];

describe("flux-local get sources", () => {
  it("lists every source with READY, STATUS, URL and REVISION, and fails on the unmapped one", async () => {
    const out = await runCli(
      ["get", "sources", "--path", "clusters/prod", ...mapped, "--offline"],
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
