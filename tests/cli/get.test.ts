/**
 * `get` for people: status columns (on a terminal, or with --status), -o name,
 * the dependency tree and `get all`. Without a terminal the tables stay
 * flux-local's, byte for byte (scripts read them).
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { runCli } from "../support/cli.js";

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const example = ["--path", "testdata/example"];

describe("flux-local get", () => {
  it("keeps flux-local's columns when not on a terminal, adds status with --status", async () => {
    const plain = await runCli(["get", "ks", ...example], { cwd: projectRoot });
    expect(plain.stdout.split("\n")[0]).toMatch(/^NAME\s+PATH\s+$/);
    const status = await runCli(["get", "ks", "--status", ...example], { cwd: projectRoot });
    expect(status.stdout.split("\n")[0]).toMatch(/^NAME\s+PATH\s+SUSPENDED\s+READY\s+STATUS\s+$/);
    expect(status.stdout).toMatch(
      /experiments\s+testdata\/example\/apps\/experiments\s+True\s+False\s+Suspended: spec.suspend is true/,
    );
    expect(status.stdout).toMatch(/apps\s+testdata\/example\/apps\/prod\s+False\s+True\s+ok/);
  });

  it("summarises the cluster's readiness with --status", async () => {
    const { stdout } = await runCli(["get", "cluster", "--status", ...example], {
      cwd: projectRoot,
    });
    expect(stdout).toMatch(
      /^PATH\s+KUSTOMIZATIONS\s+READY\s+STATUS\s+\ntestdata\/example\s+4\s+True\s+3 ready, 1 suspended\s+\n$/,
    );
  });

  it("prints -o name as kubectl does", async () => {
    const { stdout } = await runCli(["get", "ks", "-o", "name", ...example], { cwd: projectRoot });
    expect(stdout.split("\n")).toContain("kustomization.kustomize.toolkit.fluxcd.io/apps");
    const sources = await runCli(["get", "sources", "-o", "name", ...example], {
      cwd: projectRoot,
    });
    expect(sources.stdout).toBe("gitrepository.source.toolkit.fluxcd.io/flux-system\n");
  });

  it("shows what produced what, with dependsOn, in --tree", async () => {
    const { stdout, exitCode } = await runCli(["get", "ks", "--tree", ...example], {
      cwd: projectRoot,
    });
    expect(exitCode).toBe(0);
    expect(stdout).toBe(
      [
        "Kustomization flux-system/flux-system  Ready",
        "├── Kustomization flux-system/apps  Ready  (after flux-system/infrastructure)",
        "├── Kustomization flux-system/experiments  Suspended: spec.suspend is true",
        "└── Kustomization flux-system/infrastructure  Ready",
        "",
      ].join("\n"),
    );
  });

  it("lists everything with status in get all", async () => {
    const { stdout } = await runCli(["get", "all", ...example], { cwd: projectRoot });
    expect(stdout).toMatch(
      /^Kustomizations:\nKIND\s+NAMESPACE\s+NAME\s+SUSPENDED\s+READY\s+STATUS/,
    );
    expect(stdout).toMatch(
      /Sources:\nKIND\s+NAMESPACE\s+NAME\s+READY\s+STATUS\s+\nGitRepository\s+flux-system\s+flux-system\s+True/,
    );
  });
});
