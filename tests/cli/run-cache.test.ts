/**
 * The run cache (src/cli/run-cache/): a `build` or `get` run whose inputs are
 * all unchanged is replayed byte for byte; any change to what the run read,
 * its arguments, the environment that matters or a tool misses; a damaged
 * entry is removed and written again; the size bound prunes. Real files, the
 * real CLI (through the bin's entry), real kustomize.
 */
import {
  appendFile,
  chmod,
  mkdtemp,
  readFile,
  readdir,
  rm,
  unlink,
  writeFile,
} from "node:fs/promises";
import os from "node:os";
import { execFileSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { findTool } from "../../src/exec/tools.js";
import { runCli, type CliResult } from "../support/cli.js";
import {
  bootstrap,
  configMap,
  failingSource,
  fluxKustomization,
  useTempRepos,
} from "../support/repo.js";

const makeRepo = useTempRepos();

const REPLAYED = "run cache: replayed";

/** A cluster with a Kustomization over a folder with a kustomization.yaml and one without. */
function cluster(): Record<string, string> {
  return {
    "clusters/prod/flux-system/gotk.yaml": bootstrap(),
    "clusters/prod/apps.yaml": fluxKustomization("apps", { path: "./apps" }),
    "clusters/prod/plain.yaml": fluxKustomization("plain", { path: "./plain" }),
    "apps/kustomization.yaml": "resources: [config.yaml]\n",
    "apps/config.yaml": configMap("app", { colour: "blue" }),
    "plain/one.yaml": configMap("one", { n: "1" }),
  };
}

let cacheDir: string;
beforeEach(async () => {
  cacheDir = await mkdtemp(path.join(os.tmpdir(), "flux-local-run-cache-"));
});
afterEach(async () => {
  await rm(cacheDir, { recursive: true, force: true });
});

function build(
  root: string,
  extra: string[] = [],
  env: Record<string, string> = {},
): Promise<CliResult> {
  return runCli(["build", "all", "--path", "clusters/prod", "-v", ...extra], {
    cwd: root,
    env: { FLUX_LOCAL_CACHE_DIR: cacheDir, ...env },
    runCache: true,
  });
}

/** stderr without log lines (JSON or pretty) and the run cache's own notes. */
function notes(stderr: string): string {
  return stderr
    .split("\n")
    .filter((l) => !/^\s*[[{]|^\s{4}|run cache:|^\[?\d\d:\d\d/.test(l))
    .join("\n");
}

describe("the run cache", () => {
  it("replays a run whose inputs are unchanged: the same stdout, notes and exit code", async () => {
    const repo = await makeRepo(cluster());
    const first = await build(repo.root);
    expect(first.exitCode).toBe(0);
    expect(first.stdout).toContain("colour: blue");
    expect(first.stderr).not.toContain(REPLAYED);
    const second = await build(repo.root);
    expect(second.stderr).toContain(REPLAYED);
    expect(second.stdout).toBe(first.stdout);
    expect(second.exitCode).toBe(0);
    expect(notes(second.stderr)).toBe(notes(first.stderr));
  });

  it("replays a failed run too, with its failure report and exit code", async () => {
    const repo = await makeRepo({
      ...cluster(),
      "apps/kustomization.yaml": "resources: [config.yaml, missing.yaml]\n",
    });
    const plain = (r: string) =>
      runCli(["build", "ks", "--path", "clusters/prod"], {
        cwd: r,
        env: { FLUX_LOCAL_CACHE_DIR: cacheDir },
        runCache: true,
      });
    const first = await plain(repo.root);
    expect(first.exitCode).toBe(1);
    expect(first.stderr).toContain("missing.yaml");
    const second = await plain(repo.root);
    expect(second).toEqual(first);
    // Replayed: the entry was used (nothing rendered would show in a -v run; see above).
    const verbose = await build(repo.root);
    const again = await build(repo.root);
    expect(again.stderr).toContain(REPLAYED);
    expect(again.exitCode).toBe(verbose.exitCode);
  });

  it("replays get too", async () => {
    const repo = await makeRepo(cluster());
    const get = () =>
      runCli(["get", "ks", "-A", "--path", "clusters/prod", "-v"], {
        cwd: repo.root,
        env: { FLUX_LOCAL_CACHE_DIR: cacheDir },
        runCache: true,
      });
    const first = await get();
    expect(first.stdout).toMatch(/^flux-system\s+apps\s/m);
    const second = await get();
    expect(second.stderr).toContain(REPLAYED);
    expect(second.stdout).toBe(first.stdout);
  });

  it("writes --output-file again on a replay, atomically, with the same bytes", async () => {
    const repo = await makeRepo(cluster());
    const out = path.join(cacheDir, "..", `out-${path.basename(cacheDir)}.yaml`);
    try {
      await build(repo.root, ["--output-file", out]);
      const written = await readFile(out, "utf8");
      await unlink(out);
      const second = await build(repo.root, ["--output-file", out]);
      expect(second.stderr).toContain(REPLAYED);
      expect(await readFile(out, "utf8")).toBe(written);
    } finally {
      await rm(out, { force: true });
    }
  });

  it("misses when a file a build reads changes", async () => {
    const repo = await makeRepo(cluster());
    await build(repo.root);
    await writeFile(path.join(repo.root, "apps/config.yaml"), configMap("app", { colour: "red" }));
    const second = await build(repo.root);
    expect(second.stderr).not.toContain(REPLAYED);
    expect(second.stdout).toContain("colour: red");
    expect(second.stderr).not.toContain("not kept");
    // ... and the new run is kept in turn.
    const third = await build(repo.root);
    expect(third.stderr).toContain(REPLAYED);
  });

  it("misses when a file is added to a folder the run scanned", async () => {
    const repo = await makeRepo(cluster());
    await build(repo.root);
    await writeFile(path.join(repo.root, "plain/two.yaml"), configMap("two", { n: "2" }));
    const second = await build(repo.root);
    expect(second.stderr).not.toContain(REPLAYED);
    expect(second.stdout).toContain("name: two");
    // A new file beside the cluster's own files, too.
    await writeFile(
      path.join(repo.root, "clusters/prod/extra.yaml"),
      fluxKustomization("extra", { path: "./plain" }),
    );
    const third = await build(repo.root);
    expect(third.stderr).not.toContain(REPLAYED);
  });

  it("misses when a file it read is deleted", async () => {
    const repo = await makeRepo(cluster());
    await build(repo.root);
    await unlink(path.join(repo.root, "plain/one.yaml"));
    const second = await build(repo.root);
    expect(second.stderr).not.toContain(REPLAYED);
    expect(second.stdout).not.toContain("name: one");
  });

  it("misses when the options change", async () => {
    const repo = await makeRepo(cluster());
    await build(repo.root);
    const second = await build(repo.root, ["--skip-kinds", "ConfigMap"]);
    expect(second.stderr).not.toContain(REPLAYED);
    expect(second.stdout).not.toContain("colour: blue");
  });

  it("misses when an environment variable that matters changes", async () => {
    const repo = await makeRepo(cluster());
    await build(repo.root, [], { FLUX_LOCAL_MAX_FILE_BYTES: "100000" });
    expect((await build(repo.root, [], { FLUX_LOCAL_MAX_FILE_BYTES: "100000" })).stderr).toContain(
      REPLAYED,
    );
    const second = await build(repo.root, [], { FLUX_LOCAL_MAX_FILE_BYTES: "10" });
    expect(second.stderr).not.toContain(REPLAYED);
    expect(second.exitCode).toBe(1); // every file is now over the bound
  });

  it("misses when the kustomize binary changes", async () => {
    const repo = await makeRepo(cluster());
    const kustomize = await findTool("kustomize");
    const wrapper = path.join(cacheDir, "..", `kustomize-${path.basename(cacheDir)}`);
    try {
      await writeFile(wrapper, `#!/bin/sh\nexec "${kustomize.file}" "$@"\n`);
      await chmod(wrapper, 0o755);
      const env = { FLUX_LOCAL_KUSTOMIZE: wrapper };
      await build(repo.root, [], env);
      expect((await build(repo.root, [], env)).stderr).toContain(REPLAYED);
      await appendFile(wrapper, "# another version\n");
      const third = await build(repo.root, [], env);
      expect(third.stderr).not.toContain(REPLAYED);
      expect(third.exitCode).toBe(0);
    } finally {
      await rm(wrapper, { force: true });
    }
  });

  it("never keeps a run that used a remote source with a moving reference", async () => {
    const repo = await makeRepo({ ...cluster(), ...failingSource });
    const first = await build(repo.root);
    expect(first.stderr).toMatch(/run cache: this run is not kept \(.*(may move|network)/);
    const second = await build(repo.root);
    expect(second.stderr).not.toContain(REPLAYED);
  });

  it("ignores a damaged entry, says so, and writes it again", async () => {
    const repo = await makeRepo(cluster());
    const first = await build(repo.root);
    const [entry] = await entries("runs");
    const output = path.join(entry!, "content", "output");
    const bytes = await readFile(output);
    bytes[0] = bytes[0]! ^ 1;
    await writeFile(output, bytes);
    const second = await build(repo.root);
    expect(second.stderr).toMatch(/run cache entry .* is damaged \(output changed content\)/);
    expect(second.stderr).not.toContain(REPLAYED);
    expect(second.stdout).toBe(first.stdout);
    const third = await build(repo.root);
    expect(third.stderr).toContain(REPLAYED);
    expect(third.stdout).toBe(first.stdout);
  });

  it("a record damaged where neither its size nor its time moved is a miss, not a failure", async () => {
    const repo = await makeRepo(cluster());
    const first = await build(repo.root);
    const [entry] = await entries("runs");
    const file = path.join(entry!, "content", "record.json");
    const text = await readFile(file, "utf8");
    const before = statSync(file, { bigint: true });
    // Valid JSON, the same length, a path's facts of the wrong shape.
    const record = JSON.parse(text) as { paths: Array<Record<string, unknown>> };
    record.paths[0] = { p: record.paths[0]!.p, a: 5 };
    const damaged = JSON.stringify(record);
    expect(damaged.length).toBeLessThan(text.length);
    await writeFile(file, damaged.padEnd(text.length, " "));
    // Its modification time as it was, to the nanosecond (fs.utimes cannot say that).
    const ns = before.mtimeNs % 1_000_000_000n;
    const seconds = before.mtimeNs / 1_000_000_000n;
    execFileSync("touch", ["-m", "-d", `@${seconds}.${String(ns).padStart(9, "0")}`, file]);
    expect(statSync(file, { bigint: true }).mtimeNs).toBe(before.mtimeNs);
    const second = await build(repo.root);
    expect(second.stderr).toMatch(
      /run cache entry .* is damaged \(record\.json has a path it cannot check\)/,
    );
    expect(second.exitCode).toBe(0);
    expect(second.stdout).toBe(first.stdout);
    const third = await build(repo.root);
    expect(third.stderr).toContain(REPLAYED);
  });

  it("is bypassed with --no-cache, listed by cache info and removed by cache prune", async () => {
    const repo = await makeRepo(cluster());
    await build(repo.root, ["--no-cache"]);
    expect(await entries("runs")).toEqual([]);
    await build(repo.root);
    const info = await runCli(["cache", "info", "--cache-dir", cacheDir], { cwd: repo.root });
    expect(info.stdout).toMatch(/^runs\s+1\s/m);
    await runCli(["cache", "prune", "--all", "--cache-dir", cacheDir], { cwd: repo.root });
    expect(await entries("runs")).toEqual([]);
    expect((await build(repo.root)).stderr).not.toContain(REPLAYED);
  });

  it("keeps the cache under its size bound after a run, least recently used first", async () => {
    const repo = await makeRepo(cluster());
    await build(repo.root);
    expect((await entries("renders/kustomize")).length).toBeGreaterThan(0);
    // A bound that holds nothing: every entry goes, the run's output is intact.
    const bounded = await build(repo.root, ["--no-cache", "--cache-max-size", "1"]);
    expect(bounded.stdout).toContain("colour: blue");
    expect(await entries("runs")).toEqual([]);
    expect(await entries("renders/kustomize")).toEqual([]);
    // The environment variable does the same; 0 switches the bound off.
    await build(repo.root, [], { FLUX_LOCAL_CACHE_MAX_SIZE: "0" });
    expect((await entries("runs")).length).toBe(1);
    const usage = await build(repo.root, ["--cache-max-size", "lots"]);
    expect(usage.exitCode).toBe(2);
    expect(usage.stderr).toContain("--cache-max-size lots");
  });
});

describe("the replay path", () => {
  it("in the bundle too: the entry requires built-ins only, and is small", async (ctx) => {
    const bundle = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../dist/bundle");
    const entry = path.join(bundle, "entry.cjs");
    if (!existsSync(entry)) ctx.skip(); // not built (`npm run build` makes it)
    const text = await readFile(entry, "utf8");
    const specs = [...text.matchAll(/\brequire\("([^"]+)"\)/g)].map((m) => m[1]!);
    expect(specs.length).toBeGreaterThan(0);
    // Built-ins, and the code cache's loader (built-ins only, bundled on its own).
    for (const spec of specs)
      expect(spec, `entry.cjs requires ${spec}`).toMatch(/^(?:node:.*|\.\/code-cache\.cjs)$/);
    const loader = await readFile(path.join(bundle, "code-cache.cjs"), "utf8");
    for (const [, spec] of loader.matchAll(/\brequire\("([^"]+)"\)/g))
      expect(spec, `code-cache.cjs requires ${spec}`).toMatch(/^node:/);
    // Loaded on first use only (src/util/builtins.ts): a replay that hashes nothing needs neither.
    expect(specs).not.toContain("node:crypto");
    expect(specs).not.toContain("node:tty");
    // The render pipeline, execa, zod and yaml are far bigger than this.
    expect(text.length).toBeLessThan(64 * 1024);
  });

  it("loads Node built-ins only: entry.ts's static imports, transitively", async () => {
    const src = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../src/cli");
    const seen = new Set<string>();
    const external: string[] = [];
    const visit = async (file: string): Promise<void> => {
      if (seen.has(file)) return;
      seen.add(file);
      const text = await readFile(file, "utf8");
      // Static imports only (`import ... from "x"`, not `import type`, which
      // the compiler erases); `await import("x")` loads on a miss.
      for (const m of text.matchAll(/^import\s(?!type\s)[^;]*?from\s+"([^"]+)";/gms)) {
        const spec = m[1]!;
        if (spec.startsWith("node:")) continue;
        if (spec.startsWith("."))
          await visit(path.resolve(path.dirname(file), spec.replace(/\.js$/, ".ts")));
        else external.push(spec);
      }
    };
    await visit(path.join(src, "entry.ts"));
    expect(external).toEqual([]);
    expect([...seen].map((f) => path.relative(src, f)).sort()).toEqual([
      "../util/builtins.ts",
      "../util/cache-entry.ts",
      "../util/short-hash.ts",
      "entry.ts",
      "load-parts.ts",
      "run-cache/invocation.ts",
      "run-cache/observe.ts",
      "run-cache/replay.ts",
    ]);
  });
});

/** The entries of one namespace of the cache (folders, or one-file `<sha256>.entry`). */
async function entries(namespace: string): Promise<string[]> {
  const dir = path.join(cacheDir, namespace);
  const out: string[] = [];
  let shards: string[];
  try {
    shards = await readdir(dir);
  } catch {
    return [];
  }
  for (const shard of shards) {
    if (!/^[0-9a-f]{1,2}$/.test(shard)) continue;
    for (const name of await readdir(path.join(dir, shard)))
      if (/^(?:[0-9a-f]{16}|[0-9a-f]{64}(?:\.entry)?)$/.test(name))
        out.push(path.join(dir, shard, name));
  }
  return out;
}
