/**
 * The published program: bin/flux-local.js running the bundle (dist/bundle,
 * tools/bundle.ts), whose parts load through V8's code cache
 * (src/cli/code-cache.ts). Each test runs a copy of the package's program
 * files in a temp folder, so that its code cache is its own.
 */
import { execa } from "execa";
import { existsSync } from "node:fs";
import {
  cp,
  mkdir,
  mkdtemp,
  readFile,
  readdir,
  rm,
  stat,
  symlink,
  utimes,
  writeFile,
} from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { startGitServer, TestRepo, type GitServer } from "../support/git-server.js";
import { useTempRepos } from "../support/repo.js";
import { remoteAppsCluster } from "../hostile/support.js";

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const built = existsSync(path.join(projectRoot, "dist", "bundle", "parts.cjs"));

const temps: string[] = [];
const servers: GitServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
  await Promise.all(temps.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});
const makeRepo = useTempRepos();

/** A copy of the program (bin, bundle, package.json) over this package's node_modules and tools. */
async function copyOfProgram(): Promise<string> {
  const pkg = await mkdtemp(path.join(os.tmpdir(), "flux-local-pkg-"));
  temps.push(pkg);
  await cp(path.join(projectRoot, "bin"), path.join(pkg, "bin"), { recursive: true });
  await mkdir(path.join(pkg, "dist", "bundle"), { recursive: true });
  for (const name of ["code-cache.cjs", "entry.cjs", "parts.cjs"])
    await cp(
      path.join(projectRoot, "dist", "bundle", name),
      path.join(pkg, "dist", "bundle", name),
    );
  await cp(path.join(projectRoot, "package.json"), path.join(pkg, "package.json"));
  for (const name of ["node_modules", ".tools"])
    if (existsSync(path.join(projectRoot, name)))
      await symlink(path.join(projectRoot, name), path.join(pkg, name));
  return pkg;
}

async function codeCaches(pkg: string): Promise<string[]> {
  const dir = path.join(pkg, "dist", "bundle");
  return (await readdir(dir)).filter((n) => n.endsWith(".v8")).map((n) => path.join(dir, n));
}

function run(pkg: string, args: string[], cwd: string, env: Record<string, string> = {}) {
  return execa(process.execPath, [path.join(pkg, "bin", "flux-local.js"), ...args], {
    cwd,
    env: { NO_COLOR: "1", FLUX_LOCAL_CACHE_DIR: path.join(pkg, "cache"), ...env },
    reject: false,
  });
}

describe.skipIf(!built)("the bundled program", () => {
  it("keeps V8's code cache after its first run, runs from it, and makes it again when damaged", async () => {
    const pkg = await copyOfProgram();
    const args = ["build", "ks", "--path", "testdata/example/clusters/prod", "--no-cache"];
    const first = await run(pkg, args, projectRoot);
    expect(first.stderr).toBe("");
    expect(first.exitCode).toBe(0);
    // One for the entry, one for the parts.
    const caches = await codeCaches(pkg);
    expect(caches.map((f) => path.basename(f).split(".")[0]).sort()).toEqual(["entry", "parts"]);
    const made = await Promise.all(caches.map((f) => stat(f)));

    const second = await run(pkg, args, projectRoot);
    expect(second.exitCode).toBe(0);
    expect(second.stdout).toBe(first.stdout);
    // Taken, not made again.
    for (const [i, cache] of caches.entries())
      expect((await stat(cache)).mtimeMs).toBe(made[i]!.mtimeMs);

    for (const cache of caches) await writeFile(cache, "not V8's code cache");
    const third = await run(pkg, args, projectRoot);
    expect(third.stderr).toBe("");
    expect(third.exitCode).toBe(0);
    expect(third.stdout).toBe(first.stdout);
    for (const cache of caches) expect((await stat(cache)).size).toBeGreaterThan(1000);
  });

  it("a rebuilt program does not take the old program's code cache", async () => {
    const pkg = await copyOfProgram();
    const args = ["get", "ks", "-A", "--path", "testdata/example/clusters/prod", "--no-cache"];
    expect((await run(pkg, args, projectRoot)).exitCode).toBe(0);
    const [before] = (await codeCaches(pkg)).filter((f) => path.basename(f).startsWith("parts."));
    // Same size, other time: as a rebuild leaves it.
    const parts = path.join(pkg, "dist", "bundle", "parts.cjs");
    const later = new Date(Date.now() + 5_000);
    await utimes(parts, later, later);
    expect((await run(pkg, args, projectRoot)).exitCode).toBe(0);
    const after = (await codeCaches(pkg)).filter((f) => path.basename(f).startsWith("parts."));
    expect(after).toHaveLength(2);
    expect(after).toContain(before);
  });

  it("replays a run loading neither node:crypto nor node:tty, and writes all of it", async () => {
    const pkg = await copyOfProgram();
    // The built-in modules the process loaded, written at its exit.
    const modules = path.join(pkg, "modules.txt");
    const hook = path.join(pkg, "modules.cjs");
    await writeFile(
      hook,
      `process.on("exit", () => require("node:fs").writeFileSync(${JSON.stringify(modules)}, process.moduleLoadList.join("\\n")));\n`,
    );
    const args = ["build", "ks", "--path", "testdata/example/clusters/prod", "-v"];
    const env = { NODE_OPTIONS: `--require ${hook}` };
    const first = await run(pkg, args, projectRoot, env);
    expect(first.exitCode).toBe(0);
    expect(first.stdout).toContain("kind: ");
    const second = await run(pkg, args, projectRoot, env);
    expect(second.stderr).toContain("run cache: replayed");
    expect(second.exitCode).toBe(0);
    expect(second.stdout).toBe(first.stdout);
    const loaded = (await readFile(modules, "utf8")).split("\n");
    expect(loaded).not.toContain("NativeModule crypto");
    expect(loaded).not.toContain("NativeModule tty");
  });

  it("a replay whose reader goes away ends as a rendering run does: 141, quietly", async () => {
    const pkg = await copyOfProgram();
    const args = ["build", "ks", "--path", "testdata/example/clusters/prod"];
    expect((await run(pkg, args, projectRoot)).exitCode).toBe(0);
    // stdout a pipe whose reader has closed it before the replay writes.
    const child = execa(process.execPath, [path.join(pkg, "bin", "flux-local.js"), ...args], {
      cwd: projectRoot,
      env: { NO_COLOR: "1", FLUX_LOCAL_CACHE_DIR: path.join(pkg, "cache") },
      reject: false,
      stdout: "pipe",
    });
    child.stdout.destroy();
    const out = await child;
    expect(out.stderr).toBe("");
    expect(out.exitCode).toBe(141);
  });

  it("fetches a Git source: the program's import() of a package outside the bundle", async () => {
    const server = await startGitServer();
    servers.push(server);
    const remote = await TestRepo.create(server, "apps");
    const commit = await remote.commit({
      "app/cm.yaml":
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-git\n  namespace: default\ndata:\n  a: b\n",
    });
    remote.push();
    await remote.remove();
    const repo = await makeRepo(remoteAppsCluster(`${server.url}/apps.git`, `commit: ${commit}`));
    const pkg = await copyOfProgram();
    for (let i = 0; i < 2; i++) {
      // Without the code cache, then from it.
      const out = await run(
        pkg,
        ["build", "all", "--path", "clusters/prod", "--no-cache"],
        repo.root,
      );
      expect(out.stderr).toBe("");
      expect(out.exitCode).toBe(0);
      expect(out.stdout).toContain("name: from-git");
    }
  });
});
