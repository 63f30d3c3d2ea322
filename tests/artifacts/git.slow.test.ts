/**
 * GitRepository fetching end to end: real repositories served by
 * `git http-backend` on loopback, rendered by the real pipeline into a real
 * cache directory.
 */
import { mkdtemp, readdir, readFile, rm, symlink } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { render, type RenderRequest } from "../../src/run.js";
import { collectFailures, formatFailures } from "../../src/views/failures.js";
import { runCli } from "../support/cli.js";
import { startBlackhole, startGitServer, TestRepo, type GitServer } from "../support/git-server.js";
import { makeRepo, type TempRepo } from "../support/repo.js";
import {
  allMessages,
  configMapYaml,
  gitRepository,
  kustomizationOf,
  producedData,
  revisionOf,
  secretManifest,
  statusOf,
} from "./helpers/fixtures.js";

let server: GitServer;
let cacheDir: string;
const cleanups: Array<() => Promise<void>> = [];

beforeAll(async () => {
  server = await startGitServer();
});
afterAll(async () => {
  await server.stop();
});
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function newCache(): Promise<string> {
  cacheDir = await mkdtemp(path.join(os.tmpdir(), "flux-local-cache-"));
  cleanups.push(() => rm(cacheDir, { recursive: true, force: true }));
  return cacheDir;
}

async function newRepo(s: GitServer, name: string): Promise<TestRepo> {
  const repo = await TestRepo.create(s, name);
  cleanups.push(() => repo.remove());
  return repo;
}

async function fleet(files: Record<string, string>): Promise<TempRepo> {
  const repo = await makeRepo(files, { git: false });
  cleanups.push(() => repo.cleanup());
  return repo;
}

function run(root: string, extra: Partial<RenderRequest> = {}) {
  return render({ path: root, cacheDir, concurrency: 4, fetchAllSources: true, ...extra });
}

const GR = (name: string) => `GitRepository/flux-system/${name}`;
const KS = (name: string) => `Kustomization/flux-system/${name}`;

