/**
 * Issue 10, item 8: the cache never serves wrong bytes. A damaged entry (a
 * truncated, deleted or added file, a broken record) is a miss: removed,
 * fetched again, with a warning; fills left by a killed run are swept; a cache
 * that cannot be written says so.
 */
import { chmod, mkdir, readdir, readFile, rm, stat, utimes, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runCli } from "../support/cli.js";
import { startGitServer, TestRepo, type GitServer } from "../support/git-server.js";
import { remoteAppsCluster, useHostile } from "./support.js";

const hostile = useHostile();
const servers: GitServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

const twoConfigMaps =
  "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: one\n  namespace: default\ndata:\n  a: b\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: two\n  namespace: default\ndata:\n  c: d\n";

async function setup() {
  const server = await startGitServer();
  servers.push(server);
  const remote = await TestRepo.create(server, "apps");
  const commit = await remote.commit({ "app/cms.yaml": twoConfigMaps, "app/extra.yaml": "" });
  remote.push();
  await remote.remove();
  const repo = await hostile.makeRepo(
    remoteAppsCluster(`${server.url}/apps.git`, `commit: ${commit}`),
  );
  const cacheDir = path.join(repo.root, ".cache");
  const build = (extra: string[] = []) =>
    runCli(["build", "all", "--path", "clusters/prod", "--cache-dir", cacheDir, ...extra], {
      cwd: repo.root,
    });
  return { server, repo, cacheDir, build };
}

/** The folder of the one git entry in the cache. */
async function gitEntry(cacheDir: string): Promise<string> {
  const base = path.join(cacheDir, "git");
  for (const shard of await readdir(base)) {
    for (const name of await readdir(path.join(base, shard))) {
      if (/^[0-9a-f]{64}$/.test(name)) return path.join(base, shard, name);
    }
  }
  throw new Error("no git entry");
}

type Damage = (entry: string, file: string) => Promise<void>;

const damages: Array<[string, Damage]> = [
  // Still valid YAML, one object short: the worst kind of damage.
  ["a truncated file", (_e, file) => writeFile(file, twoConfigMaps.split("---")[0]!)],
  ["a deleted file", (_e, file) => rm(file)],
  ["an added file", (e) => writeFile(path.join(e, "content", "app", "new.yaml"), twoConfigMaps)],
  ["a broken record", (e) => writeFile(path.join(e, ".flux-local-entry.json"), "{not json")],
];

describe("item 8: cache entries are verified on use", () => {
  for (const [what, damage] of damages) {
    it(`${what} is a miss: removed, fetched again with a warning, then a clean hit`, async () => {
      const { server, cacheDir, build } = await setup();
      const first = await build();
      expect(first.exitCode).toBe(0);
      expect(first.stdout).toContain("name: two");
      const entry = await gitEntry(cacheDir);
      await damage(entry, path.join(entry, "content", "app", "cms.yaml"));
      const fetchesBefore = server.requests.length;
      const again = await build();
      expect(again.exitCode).toBe(0);
      expect(again.stdout).toBe(first.stdout);
      expect(again.stderr).toMatch(/cache entry damaged: removed, fetching it again/);
      expect(server.requests.length).toBeGreaterThan(fetchesBefore);
      const clean = await build();
      expect(clean.stderr).toBe("");
      expect(clean.stdout).toBe(first.stdout);
    });
  }

  it("--verify-cache hashes every file, even with size and time unchanged", async () => {
    const { cacheDir, build } = await setup();
    const first = await build();
    const entry = await gitEntry(cacheDir);
    const file = path.join(entry, "content", "app", "cms.yaml");
    const original = await readFile(file, "utf8");
    const { atime, mtime } = await stat(file);
    await writeFile(file, original.replace("a: b", "a: x"));
    await utimes(file, atime, mtime);
    const verified = await build(["--verify-cache"]);
    expect(verified.stderr).toMatch(/cache entry damaged/);
    expect(verified.stdout).toBe(first.stdout);
  });

  it("sweeps fills left by a killed run, and says when the cache cannot be written", async () => {
    const { cacheDir, build } = await setup();
    const leftover = path.join(cacheDir, "git", "ab", `${"ab".repeat(32)}.tmp-999999999-0123abcd`);
    await mkdir(path.join(leftover, "content"), { recursive: true });
    // Under a nested namespace too (renders/kustomize/<shard>/).
    const nested = path.join(
      cacheDir,
      "renders",
      "kustomize",
      "cd",
      `${"cd".repeat(32)}.tmp-999999999-0123abcd`,
    );
    await mkdir(path.join(nested, "content"), { recursive: true });
    expect((await build()).exitCode).toBe(0);
    await expect(readdir(leftover)).rejects.toThrow();
    await expect(readdir(nested)).rejects.toThrow();

    if (process.getuid?.() === 0) return; // root writes anywhere
    await rm(cacheDir, { recursive: true, force: true });
    await mkdir(cacheDir);
    await chmod(cacheDir, 0o555);
    const out = await build();
    expect(out.exitCode).toBe(1);
    expect(out.stderr).toMatch(
      /the cache directory .*\.cache is not writable: free it, or point --cache-dir \(or FLUX_LOCAL_CACHE_DIR\) somewhere writable/,
    );
  });
});
