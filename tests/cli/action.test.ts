/**
 * The GitHub Actions (action/test, action/diff) without GitHub: their script
 * steps run with the environment a runner provides (GITHUB_OUTPUT,
 * GITHUB_STEP_SUMMARY, GITHUB_EVENT_PATH, GITHUB_API_URL pointing at a
 * loopback stand-in for the comments API), on real git checkouts with the
 * real kustomize; `pr-comment` keeps one comment per cluster path, updated in
 * place. The action files are checked to declare what their steps use.
 */
import { execFileSync } from "node:child_process";
import {
  access,
  appendFile,
  constants,
  mkdir,
  mkdtemp,
  readFile,
  rm,
  writeFile,
} from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { parse } from "yaml";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runCli, writeCliShim } from "../support/cli.js";
import { startFakeGitHub, type FakeGitHub } from "../support/github-api.js";
import { bootstrap, configMap, fluxKustomization } from "../support/repo.js";
import { markerFor } from "../../src/cli/github/comment.js";

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const REPO = "acme/fleet";

let work: string;
let api: FakeGitHub;
beforeEach(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), "flux-local-action-"));
  api = await startFakeGitHub(REPO);
});
afterEach(async () => {
  await api.stop();
  await rm(work, { recursive: true, force: true });
});

/** The runner's environment for one step: fresh output and summary files. */
async function runnerEnv(event: unknown): Promise<Record<string, string>> {
  const eventPath = path.join(work, "event.json");
  await writeFile(eventPath, JSON.stringify(event));
  const output = path.join(work, `output-${api.calls.length}-${Math.random()}`);
  const summary = path.join(work, "summary.md");
  await writeFile(output, "");
  return {
    GITHUB_ACTIONS: "true",
    GITHUB_EVENT_NAME: "pull_request",
    GITHUB_EVENT_PATH: eventPath,
    GITHUB_REPOSITORY: REPO,
    GITHUB_API_URL: api.url,
    GITHUB_TOKEN: "test-token",
    GITHUB_OUTPUT: output,
    GITHUB_STEP_SUMMARY: summary,
    RUNNER_TEMP: work,
  };
}

const prEvent = { action: "synchronize", number: 7, pull_request: { number: 7 } };