describe("GitRepository over HTTP", () => {
  it("resolves branch, tag, semver, commit and ref name, two revisions of one repository at once", async () => {
    await newCache();
    const repo = await newRepo(server, "apps");
    const c1 = await repo.commit({ "apps/cm.yaml": configMapYaml("app", { v: "1" }) });
    repo.tag("v1.0.0", true);
    const c2 = await repo.commit({ "apps/cm.yaml": configMapYaml("app", { v: "2" }) });
    repo.tag("v1.1.0");
    const c3 = await repo.commit({ "apps/cm.yaml": configMapYaml("app", { v: "3" }) });
    repo.tag("v2.0.0-rc.1");
    repo.push();
    const url = `${server.url}/apps.git`;
    const cases: Array<[string, Record<string, unknown>, string, string]> = [
      ["branch", { branch: "main" }, `main@sha1:${c3}`, "3"],
      ["tag", { tag: "v1.0.0" }, `v1.0.0@sha1:${c1}`, "1"],
      ["semver", { semver: ">=1.0.0 <2.0.0" }, `v1.1.0@sha1:${c2}`, "2"],
      ["commit", { commit: c1 }, `sha1:${c1}`, "1"],
      ["commitonbranch", { branch: "main", commit: c2 }, `main@sha1:${c2}`, "2"],
      ["refname", { name: "refs/tags/v2.0.0-rc.1" }, `refs/tags/v2.0.0-rc.1@sha1:${c3}`, "3"],
    ];
    const files: Record<string, string> = {};
    for (const [name, ref] of cases) {
      files[`clusters/${name}.yaml`] =
        gitRepository(name, { url, ref }) +
        kustomizationOf(name, { kind: "GitRepository", name }, "./apps");
    }
    const f = await fleet(files);
    const result = await run(f.root);
    for (const [name, , revision, v] of cases) {
      expect(statusOf(result, GR(name)), name).toMatchObject({ phase: "Ready" });
      expect(revisionOf(result, GR(name)), name).toBe(revision);
      expect(statusOf(result, KS(name)).phase, name).toBe("Ready");
      expect(producedData(result, name), name).toEqual({ app: { v } });
    }
    // One cache entry per commit: c1 (tag, commit), c2 (semver, commit on branch), c3 (branch, ref name).
    expect(
      (await readdir(path.join(cacheDir, "git"), { recursive: true })).filter((p) =>
        String(p).endsWith("content"),
      ),
    ).toHaveLength(3);
  });

  it("serves immutable references from the cache with no request, and refreshes moving ones", async () => {
    await newCache();
    const repo = await newRepo(server, "cached");
    await repo.commit({ "cm.yaml": configMapYaml("app", { v: "1" }) });
    repo.tag("v1");
    repo.push();
    const url = `${server.url}/cached.git`;
    const f = await fleet({
      "a.yaml":
        gitRepository("pinned", { url, ref: { tag: "v1" } }) +
        kustomizationOf("pinned", { kind: "GitRepository", name: "pinned" }),
      "b.yaml":
        gitRepository("moving", { url, ref: { branch: "main" } }) +
        kustomizationOf("moving", { kind: "GitRepository", name: "moving" }),
    });
    const first = await run(f.root);
    expect(statusOf(first, GR("pinned")).message).toMatch(/^fetched in \d+ ms$/);
    const t0 = performance.now();
    server.requests.length = 0;
    const second = await run(f.root);
    const elapsed = performance.now() - t0;
    expect(statusOf(second, GR("pinned"))).toMatchObject({
      phase: "Ready",
      message: "from the cache",
    });
    expect(statusOf(second, GR("moving"))).toMatchObject({
      phase: "Ready",
      message: "from the cache",
    });
    // The tag: nothing asked. The branch: only the ref listing, no pack fetched.
    expect(server.requests).toEqual(["GET /cached.git/info/refs?service=git-upload-pack"]);
    expect(elapsed).toBeLessThan(5000);

    // The branch moves: the next run fetches the new commit; the tag stays.
    const c2 = await repo.commit({ "cm.yaml": configMapYaml("app", { v: "2" }) });
    repo.push();
    const third = await run(f.root);
    expect(revisionOf(third, GR("moving"))).toBe(`main@sha1:${c2}`);
    expect(producedData(third, "moving")).toEqual({ app: { v: "2" } });
    expect(producedData(third, "pinned")).toEqual({ app: { v: "1" } });

    // --offline: no request at all, the branch at its last resolved commit.
    await repo.commit({ "cm.yaml": configMapYaml("app", { v: "3" }) });
    repo.push();
    server.requests.length = 0;
    const offline = await run(f.root, { offline: true });
    expect(server.requests).toEqual([]);
    expect(revisionOf(offline, GR("moving"))).toBe(`main@sha1:${c2}`);
    expect(statusOf(offline, KS("moving")).phase).toBe("Ready");
  });

  it("fails clearly offline when a source was never fetched", async () => {
    await newCache();
    const f = await fleet({
      "a.yaml":
        gitRepository("never", { url: `${server.url}/never.git`, ref: { branch: "main" } }) +
        kustomizationOf("never", { kind: "GitRepository", name: "never" }),
    });
    server.requests.length = 0;
    const result = await run(f.root, { offline: true });
    expect(server.requests).toEqual([]);
    expect(statusOf(result, GR("never"))).toMatchObject({
      phase: "Failed",
      reason: "ArtifactFailed",
      message: `branch main of ${server.url}/never.git was never fetched into the cache and --offline is set; run once without --offline to fetch it`,
    });
    expect(statusOf(result, KS("never"))).toMatchObject({
      phase: "Failed",
      rootCause: GR("never"),
    });
  });

  it("applies default exclusions, .sourceignore and spec.ignore, and resolves symlinks inside the tree", async () => {
    await newCache();
    const repo = await newRepo(server, "ignore");
    await repo.commit({
      "apps/cm.yaml": configMapYaml("app", { v: "1" }),
      "apps/logo.png": "png",
      "apps/.sops.yaml": "creation_rules: []\n",
      "apps/drafts/wip.yaml": "not: yaml: [",
      "apps/.sourceignore": "drafts/\n",
      "docs/readme.yaml": "x: 1\n",
      ".github/workflows/ci.yaml": "on: push\n",
    });
    await symlink("../apps/cm.yaml", path.join(repo.work, "docs/linked.yaml"));
    await symlink("apps", path.join(repo.work, "apps-link"));
    await symlink("/etc/passwd", path.join(repo.work, "escape.yaml"));
    await symlink("../../outside", path.join(repo.work, "docs/escape-dir"));
    await repo.commit({});
    repo.push();
    const f = await fleet({
      "a.yaml": gitRepository("ignore", {
        url: `${server.url}/ignore.git`,
        ref: { branch: "main" },
        ignore: "/docs/readme.yaml\n",
      }),
    });
    const result = await run(f.root);
    expect(statusOf(result, GR("ignore")).phase).toBe("Ready");
    const artifact = result.store.get(GR("ignore"))?.artifact;
    const root = artifact?.type === "source" ? artifact.path : "";
    const files = (await readdir(root, { recursive: true })).map(String).sort();
    expect(files).toEqual([
      "apps",
      "apps-link",
      "apps-link/.sourceignore",
      "apps-link/cm.yaml",
      "apps/.sourceignore",
      "apps/cm.yaml",
      "docs",
      "docs/linked.yaml",
    ]);
    expect(await readFile(path.join(root, "docs/linked.yaml"), "utf8")).toBe(
      configMapYaml("app", { v: "1" }),
    );
  });

  it("composes spec.include from other GitRepositories", async () => {
    await newCache();
    const base = await newRepo(server, "base");
    await base.commit({
      "clusters/prod/kustomization.yaml": "resources:\n  - ../../shared/cm.yaml\n",
    });
    base.push();
    const shared = await newRepo(server, "shared");
    await shared.commit({
      "manifests/cm.yaml": configMapYaml("shared", { from: "include" }),
      "other.yaml": "x: 1\n",
    });
    shared.push();
    const f = await fleet({
      "a.yaml":
        gitRepository("shared", { url: `${server.url}/shared.git`, ref: { branch: "main" } }) +
        gitRepository("base", {
          url: `${server.url}/base.git`,
          ref: { branch: "main" },
          include: [{ repository: { name: "shared" }, fromPath: "manifests", toPath: "shared" }],
        }) +
        kustomizationOf("prod", { kind: "GitRepository", name: "base" }, "./clusters/prod"),
    });
    const result = await run(f.root);
    expect(statusOf(result, GR("base")).phase).toBe("Ready");
    expect(producedData(result, "prod")).toEqual({ shared: { from: "include" } });
    // Cached composition: a second run reuses it.
    const again = await run(f.root);
    expect(producedData(again, "prod")).toEqual({ shared: { from: "include" } });
  });

  it("reports a missing branch and a semver range that matches nothing, on the source and its dependents", async () => {
    await newCache();
    const repo = await newRepo(server, "refs");
    await repo.commit({ "cm.yaml": configMapYaml("app", { v: "1" }) });
    repo.tag("v1.0.0");
    repo.push();
    const url = `${server.url}/refs.git`;
    const f = await fleet({
      "a.yaml":
        gitRepository("nobranch", { url, ref: { branch: "nope" } }) +
        kustomizationOf("nobranch", { kind: "GitRepository", name: "nobranch" }) +
        gitRepository("nosemver", { url, ref: { semver: ">=5.0.0" } }) +
        kustomizationOf("nosemver", { kind: "GitRepository", name: "nosemver" }) +
        gitRepository("notag", { url, ref: { tag: "v9.9.9" } }) +
        gitRepository("nocommit", {
          url,
          ref: { commit: "0123456789abcdef0123456789abcdef01234567" },
        }) +
        gitRepository("norepo", { url: `${server.url}/does-not-exist.git` }),
    });
    const result = await run(f.root);
    expect(statusOf(result, GR("nobranch"))).toMatchObject({
      phase: "Failed",
      reason: "ArtifactFailed",
      message: `branch nope not found in ${url}`,
    });
    expect(statusOf(result, GR("nosemver")).message).toBe(
      `no tag matches semver >=5.0.0 (1 tag seen) in ${url}`,
    );
    expect(statusOf(result, GR("notag")).message).toBe(`tag v9.9.9 not found in ${url}`);
    expect(statusOf(result, GR("nocommit")).message).toBe(
      `commit 0123456789abcdef0123456789abcdef01234567 not found in ${url}`,
    );
    expect(statusOf(result, GR("norepo")).message).toMatch(/HTTP 404.*no repository at this URL/);
    for (const name of ["nobranch", "nosemver"]) {
      expect(statusOf(result, KS(name))).toMatchObject({
        phase: "Failed",
        reason: "SourceNotReady",
        rootCause: GR(name),
      });
    }
  });

  it("times out on an unreachable host and names the source as the root cause of its dependents", async () => {
    await newCache();
    const hole = await startBlackhole();
    cleanups.push(() => hole.stop());
    const f = await fleet({
      "a.yaml":
        gitRepository("unreachable", {
          url: `${hole.url}/repo.git`,
          ref: { branch: "main" },
          timeout: "1s",
        }) +
        kustomizationOf("first", { kind: "GitRepository", name: "unreachable" }) +
        kustomizationOf("second", { kind: "GitRepository", name: "unreachable" }, "./", {
          dependsOn: [{ name: "first" }],
        }),
    });
    const t0 = performance.now();
    const result = await run(f.root);
    const elapsed = performance.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(900);
    expect(elapsed).toBeLessThan(10_000);
    expect(statusOf(result, GR("unreachable"))).toMatchObject({
      phase: "Failed",
      reason: "ArtifactFailed",
      message: `listing refs of ${hole.url}/repo.git: timed out after 1s`,
    });
    expect(statusOf(result, KS("first"))).toMatchObject({
      phase: "Failed",
      reason: "SourceNotReady",
      rootCause: GR("unreachable"),
    });
    expect(statusOf(result, KS("second"))).toMatchObject({
      phase: "Failed",
      rootCause: GR("unreachable"),
    });
    const report = formatFailures(collectFailures(result, result.store.list(), f.root));
    expect(report).toContain("GitRepository/flux-system/unreachable");
    expect(report).toContain("timed out after 1s");
  });

  it("refuses SSH URLs with a message that says what to do", async () => {
    await newCache();
    const f = await fleet({
      "a.yaml":
        gitRepository("ssh", { url: "ssh://git@github.com/org/repo.git" }) +
        gitRepository("scp", { url: "git@github.com:org/repo.git" }),
    });
    const result = await run(f.root);
    for (const name of ["ssh", "scp"]) {
      expect(statusOf(result, GR(name))).toMatchObject({
        phase: "Failed",
        reason: "ArtifactFailed",
      });
      expect(statusOf(result, GR(name)).message).toContain(
        "SSH URLs are not supported: flux-local fetches Git over HTTP(S) only",
      );
      expect(statusOf(result, GR(name)).message).toContain("--sources NAME=PATH");
    }
  });

  it("lets parallel runs share one cache", async () => {
    await newCache();
    const repo = await newRepo(server, "parallel");
    await repo.commit({ "cm.yaml": configMapYaml("app", { v: "1" }) });
    repo.push();
    const f = await fleet({
      "a.yaml":
        gitRepository("p", { url: `${server.url}/parallel.git`, ref: { branch: "main" } }) +
        kustomizationOf("p", { kind: "GitRepository", name: "p" }),
    });
    const results = await Promise.all([run(f.root), run(f.root), run(f.root)]);
    const paths = results.map((r) => {
      const a = r.store.get(GR("p"))?.artifact;
      return a?.type === "source" ? a.path : "";
    });
    expect(new Set(paths).size).toBe(1);
    for (const r of results) expect(producedData(r, "p")).toEqual({ app: { v: "1" } });
    const leftovers = (await readdir(cacheDir, { recursive: true }))
      .map(String)
      .filter((p) => /\.tmp-|\.trash-/.test(p));
    expect(leftovers).toEqual([]);
  });
});

