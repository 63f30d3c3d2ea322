/**
 * `flux-local hook`: installs into real temp git repositories (core.hooksPath
 * respected, a hook it did not write never overwritten, uninstall removes only
 * its block), and a real `git push` to a real bare remote runs the check: a
 * push that breaks a cluster is stopped, a fixed one goes through, a push
 * touching no cluster is not tested.
 */
import { execFileSync } from "node:child_process";
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { parse } from "yaml";
import { afterEach, describe, expect, it } from "vitest";
import { runCli, writeCliShim } from "../support/cli.js";
import { bootstrap, configMap, fluxKustomization, useTempRepos } from "../support/repo.js";
import { affectedClusters, parsePushInput } from "../../src/cli/hook/changes.js";
import { BEGIN_MARKER, END_MARKER } from "../../src/cli/hook/block.js";

const makeRepo = useTempRepos();
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

function git(cwd: string, ...args: string[]): string {
  return execFileSync(
    "git",
    ["-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false", ...args],
    { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
  ).trim();
}

const cluster = {
  "clusters/prod/flux-system/gotk.yaml": bootstrap(),
  "clusters/prod/apps.yaml": fluxKustomization("apps", { path: "./apps" }),
  "apps/settings.yaml": configMap("settings", { mode: "blue" }),
  "README.md": "# fleet\n",
};

const OTHER_HOOK = "#!/bin/sh\n# the team's own check\necho checking >&2\n";

describe("flux-local hook install / uninstall", () => {
  it("writes an executable pre-push hook testing the clusters it finds", async () => {
    const repo = await makeRepo(cluster);
    const { stdout, exitCode } = await runCli(["hook", "install"], { cwd: repo.root });
    expect(exitCode).toBe(0);
    const file = path.join(repo.root, ".git", "hooks", "pre-push");
    expect(stdout).toBe(
      ".git/hooks/pre-push written: every push runs flux-local hook pre-push --path clusters/prod\n",
    );
    const text = await readFile(file, "utf8");
    expect(text.startsWith(`#!/bin/sh\n${BEGIN_MARKER}\n`)).toBe(true);
    expect(text).toContain('flux-local hook pre-push --path clusters/prod "$@" || exit $?');
    expect(text.trimEnd().endsWith(END_MARKER)).toBe(true);
    expect((await stat(file)).mode & 0o111).toBe(0o111);

    // Again: the block is replaced in place, never doubled.
    const again = await runCli(["hook", "install", "--path", "clusters/prod", "--enable-helm"], {
      cwd: repo.root,
    });
    expect(again.stdout).toContain("updated");
    const updated = await readFile(file, "utf8");
    expect(updated.split(BEGIN_MARKER)).toHaveLength(2);
    expect(updated).toContain("--path clusters/prod --enable-helm");
  });

  it("respects core.hooksPath", async () => {
    const repo = await makeRepo(cluster);
    git(repo.root, "config", "core.hooksPath", ".githooks");
    const { exitCode } = await runCli(["hook", "install"], { cwd: path.join(repo.root, "apps") });
    expect(exitCode).toBe(0);
    expect(await readFile(path.join(repo.root, ".githooks", "pre-push"), "utf8")).toContain(
      BEGIN_MARKER,
    );
    await expect(stat(path.join(repo.root, ".git", "hooks", "pre-push"))).rejects.toThrow();
  });

  it("never overwrites a hook it did not write; --force adds its block and uninstall takes only that", async () => {
    const repo = await makeRepo(cluster);
    const file = path.join(repo.root, ".git", "hooks", "pre-push");
    await writeFile(file, OTHER_HOOK);
    await chmod(file, 0o755);

    const refused = await runCli(["hook", "install"], { cwd: repo.root });
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain("not changed: a pre-push hook that flux-local did not write");
    expect(refused.stderr).toContain("--force");
    expect(await readFile(file, "utf8")).toBe(OTHER_HOOK);

    const forced = await runCli(["hook", "install", "--force"], { cwd: repo.root });
    expect(forced.exitCode).toBe(0);
    expect(forced.stdout).toContain("added to");
    const both = await readFile(file, "utf8");
    expect(both.startsWith(OTHER_HOOK)).toBe(true);
    expect(both).toContain(BEGIN_MARKER);

    const removed = await runCli(["hook", "uninstall"], { cwd: repo.root });
    expect(removed.stdout).toContain("the rest is kept");
    expect(await readFile(file, "utf8")).toBe(OTHER_HOOK);

    const nothing = await runCli(["hook", "uninstall"], { cwd: repo.root });
    expect(nothing.exitCode).toBe(0);
    expect(nothing.stdout).toContain("no flux-local check in");
  });

  it("removes a hook that held only its block", async () => {
    const repo = await makeRepo(cluster);
    await runCli(["hook", "install"], { cwd: repo.root });
    const { stdout } = await runCli(["hook", "uninstall"], { cwd: repo.root });
    expect(stdout).toContain("removed (it held only the flux-local check)");
    await expect(stat(path.join(repo.root, ".git", "hooks", "pre-push"))).rejects.toThrow();
  });

  it("outside a git repository is a usage error", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "flux-local-nogit-"));
    dirs.push(dir);
    const { exitCode, stderr } = await runCli(["hook", "install"], { cwd: dir });
    expect(exitCode).toBe(2);
    expect(stderr).toContain("is not inside a git repository");
  });
});