async function outputs(file: string): Promise<Record<string, string>> {
  const text = await readFile(file, "utf8");
  const out: Record<string, string> = {};
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? "";
    const heredoc = line.match(/^([\w-]+)<<(.+)$/);
    if (heredoc) {
      const end = lines.indexOf(heredoc[2] ?? "", i + 1);
      out[heredoc[1] ?? ""] = lines.slice(i + 1, end).join("\n");
      i = end;
      continue;
    }
    const eq = line.indexOf("=");
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

async function comment(
  file: string,
  key: string,
  env: Record<string, string>,
  extra: string[] = [],
) {
  return runCli(["pr-comment", file, "--key", key, ...extra], { cwd: work, env });
}

describe("flux-local pr-comment", () => {
  it("creates one comment, updates it in place, and says 'No changes.' when the diff empties", async () => {
    const diff = path.join(work, "diff.md");
    await writeFile(diff, "| owner | added |\n| --- | --- |\n| apps | 1 |\n");

    let env = await runnerEnv(prEvent);
    const first = await comment(diff, "clusters/prod (kustomization)", env);
    expect(first.exitCode, first.stderr).toBe(0);
    expect(api.comments).toHaveLength(1);
    const id = api.comments[0]?.id;
    expect(api.comments[0]?.body).toBe(
      `${markerFor("clusters/prod (kustomization)")}\n### flux-local diff: \`clusters/prod (kustomization)\`\n\n| owner | added |\n| --- | --- |\n| apps | 1 |\n`,
    );
    expect(api.calls.map((c) => `${c.method} ${c.path}`)).toEqual([
      `GET /repos/${REPO}/issues/7/comments?per_page=100&page=1`,
      `POST /repos/${REPO}/issues/7/comments`,
    ]);
    expect(api.calls.every((c) => c.authorization === "Bearer test-token")).toBe(true);
    expect(await outputs(env.GITHUB_OUTPUT as string)).toEqual({
      "comment-action": "created",
      "comment-id": String(id),
    });
    expect(await readFile(env.GITHUB_STEP_SUMMARY as string, "utf8")).toContain(
      "flux-local diff `clusters/prod (kustomization)`: comment created ([comment](https://github.example/",
    );

    // The next push: the same comment, edited.
    api.calls.length = 0;
    await writeFile(diff, "| owner | added |\n| --- | --- |\n| apps | 2 |\n");
    env = await runnerEnv(prEvent);
    await comment(diff, "clusters/prod (kustomization)", env);
    expect(api.calls.map((c) => c.method)).toEqual(["GET", "PATCH"]);
    expect(api.calls[1]?.path).toBe(`/repos/${REPO}/issues/comments/${id}`);
    expect(api.comments).toHaveLength(1);
    expect(api.comments[0]?.body).toContain("| apps | 2 |");
    expect((await outputs(env.GITHUB_OUTPUT as string))["comment-action"]).toBe("updated");

    // Same diff again: nothing written.
    api.calls.length = 0;
    env = await runnerEnv(prEvent);
    await comment(diff, "clusters/prod (kustomization)", env);
    expect(api.calls.map((c) => c.method)).toEqual(["GET"]);
    expect((await outputs(env.GITHUB_OUTPUT as string))["comment-action"]).toBe("unchanged");

    // The diff became empty: the comment says so.
    api.calls.length = 0;
    await writeFile(diff, "");
    env = await runnerEnv(prEvent);
    await comment(diff, "clusters/prod (kustomization)", env);
    expect(api.calls.map((c) => c.method)).toEqual(["GET", "PATCH"]);
    expect(api.comments[0]?.body).toMatch(/\n\nNo changes\.\n$/);
    expect(api.comments[0]?.id).toBe(id);
  });

  it("keeps one comment per key, finds its own past the first page, deletes with --empty delete", async () => {
    for (let i = 0; i < 100; i++) api.comments.push({ id: i + 1, issue: 7, body: `review ${i}` });
    const diff = path.join(work, "diff.md");
    await writeFile(diff, "something changed\n");
    await comment(diff, "clusters/prod (kustomization)", await runnerEnv(prEvent));
    await comment(diff, "clusters/staging (kustomization)", await runnerEnv(prEvent));
    const ours = () => api.comments.filter((c) => c.body.includes("flux-local diff:"));
    expect(ours()).toHaveLength(2);

    api.calls.length = 0;
    await writeFile(diff, "");
    const env = await runnerEnv(prEvent);
    const removed = await comment(diff, "clusters/staging (kustomization)", env, [
      "--empty",
      "delete",
    ]);
    expect(removed.stdout).toContain("comment deleted");
    const calls = api.calls.map((c) => `${c.method} ${c.path.replace(/\?.*/, "")}`);
    expect(calls).toHaveLength(3);
    expect(calls.slice(0, 2)).toEqual([
      `GET /repos/${REPO}/issues/7/comments`,
      `GET /repos/${REPO}/issues/7/comments`,
    ]);
    expect(calls[2]).toMatch(/^DELETE \/repos\/acme\/fleet\/issues\/comments\/\d+$/);
    expect(ours().map((c) => c.body.split("\n")[0])).toEqual([
      markerFor("clusters/prod (kustomization)"),
    ]);
    expect(api.comments).toHaveLength(101);
  });

  it("does nothing outside a pull request, or for an empty diff without a comment", async () => {
    const diff = path.join(work, "diff.md");
    await writeFile(diff, "changes\n");
    const push = await comment(diff, "clusters/prod", await runnerEnv({ ref: "refs/heads/main" }));
    expect(push.exitCode).toBe(0);
    expect(push.stdout).toContain("comment none (the event is not a pull request)");
    expect(api.calls).toEqual([]);

    await writeFile(diff, "\n");
    const env = await runnerEnv(prEvent);
    await comment(diff, "clusters/prod", env);
    expect(api.calls.map((c) => c.method)).toEqual(["GET"]);
    expect((await outputs(env.GITHUB_OUTPUT as string))["comment-action"]).toBe("none");
  });

  it("names the reason when the token may not comment (a fork's pull request)", async () => {
    api.failWith = 403;
    const diff = path.join(work, "diff.md");
    await writeFile(diff, "changes\n");
    const { exitCode, stderr } = await comment(diff, "clusters/prod", await runnerEnv(prEvent));
    expect(exitCode).toBe(1);
    expect(stderr).toContain(
      `flux-local: GitHub API GET /repos/${REPO}/issues/7/comments?per_page=100&page=1: 403 Resource not accessible by integration (the token needs \`pull-requests: write\`; pull requests from forks get a read-only token)`,
    );
  });
});

function git(cwd: string, ...args: string[]): void {
  execFileSync(
    "git",
    ["-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false", ...args],
    { cwd, stdio: "ignore" },
  );
}

/** A checkout as actions/checkout leaves it: its own git repository. */
async function checkout(dir: string, files: Record<string, string>): Promise<void> {
  for (const [rel, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
    await writeFile(path.join(dir, rel), content);
  }
  git(dir, "init", "-q");
  git(dir, "add", "-A");
  git(dir, "commit", "-qm", "checkout");
}

describe("the actions' script steps, as a runner runs them", () => {
  const cluster = (mode: string) => ({
    "clusters/prod/flux-system/gotk.yaml": bootstrap(),
    "clusters/prod/apps.yaml": fluxKustomization("apps", { path: "./apps" }),
    "apps/settings.yaml": configMap("settings", { mode }),
  });

  async function step(script: string, env: Record<string, string>) {
    const bin = path.join(work, "bin");
    await mkdir(bin, { recursive: true });
    await writeCliShim(bin);
    return execa("bash", [path.join(projectRoot, "action", "scripts", script)], {
      cwd: work,
      env: { ...env, PATH: `${bin}${path.delimiter}${process.env.PATH ?? ""}`, NO_COLOR: "1" },
      reject: false,
      timeout: 120_000,
    });
  }

  const diffInputs = {
    INPUT_PATH: "clusters/prod",
    RESOURCE: "kustomization",
    DIFF_LINES: "6",
    SKIP_SECRETS: "true",
    SKIP_CRDS: "true",
    API_VERSIONS: "policy/v1/PodDisruptionBudget",
    STRIP_ATTRS: "helm.sh/chart,checksum/config,app.kubernetes.io/version,chart",
    DEBUG: "false",
    LIMIT_BYTES: "10000",
    KUSTOMIZE_BUILD_FLAGS: "",
    SOURCES: "",
    ENABLE_HELM: "true",
  };

  it("action/diff: diffs pr/ against live/, posts the comment, and updates it after the next push", async () => {
    await checkout(path.join(work, "live"), cluster("blue"));
    await checkout(path.join(work, "pr"), cluster("green"));

    let env = await runnerEnv(prEvent);
    const diff = await step("diff.sh", { ...env, ...diffInputs });
    expect(diff.exitCode, String(diff.stderr)).toBe(0);
    let out = await outputs(env.GITHUB_OUTPUT as string);
    expect(out["exit-code"]).toBe("1");
    expect(out.diff).toContain("ConfigMap");
    expect(out.diff).toContain("+  mode: green");
    const file = out.file as string;
    expect(await readFile(file, "utf8")).toBe(`${out.diff}\n`);

    // The comment step, as action.yml runs it.
    const key = "clusters/prod (kustomization)";
    expect(
      (await runCli(["pr-comment", file, "--key", key, "--empty", "update"], { cwd: work, env }))
        .exitCode,
    ).toBe(0);
    expect(api.comments).toHaveLength(1);
    expect(api.comments[0]?.body).toContain("+  mode: green");

    // A push that reverts the change: the same comment now says there is none.
    await rm(path.join(work, "pr"), { recursive: true });
    await checkout(path.join(work, "pr"), cluster("blue"));
    env = await runnerEnv(prEvent);
    const again = await step("diff.sh", { ...env, ...diffInputs });
    expect(again.exitCode).toBe(0);
    out = await outputs(env.GITHUB_OUTPUT as string);
    expect(out["exit-code"]).toBe("0");
    expect(out.diff).toBe("");
    await runCli(["pr-comment", out.file as string, "--key", key], { cwd: work, env });
    expect(api.comments).toHaveLength(1);
    expect(api.comments[0]?.body).toMatch(/No changes\.\n$/);
    expect(api.calls.filter((c) => c.method === "POST")).toHaveLength(1);
  });

  it("action/test: tests the cluster, writes JUnit, annotates failures, warns on unsupported inputs", async () => {
    const good = path.join(work, "good");
    await checkout(good, cluster("blue"));
    const env = await runnerEnv(prEvent);
    const inputs = {
      INPUT_PATH: path.join(good, "clusters/prod"),
      ENABLE_HELM: "false",
      API_VERSIONS: "policy/v1/PodDisruptionBudget",
      ENABLE_KYVERNO: "true",
      DEBUG: "false",
      KUSTOMIZE_BUILD_FLAGS: "--load-restrictor=LoadRestrictionsNone",
      SOURCES: "",
      JUNIT: path.join(work, "junit.xml"),
    };
    const ok = await step("test.sh", { ...env, ...inputs });
    expect(ok.exitCode, String(ok.stderr)).toBe(0);
    expect(String(ok.stdout)).toContain(
      "::warning::flux-local (TypeScript) does not run kyverno policies",
    );
    expect(String(ok.stdout)).toContain(
      "::warning::flux-local (TypeScript) has no kustomize-build-flags",
    );
    expect(String(ok.stdout)).toMatch(/PASSED +Kustomization flux-system\/apps/);
    expect(await readFile(inputs.JUNIT, "utf8")).toContain("<testsuites");

    await appendFile(path.join(good, "apps", "settings.yaml"), "---\nkind: [broken\n");
    const bad = await step("test.sh", {
      ...env,
      ...inputs,
      ENABLE_KYVERNO: "false",
      KUSTOMIZE_BUILD_FLAGS: "",
    });
    expect(bad.exitCode).toBe(1);
    expect(String(bad.stderr)).toMatch(/^::error /m);
    expect(await readFile(inputs.JUNIT, "utf8")).toContain("<failure");
  });
});

describe("action/test and action/diff", () => {
  const load = async (name: string) =>
    parse(await readFile(path.join(projectRoot, "action", name, "action.yml"), "utf8")) as {
      inputs: Record<string, { default?: string }>;
      outputs?: Record<string, { value: string }>;
      runs: {
        using: string;
        steps: Array<{ id?: string; run?: string; uses?: string; env?: Record<string, string> }>;
      };
    };

  it("take flux-local's inputs, so a workflow switches by changing `uses:`", async () => {
    const test = await load("test");
    const diff = await load("diff");
    for (const input of [
      "path",
      "enable-helm",
      "api-versions",
      "enable-kyverno",
      "kyverno-version",
      "python-version",
      "debug",
      "kustomize-build-flags",
      "sources",
    ]) {
      expect(Object.keys(test.inputs)).toContain(input);
    }
    for (const input of [
      "path",
      "live-branch",
      "resource",
      "diff-lines",
      "skip-secrets",
      "skip-crds",
      "api-versions",
      "python-version",
      "strip-attrs",
      "debug",
      "limit-bytes",
      "kustomize-build-flags",
      "sources",
    ]) {
      expect(Object.keys(diff.inputs)).toContain(input);
    }
    expect(Object.keys(diff.outputs ?? {})).toContain("diff");
    expect(diff.inputs["live-branch"]?.default).toBe("main");
    expect(diff.inputs.resource?.default).toBe("kustomization");
  });

  for (const name of ["test", "diff"]) {
    it(`${name}: composite, declares every input and step it reads, never pastes inputs into scripts`, async () => {
      const text = await readFile(path.join(projectRoot, "action", name, "action.yml"), "utf8");
      const action = await load(name);
      expect(action.runs.using).toBe("composite");
      for (const [, input] of text.matchAll(/inputs\.([\w-]+)/g)) {
        expect(Object.keys(action.inputs), `inputs.${input}`).toContain(input);
      }
      const ids = action.runs.steps.map((s) => s.id).filter(Boolean);
      for (const [, id] of text.matchAll(/steps\.([\w-]+)\.outputs/g)) expect(ids).toContain(id);
      for (const s of action.runs.steps) {
        if (s.run) expect(s.run, "values reach scripts through env").not.toContain("${{");
        for (const [, script] of (s.run ?? "").matchAll(/scripts\/([\w-]+\.sh)/g)) {
          await access(path.join(projectRoot, "action", "scripts", script ?? ""), constants.R_OK);
        }
      }
      expect(action.runs.steps.some((s) => s.uses?.startsWith("actions/cache@"))).toBe(true);
      expect(action.runs.steps.some((s) => s.uses?.startsWith("actions/setup-node@"))).toBe(true);
    });
  }

  it("the scripts parse", async () => {
    for (const script of ["install-tools.sh", "install-flux-local.sh", "diff.sh", "test.sh"]) {
      const r = await execa("bash", ["-n", path.join(projectRoot, "action", "scripts", script)], {
        reject: false,
      });
      expect(r.exitCode, script).toBe(0);
    }
  });
});