describe("GitRepository credentials", () => {
  const PASSWORD = "hunter2-very-secret";
  const TOKEN = "bearer-token-very-secret";
  let basic: GitServer;
  let bearer: GitServer;
  beforeAll(async () => {
    basic = await startGitServer({ auth: { username: "flux", password: PASSWORD } });
    bearer = await startGitServer({ auth: { bearerToken: TOKEN } });
    for (const s of [basic, bearer]) {
      const repo = await TestRepo.create(s, "private");
      await repo.commit({ "cm.yaml": configMapYaml("private", { ok: "yes" }) });
      repo.push();
      await repo.remove();
    }
  });
  afterAll(async () => {
    await basic.stop();
    await bearer.stop();
  });

  async function setup(secret: string) {
    await newCache();
    const f = await fleet({
      "clusters/a.yaml":
        gitRepository("basic", {
          url: `${basic.url}/private.git`,
          ref: { branch: "main" },
          secretRef: { name: "basic-auth" },
        }) +
        kustomizationOf("basic", { kind: "GitRepository", name: "basic" }) +
        gitRepository("bearer", {
          url: `${bearer.url}/private.git`,
          ref: { branch: "main" },
          secretRef: { name: "token-auth" },
        }) +
        kustomizationOf("bearer", { kind: "GitRepository", name: "bearer" }),
      "secrets.yaml": secret,
    });
    return f;
  }

  it("uses username/password and bearerToken Secrets given with --secret-file", async () => {
    const f = await setup(
      secretManifest("basic-auth", { username: "flux", password: PASSWORD }) +
        secretManifest("token-auth", { bearerToken: TOKEN }),
    );
    const result = await run(path.join(f.root, "clusters"), {
      secretFiles: [path.join(f.root, "secrets.yaml")],
    });
    expect(statusOf(result, GR("basic")).phase).toBe("Ready");
    expect(statusOf(result, GR("bearer")).phase).toBe("Ready");
    expect(producedData(result, "basic")).toEqual({ private: { ok: "yes" } });
    expect(producedData(result, "bearer")).toEqual({ private: { ok: "yes" } });
  });

  it("reports refused and missing credentials without printing them", async () => {
    const f = await setup(
      secretManifest("basic-auth", { username: "flux", password: "wrong-password-123" }) +
        secretManifest("unrelated", { password: PASSWORD }),
    );
    const result = await run(path.join(f.root, "clusters"), {
      secretFiles: [path.join(f.root, "secrets.yaml")],
    });
    expect(statusOf(result, GR("basic"))).toMatchObject({
      phase: "Failed",
      reason: "ArtifactFailed",
      message: `listing refs of ${basic.url}/private.git: HTTP 401 Unauthorized (the credentials from spec.secretRef basic-auth (given with --secret-file) were refused)`,
    });
    expect(statusOf(result, GR("bearer")).message).toContain(
      "(the repository needs credentials: set spec.secretRef and give the Secret with --secret-file)",
    );
    expect(statusOf(result, KS("basic")).rootCause).toBe(GR("basic"));
    const text =
      allMessages(result) + formatFailures(collectFailures(result, result.store.list(), f.root));
    for (const secret of [
      PASSWORD,
      "wrong-password-123",
      TOKEN,
      Buffer.from(`flux:wrong-password-123`).toString("base64"),
    ]) {
      expect(text).not.toContain(secret);
    }
  });

  it("never prints a credential on the command line's stdout, stderr or debug log", async () => {
    const f = await setup(
      secretManifest("basic-auth", { username: "flux", password: "wrong-password-456" }) +
        secretManifest("token-auth", { bearerToken: TOKEN }),
    );
    const out = await runCli(
      [
        "get",
        "sources",
        "-A",
        "--path",
        "clusters",
        "--cache-dir",
        cacheDir,
        "--secret-file",
        "secrets.yaml",
        "--verbose",
        "--log-format",
        "json",
      ],
      { cwd: f.root },
    );
    expect(out.exitCode).toBe(1);
    expect(out.stdout).toMatch(/gitrepository\/bearer\s+True\s+fetched in \d+ ms/);
    expect(out.stdout).toMatch(/gitrepository\/basic\s+False\s+listing refs of .*HTTP 401/);
    for (const secret of [
      "wrong-password-456",
      TOKEN,
      Buffer.from("flux:wrong-password-456").toString("base64"),
    ]) {
      expect(out.stdout + out.stderr).not.toContain(secret);
    }
  });
});
