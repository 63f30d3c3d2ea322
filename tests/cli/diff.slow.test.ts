/**
 * `flux-local diff` as a user runs it: real git repositories with real
 * commits, the real kustomize, the CLI in a child process. Every "bad input"
 * of the diff issue has a test here.
 */
import { execFileSync } from "node:child_process";
import { cp, mkdir, mkdtemp, readFile, rm, unlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { execa } from "execa";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { runCli } from "../support/cli.js";
import { bootstrap, configMap, fluxKustomization, useTempRepos } from "../support/repo.js";

const makeRepo = useTempRepos();

const extraDirs: string[] = [];
afterEach(async () => {
  await Promise.all(extraDirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

function git(cwd: string, ...args: string[]): string {
  return execFileSync(
    "git",
    [
      "-c",
      "user.name=test",
      "-c",
      "user.email=test@example.com",
      "-c",
      "commit.gpgsign=false",
      ...args,
    ],
    { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
  ).trim();
}

const base = {
  "clusters/prod/flux-system/gotk.yaml": bootstrap(),
  "clusters/prod/apps.yaml": fluxKustomization("apps", { path: "./apps" }),
  "apps/settings.yaml": configMap("settings", { mode: "blue" }),
};

/** What must never change in the user's repository while diff runs. */
function userState(root: string): string {
  return [
    git(root, "status", "--porcelain", "--untracked-files=all"),
    git(root, "stash", "list"),
    git(root, "branch", "-a", "-v"),
    git(root, "worktree", "list", "--porcelain")
      .split("\n")
      .filter((l) => l.startsWith("worktree"))
      .join(","),
    git(root, "diff", "--cached", "--stat"),
  ].join("\n--\n");
}

describe("flux-local diff: the other side", () => {
  it("shows uncommitted and untracked changes against HEAD, leaving the repository untouched", async () => {
    const repo = await makeRepo(base);
    await writeFile(
      path.join(repo.root, "apps/settings.yaml"),
      configMap("settings", { mode: "green" }),
    );
    await writeFile(path.join(repo.root, "apps/new.yaml"), configMap("fresh", { a: "1" }));
    const before = userState(repo.root);

    const result = await runCli(["diff", "ks", "--path", "clusters/prod"], { cwd: repo.root });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain(
      "--- apps Kustomization: flux-system/apps ConfigMap: default/settings\n",
    );
    expect(result.stdout).toContain("-  mode: blue\n+  mode: green\n");
    expect(result.stdout).toContain("@@ -0,0 +1,12 @@"); // the untracked file, added
    expect(result.stderr).toContain(
      "because: file apps/new.yaml added, file apps/settings.yaml changed",
    );
    expect(userState(repo.root)).toBe(before);

    const exit = await runCli(["diff", "ks", "--path", "clusters/prod", "--exit-code"], {
      cwd: repo.root,
    });
    expect(exit.exitCode).toBe(1);
    expect(exit.stdout).toBe(result.stdout);
  });

  it("exits 0 and prints nothing on an unchanged checkout, rendering each build once", async () => {
    const repo = await makeRepo(base);
    const result = await runCli(["diff", "ks", "--path", "clusters/prod", "--exit-code"], {
      cwd: repo.root,
    });
    expect(result).toMatchObject({ exitCode: 0, stdout: "" });
    expect(result.stderr).toContain("2 renders, 2 unchanged");
    const full = await runCli(["diff", "ks", "--path", "clusters/prod", "--full"], {
      cwd: repo.root,
    });
    expect(full).toMatchObject({ exitCode: 0, stdout: "" });
    expect(full.stderr).toContain("4 renders (--full");
  });

  it("refuses an unknown revision", async () => {
    const repo = await makeRepo(base);
    const result = await runCli(
      ["diff", "ks", "--path", "clusters/prod", "--base", "no-such-rev"],
      {
        cwd: repo.root,
      },
    );
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain("unknown revision no-such-rev");
    expect(result.stderr).not.toMatch(/internal error|\n\s+at /);
  });

  it("refuses a --path-orig that does not exist or holds no Flux objects", async () => {
    const repo = await makeRepo(base);
    const missing = await runCli(
      ["diff", "ks", "--path", "clusters/prod", "--path-orig", "nowhere"],
      {
        cwd: repo.root,
      },
    );
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toContain("--path-orig nowhere: no such directory");

    await mkdir(path.join(repo.root, "empty"));
    await writeFile(path.join(repo.root, "empty/cm.yaml"), configMap("x", {}));
    const empty = await runCli(["diff", "ks", "--path", "clusters/prod", "--path-orig", "empty"], {
      cwd: repo.root,
    });
    expect(empty.exitCode).toBe(2);
    expect(empty.stderr).toContain("--path-orig empty holds no Flux Kustomizations");
  });

  it("compares with a branch (--branch-orig) and with the merge-base of the upstream (--base auto)", async () => {
    const origin = await makeRepo(base);
    const clones = await mkdtemp(path.join(os.tmpdir(), "flux-local-clone-"));
    extraDirs.push(clones);
    const clone = path.join(clones, "work");
    git(clones, "clone", "-q", origin.root, clone);
    git(
      clone,
      "checkout",
      "-q",
      "-b",
      "feature",
      "--track",
      `origin/${git(origin.root, "branch", "--show-current")}`,
    );
    await writeFile(path.join(clone, "apps/settings.yaml"), configMap("settings", { mode: "red" }));
    git(clone, "commit", "-qam", "red");

    const auto = await runCli(
      ["diff", "ks", "--path", "clusters/prod", "--base", "auto", "-o", "changes"],
      {
        cwd: clone,
      },
    );
    expect(auto.exitCode).toBe(0);
    expect(auto.stdout).toContain("~ ConfigMap default/settings\n      data.mode: blue → red\n");

    const branch = await runCli(
      ["diff", "ks", "--path", "clusters/prod", "--branch-orig", "feature", "-o", "summary"],
      { cwd: clone },
    );
    expect(branch.stdout).toContain("No differences.");
  });

  it("says to fetch more history when the merge-base is missing from a shallow clone", async () => {
    const origin = await makeRepo(base);
    const main = git(origin.root, "branch", "--show-current");
    git(origin.root, "checkout", "-q", "-b", "feature");
    await writeFile(
      path.join(origin.root, "apps/settings.yaml"),
      configMap("settings", { mode: "f1" }),
    );
    git(origin.root, "commit", "-qam", "f1");
    await writeFile(
      path.join(origin.root, "apps/settings.yaml"),
      configMap("settings", { mode: "f2" }),
    );
    git(origin.root, "commit", "-qam", "f2");
    git(origin.root, "checkout", "-q", main);
    await writeFile(path.join(origin.root, "apps/other.yaml"), configMap("other", {}));
    git(origin.root, "add", "-A");
    git(origin.root, "commit", "-qm", "main moves on");

    const clones = await mkdtemp(path.join(os.tmpdir(), "flux-local-clone-"));
    extraDirs.push(clones);
    const clone = path.join(clones, "shallow");
    git(
      clones,
      "clone",
      "-q",
      "--depth",
      "1",
      "--no-single-branch",
      "--branch",
      "feature",
      `file://${origin.root}`,
      clone,
    );
    git(clone, "branch", "-q", `--set-upstream-to=origin/${main}`);

    const result = await runCli(["diff", "ks", "--path", "clusters/prod", "--base", "auto"], {
      cwd: clone,
    });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain("not in this shallow clone");
    expect(result.stderr).toContain("fetch more history");
    expect(result.stderr).toContain("--path-orig");
  });
});

describe("flux-local diff: what changed", () => {
  it("shows a renamed Kustomization as one that left and one that came, its objects moved", async () => {
    const repo = await makeRepo(base);
    await writeFile(
      path.join(repo.root, "clusters/prod/apps.yaml"),
      fluxKustomization("apps-v2", { path: "./apps" }),
    );
    const result = await runCli(["diff", "ks", "--path", "clusters/prod", "-o", "summary"], {
      cwd: repo.root,
    });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain("Kustomization flux-system/apps-v2 apps (new)");
    expect(result.stdout).toContain(
      "→ ConfigMap default/settings (moved from Kustomization flux-system/apps)",
    );
    const text = await runCli(["diff", "ks", "--path", "clusters/prod"], { cwd: repo.root });
    expect(text.stdout).toContain(
      "--- apps Kustomization: flux-system/apps ConfigMap: default/settings\n",
    );
    expect(text.stdout).toContain(
      "+++ apps Kustomization: flux-system/apps-v2 ConfigMap: default/settings\n",
    );
    expect(text.stdout).toContain(
      "-    kustomize.toolkit.fluxcd.io/name: apps\n+    kustomize.toolkit.fluxcd.io/name: apps-v2\n",
    );
  });

  it("shows an object that moves to another Kustomization as a move", async () => {
    const repo = await makeRepo({
      ...base,
      "clusters/prod/apps.yaml": fluxKustomization("apps", { path: "./apps/a" }),
      "clusters/prod/infra.yaml": fluxKustomization("infra", { path: "./apps/b" }),
      "apps/a/settings.yaml": configMap("settings", { mode: "blue" }),
      "apps/b/keep.yaml": configMap("keep", {}),
      "apps/settings.yaml": "",
    });
    await unlink(path.join(repo.root, "apps/a/settings.yaml"));
    await writeFile(path.join(repo.root, "apps/a/other.yaml"), configMap("other", {}));
    await writeFile(
      path.join(repo.root, "apps/b/settings.yaml"),
      configMap("settings", { mode: "blue" }),
    );
    const result = await runCli(["diff", "ks", "--path", "clusters/prod", "-o", "changes-json"], {
      cwd: repo.root,
    });
    expect(result.exitCode).toBe(0);
    const doc = JSON.parse(result.stdout) as { objects: Array<Record<string, unknown>> };
    const moved = doc.objects.find((o) => o.name === "settings");
    expect(moved).toMatchObject({
      change: "moved",
      owner: { name: "infra" },
      movedFrom: { name: "apps" },
    });
    expect(doc.objects.filter((o) => o.name === "settings")).toHaveLength(1);
  });

  it("reports a Kustomization added or removed entirely", async () => {
    const repo = await makeRepo({
      ...base,
      "clusters/prod/old.yaml": fluxKustomization("old", { path: "./old" }),
      "old/cm.yaml": configMap("legacy", { a: "1" }),
    });
    await unlink(path.join(repo.root, "clusters/prod/old.yaml"));
    await writeFile(
      path.join(repo.root, "clusters/prod/new.yaml"),
      fluxKustomization("new", { path: "./new" }),
    );
    await mkdir(path.join(repo.root, "new"));
    await writeFile(path.join(repo.root, "new/cm.yaml"), configMap("fresh", { b: "2" }));
    const result = await runCli(["diff", "all", "clusters/prod", "-o", "markdown"], {
      cwd: repo.root,
    });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain("| Kustomization: flux-system/new | 1 | 0 | 0 |");
    expect(result.stdout).toContain("| Kustomization: flux-system/old | 0 | 0 | 1 |");
    const plan = await runCli(["diff", "all", "clusters/prod", "-o", "summary"], {
      cwd: repo.root,
    });
    expect(plan.stdout).toContain("Kustomization flux-system/new new (new)\n");
    expect(plan.stdout).toContain("Kustomization flux-system/old old (removed)\n");
  });

  it("prints binary-looking ConfigMap data safely", async () => {
    const repo = await makeRepo(base);
    const bytes = Buffer.from([0, 1, 2, 255, 254, 10, 13, 27]).toString("base64");
    await writeFile(
      path.join(repo.root, "apps/bin.yaml"),
      `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bin\n  namespace: default\nbinaryData:\n  blob: ${bytes}\ndata:\n  ctl: "a\\u0001b\\u001bc"\n`,
    );
    const result = await runCli(["diff", "ks", "--path", "clusters/prod"], { cwd: repo.root });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain(`+  blob: ${bytes}\n`);
    expect(result.stdout).toContain('+  ctl: "a\\x01b\\ec"\n');
    // No raw control characters reach the terminal.
    expect([...result.stdout].filter((ch) => ch < " " && ch !== "\n")).toEqual([]);
    const json = await runCli(["diff", "ks", "--path", "clusters/prod", "-o", "json"], {
      cwd: repo.root,
    });
    expect(() => JSON.parse(json.stdout) as unknown).not.toThrow();
  });

  it("never prints a Secret's values, only that they changed", async () => {
    const secret = (token: string) =>
      `apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\n  namespace: default\nstringData:\n  token: ${token}\n`;
    const repo = await makeRepo({ ...base, "apps/secret.yaml": secret("hunter2") });
    await writeFile(path.join(repo.root, "apps/secret.yaml"), secret("hunter3"));
    const args = ["diff", "ks", "--path", "clusters/prod", "--no-skip-secrets"];
    for (const output of ["diff", "yaml", "changes", "markdown"]) {
      const result = await runCli([...args, "-o", output], { cwd: repo.root });
      expect(result.exitCode).toBe(0);
      expect(result.stdout + result.stderr).not.toMatch(/hunter/);
      expect(result.stdout).toMatch(/Secret values/);
    }
    const skipped = await runCli(["diff", "ks", "--path", "clusters/prod"], { cwd: repo.root });
    expect(skipped.stdout).toBe("");
  });

  it("withholds the diff of a Kustomization that fails on one side, and exits 3", async () => {
    const repo = await makeRepo({
      ...base,
      "apps/kustomization.yaml": "resources: [settings.yaml]\n",
    });
    await writeFile(path.join(repo.root, "apps/kustomization.yaml"), "resources: [missing.yaml]\n");
    const result = await runCli(["diff", "ks", "--path", "clusters/prod"], { cwd: repo.root });
    expect(result.exitCode).toBe(3);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("Kustomization flux-system/apps failed on the current side");
    expect(result.stderr).toContain("its diff is withheld");
    expect(await readFile(path.join(repo.root, "apps/kustomization.yaml"), "utf8")).toContain(
      "missing",
    );
  });
});

describe("flux-local diff hr: HelmReleases with the real helm", () => {
  const projectRoot = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..", "..");

  /** A repository laid out as this project's testdata (the example's paths are relative to it). */
  async function helmRepo() {
    const repo = await makeRepo({ "README.md": "helm diff\n" }, { git: false });
    await cp(
      path.join(projectRoot, "testdata/helm-example"),
      path.join(repo.root, "testdata/helm-example"),
      {
        recursive: true,
      },
    );
    await cp(
      path.join(projectRoot, "testdata/charts/podinfo"),
      path.join(repo.root, "testdata/charts/podinfo"),
      {
        recursive: true,
      },
    );
    git(repo.root, "init", "-q");
    git(repo.root, "add", "-A");
    git(repo.root, "commit", "-qm", "init");
    return repo;
  }
  const args = [
    "diff",
    "hr",
    "podinfo",
    "-n",
    "podinfo",
    "--path",
    "testdata/helm-example/clusters/prod",
  ];

  it("renders nothing when the release's inputs did not change", async () => {
    const repo = await helmRepo();
    const result = await runCli([...args, "-o", "changes-json"], { cwd: repo.root });
    expect(result.exitCode).toBe(0);
    const doc = JSON.parse(result.stdout) as { objects: unknown[]; renders: { rendered: number } };
    expect(doc.objects).toEqual([]);
    // Only the two kustomize builds ran (shared by both sides): no helm.
    expect(doc.renders.rendered).toBe(2);
  });

  it("diffs the rendered objects when values change, and says why", async () => {
    const repo = await helmRepo();
    const values = path.join(repo.root, "testdata/helm-example/apps/podinfo/values.yaml");
    await writeFile(
      values,
      (await readFile(values, "utf8")).replace("replicaCount: 2", "replicaCount: 3"),
    );
    const result = await runCli([...args, "-o", "changes"], { cwd: repo.root });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain("HelmRelease podinfo/podinfo\n  because: values changed\n");
    expect(result.stdout).toContain("~ Deployment podinfo/podinfo\n      spec.replicas: 2 → 3\n");
    const text = await runCli(args, { cwd: repo.root });
    expect(text.stdout).toContain(
      "--- HelmRelease: podinfo/podinfo Deployment: podinfo/podinfo\n\n",
    );
    expect(text.stdout).toContain("-  replicas: 2\n+  replicas: 3\n");
  });

  it("re-renders when only the local chart changed", async () => {
    const repo = await helmRepo();
    // The release is unchanged; the chart folder it renders (in the checkout) is not.
    const chartValues = path.join(repo.root, "testdata/charts/podinfo/values.yaml");
    await writeFile(
      chartValues,
      (await readFile(chartValues, "utf8")).replace("type: ClusterIP", "type: NodePort"),
    );
    const result = await runCli([...args, "-o", "summary"], { cwd: repo.root });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain("HelmRelease podinfo/podinfo\n");
    expect(result.stdout).toContain("because: file chart/values.yaml changed");
    expect(result.stdout).toContain("~ Service podinfo/podinfo");
  });
});

describe("flux-local diff: flags and cleanup", () => {
  it("runs an external differ from DIFF, and prints the plan first with --plan", async () => {
    const repo = await makeRepo(base);
    await writeFile(
      path.join(repo.root, "apps/settings.yaml"),
      configMap("settings", { mode: "green" }),
    );
    const external = await runCli(["diff", "ks", "--path", "clusters/prod"], {
      cwd: repo.root,
      env: { DIFF: "diff -u" },
    });
    expect(external.exitCode).toBe(0);
    expect(external.stdout).toMatch(/^--- .*a\.yaml/m);
    expect(external.stdout).toContain("-  mode: blue\n+  mode: green\n");

    const plan = await runCli(["diff", "ks", "--path", "clusters/prod", "--plan"], {
      cwd: repo.root,
    });
    expect(plan.stdout.indexOf("~ ConfigMap default/settings")).toBeLessThan(
      plan.stdout.indexOf("--- apps Kustomization"),
    );
    expect(plan.stdout).toContain("because: file apps/settings.yaml changed");
  });

  it("removes its temporary worktree when interrupted", async () => {
    const files: Record<string, string> = { ...base };
    for (let i = 0; i < 40; i++) {
      files[`clusters/prod/app-${i}.yaml`] = fluxKustomization(`app-${i}`, {
        path: `./many/app-${i}`,
      });
      files[`many/app-${i}/cm.yaml`] = configMap(`cm-${i}`, { i: String(i) });
    }
    const repo = await makeRepo(files);
    const projectRoot = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..", "..");
    const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
    const child = execa(
      process.execPath,
      [
        "--import",
        tsx,
        path.join(projectRoot, "tests/support/cli-entry.ts"),
        "diff",
        "ks",
        "--path",
        "clusters/prod",
        "--full",
        "-v",
        "--log-format",
        "json",
      ],
      { cwd: repo.root, reject: false, env: { NO_COLOR: "1" } },
    );
    // Interrupt as soon as git has made the worktree (the renders take longer).
    await new Promise<void>((resolve) => {
      let seen = "";
      child.stderr?.on("data", (chunk: Buffer) => {
        seen += chunk.toString();
        if (/"worktree","add"/.test(seen)) resolve();
      });
      void child.then(() => resolve());
    });
    child.kill("SIGINT");
    const result = await child;
    // Interrupted, it cleans up and exits 130, as a shell reports Ctrl-C (src/util/interrupt.ts).
    expect(result.exitCode).toBe(130);
    const worktrees = git(repo.root, "worktree", "list", "--porcelain")
      .split("\n")
      .filter((l) => l.startsWith("worktree "));
    expect(worktrees).toHaveLength(1);
    expect(git(repo.root, "status", "--porcelain")).toBe("");
  });
});