describe("flux-local hook print", () => {
  it("prints pre-commit and lefthook configuration that parses, with the clusters", async () => {
    const repo = await makeRepo(cluster);
    const pc = await runCli(["hook", "print", "--for", "pre-commit"], { cwd: repo.root });
    const config = parse(pc.stdout) as {
      repos: Array<{ repo: string; hooks: Array<{ entry: string; stages: string[] }> }>;
    };
    expect(config.repos[0]?.repo).toBe("local");
    expect(config.repos[0]?.hooks[0]?.entry).toBe(
      "npx --no-install flux-local hook pre-push --path clusters/prod",
    );
    expect(config.repos[0]?.hooks[0]?.stages).toEqual(["pre-push"]);

    const lh = await runCli(["hook", "print", "--for", "lefthook", "--path", "clusters/prod"], {
      cwd: repo.root,
    });
    const lefthook = parse(lh.stdout) as {
      "pre-push": { commands: { "flux-local": { run: string; use_stdin: boolean } } };
    };
    expect(lefthook["pre-push"].commands["flux-local"]).toEqual({
      use_stdin: true,
      run: "npx --no-install flux-local hook pre-push --path clusters/prod",
    });

    const all = await runCli(["hook", "print"], { cwd: repo.root });
    expect(all.stdout).toContain("# .pre-commit-config.yaml");
    expect(all.stdout).toContain("# lefthook.yml");
    expect(all.stdout).toContain(BEGIN_MARKER);
  });
});

describe("what a push changes", () => {
  it("reads git's pre-push input", () => {
    expect(
      parsePushInput(
        "refs/heads/main 1111111111111111111111111111111111111111 refs/heads/main 0000000000000000000000000000000000000000\n",
      ),
    ).toEqual([
      {
        localSha: "1111111111111111111111111111111111111111",
        remoteSha: "0000000000000000000000000000000000000000",
      },
    ]);
  });

  it("maps changed files to the clusters they concern", () => {
    const clusters = ["clusters/prod", "clusters/staging"];
    expect(affectedClusters(["clusters/prod/apps.yaml"], clusters)).toEqual(["clusters/prod"]);
    expect(affectedClusters(["apps/base/web.yaml"], clusters)).toEqual(clusters);
    expect(affectedClusters(["README.md", ".github/workflows/ci.yaml"], clusters)).toEqual([]);
    expect(affectedClusters(["clusters/prod-old/x.yaml"], clusters)).toEqual(clusters);
  });
});

describe("a real git push with the hook installed", () => {
  it("stops a push that breaks the cluster, lets the fix through, skips pushes that touch none", async () => {
    const repo = await makeRepo(cluster);
    const remote = await mkdtemp(path.join(os.tmpdir(), "flux-local-remote-"));
    dirs.push(remote);
    git(remote, "init", "-q", "--bare");
    git(repo.root, "remote", "add", "origin", remote);
    git(repo.root, "push", "-q", "origin", "HEAD:refs/heads/main");
    git(repo.root, "branch", "--set-upstream-to=origin/main");

    // `flux-local` on PATH is this checkout's CLI (from source).
    const bin = await mkdtemp(path.join(os.tmpdir(), "flux-local-bin-"));
    dirs.push(bin);
    await writeCliShim(bin);
    const env = { PATH: `${bin}${path.delimiter}${process.env.PATH ?? ""}`, NO_COLOR: "1" };

    expect((await runCli(["hook", "install"], { cwd: repo.root })).exitCode).toBe(0);
    const push = () =>
      execa("git", ["push", "origin", "HEAD:refs/heads/main"], {
        cwd: repo.root,
        env,
        reject: false,
        timeout: 120_000,
      });

    // A commit that breaks the cluster: the push is stopped, the remote unchanged.
    const before = git(remote, "rev-parse", "main");
    await mkdir(path.join(repo.root, "apps"), { recursive: true });
    await writeFile(path.join(repo.root, "apps", "broken.yaml"), "kind: [unclosed\n");
    git(repo.root, "add", "-A");
    git(repo.root, "commit", "-qm", "break");
    const stopped = await push();
    expect(stopped.exitCode).not.toBe(0);
    expect(String(stopped.stderr)).toContain("flux-local: testing clusters/prod before the push");
    expect(String(stopped.stdout)).toMatch(/FAILED/);
    expect(String(stopped.stderr)).toContain("flux-local: push stopped");
    expect(git(remote, "rev-parse", "main")).toBe(before);

    // The fix (with a real change) goes through.
    await rm(path.join(repo.root, "apps", "broken.yaml"));
    await writeFile(
      path.join(repo.root, "apps", "settings.yaml"),
      configMap("settings", { mode: "green" }),
    );
    git(repo.root, "add", "-A");
    git(repo.root, "commit", "-qm", "fix");
    const fixed = await push();
    expect(fixed.exitCode, String(fixed.stderr)).toBe(0);
    expect(String(fixed.stdout)).toMatch(/\d+ passed, 0 failed/);
    expect(git(remote, "rev-parse", "main")).toBe(git(repo.root, "rev-parse", "HEAD"));

    // Only documentation changed: no cluster tested.
    await writeFile(path.join(repo.root, "README.md"), "# fleet\n\nmore words\n");
    git(repo.root, "commit", "-qam", "docs");
    const docs = await push();
    expect(docs.exitCode).toBe(0);
    expect(String(docs.stderr)).toContain(
      "flux-local: the push changes no cluster (1 file changed",
    );
    expect(String(docs.stderr)).not.toContain("testing");
  });
});
