/**
 * The command line as a user runs it: exit codes, the failure summary, no stack
 * traces, and an --output-file that is complete or absent.
 */
import { readFile, readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { runCli } from "../support/cli.js";
import {
  bootstrap,
  configMap,
  failingSource,
  fluxKustomization,
  useTempRepos,
} from "../support/repo.js";

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

const makeRepo = useTempRepos();

const healthy = {
  "clusters/prod/flux-system/gotk.yaml": bootstrap(),
  "clusters/prod/apps.yaml": fluxKustomization("apps", { path: "./apps" }),
  "apps/cm.yaml": configMap("settings", { a: "b" }),
  "apps/secret.yaml":
    "apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\n  namespace: default\nstringData:\n  token: hunter2\n",
};

describe("flux-local CLI", () => {
  it("get ks prints flux-local's table and exits 0", async () => {
    const repo = await makeRepo(healthy);
    const { stdout, exitCode } = await runCli(["get", "ks", "--path", "clusters/prod"], {
      cwd: repo.root,
    });
    expect(exitCode).toBe(0);
    expect(stdout).toBe(
      "NAME           PATH             \n" +
        "apps           apps             \n" +
        "flux-system    clusters/prod    \n",
    );
  });

  it("build all writes every object, leaves Secrets out by default and never prints their values", async () => {
    const repo = await makeRepo(healthy);
    const out = await runCli(["build", "all", "clusters/prod"], { cwd: repo.root });
    expect(out.exitCode).toBe(0);
    const kinds = parseAllDocuments(out.stdout).map((d) => (d.toJS() as { kind: string }).kind);
    expect(kinds.sort()).toEqual(["ConfigMap", "GitRepository", "Kustomization", "Kustomization"]);
    const withSecrets = await runCli(
      ["build", "all", "--no-skip-secrets", "--path", "clusters/prod"],
      {
        cwd: repo.root,
      },
    );
    expect(withSecrets.stdout).toContain("token: ..PLACEHOLDER_token..");
    expect(withSecrets.stdout).not.toContain("hunter2");
  });

  it("ends with every failure, names the object and root cause, exits 1, no stack trace", async () => {
    const repo = await makeRepo({ ...healthy, ...failingSource });
    const { stdout, stderr, exitCode } = await runCli(["build", "all", "--path", "clusters/prod"], {
      cwd: repo.root,
    });
    expect(exitCode).toBe(1);
    expect(stdout).toContain("name: settings"); // the rest still rendered
    expect(stderr).toMatch(
      /Kustomization flux-system\/bad \(clusters\/prod\/bad\.yaml:2, produced by/,
    );
    expect(stderr).toMatch(/Kustomization flux-system\/after .*DependencyNotReady/);
    expect(stderr).toMatch(/root cause: OCIRepository\/flux-system\/remote: ArtifactFailed/);
    expect(stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it("writes --output-file whole on success; a failure removes the file an earlier run left", async () => {
    const repo = await makeRepo(healthy);
    const file = path.join(repo.root, "out.yaml");
    const ok = await runCli(["build", "all", "--path", "clusters/prod", "--output-file", file], {
      cwd: repo.root,
    });
    expect(ok.exitCode).toBe(0);
    expect(ok.stdout).toBe("");
    expect(await readFile(file, "utf8")).toContain("name: settings");

    await writeFile(
      path.join(repo.root, "clusters/prod/broken.yaml"),
      fluxKustomization("broken", { path: "./nope" }),
    );
    await writeFile(file, "previous content\n");
    const failed = await runCli(
      ["build", "all", "--path", "clusters/prod", "--output-file", file],
      {
        cwd: repo.root,
      },
    );
    expect(failed.exitCode).toBe(1);
    // A later CI step must never read the old render as this run's.
    await expect(readFile(file, "utf8")).rejects.toThrow(/ENOENT/);
    expect(failed.stderr).toContain(`${file} not written (the run failed)`);
    expect((await readdir(repo.root)).filter((f) => f.includes(".tmp"))).toEqual([]);
  });

  it("build ks NAME fails when no such Kustomization exists", async () => {
    const { stderr, exitCode, stdout } = await runCli(
      ["build", "ks", "nope", "--path", "testdata/example"],
      {
        cwd: projectRoot,
      },
    );
    expect(exitCode).toBe(1);
    expect(stdout).toBe("");
    expect(stderr).toMatch(/Kustomization nope not found in namespace flux-system/);
  });

  it("bad usage exits 2 with a message", async () => {
    const missing = await runCli(["get", "ks", "--path", "no/such/dir"], { cwd: projectRoot });
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toMatch(/--path no\/such\/dir: no such directory/);
    const badSources = await runCli(
      ["get", "ks", "--path", "testdata/example", "--sources", "nonsense="],
      {
        cwd: projectRoot,
      },
    );
    expect(badSources.exitCode).toBe(2);
    expect(badSources.stderr).toMatch(/--sources nonsense=: expected NAME, NAME=PATH/);
    const unknown = await runCli(["frobnicate"], { cwd: projectRoot });
    expect(unknown.exitCode).toBe(2);
  });
});
