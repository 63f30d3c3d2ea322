/**
 * The size bound after a run (keepUnder, src/cli/run-cache/bound.ts): the
 * same entries go as with a full count, but a shard folder whose time has not
 * changed is not read again — its size comes from the record at the root.
 * Real directory-cache entries in a temporary cache.
 */
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, stat, utimes, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DirectoryCache, listCacheEntries } from "../../src/artifacts/cache/dir-cache.js";
import { keepUnder, SIZES_FILE } from "../../src/cli/run-cache/bound.js";

let root: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "flux-local-bound-"));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** An entry of `bytes` bytes in `namespace`; returns its folder. */
async function entry(namespace: string, key: string, bytes: number): Promise<string> {
  const cache = new DirectoryCache(root);
  const { path: content } = await cache.ensure(namespace, key, (dir) =>
    writeFile(path.join(dir, "data"), "x".repeat(bytes)),
  );
  return path.dirname(content);
}

/** Every shard folder's time an hour back, as if written long ago. */
async function settle(): Promise<void> {
  const past = new Date(Date.now() - 3_600_000);
  for (const e of await listCacheEntries(root)) await utimes(path.dirname(e.dir), past, past);
}

/** A key whose entry lands in the same shard folder as `key`'s (the first two hex digits of its sha256). */
function sameShardAs(key: string): string {
  const shard = (k: string) => createHash("sha256").update(k).digest("hex").slice(0, 2);
  for (let i = 0; ; i++) if (shard(`other-${i}`) === shard(key)) return `other-${i}`;
}

async function keys(): Promise<string[]> {
  return (await listCacheEntries(root)).map((e) => path.basename(e.dir)).sort();
}

describe("keepUnder", () => {
  it("keeps everything under the bound and records each shard's size", async () => {
    await entry("renders/kustomize", "a", 1000);
    await entry("runs", "b", 1000);
    await settle();
    await keepUnder(root, 1 << 30);
    expect((await keys()).length).toBe(2);
    const sizes = JSON.parse(await readFile(path.join(root, SIZES_FILE), "utf8")) as {
      shards: Record<string, unknown>;
    };
    expect(Object.keys(sizes.shards).sort()).toEqual(
      (await listCacheEntries(root))
        .map((e) => path.relative(root, path.dirname(e.dir)).split(path.sep).join("/"))
        .sort(),
    );
  });

  it("removes the least recently used over the bound, as a full count does", async () => {
    const old = await entry("renders/kustomize", "old", 5000);
    await entry("renders/kustomize", "new", 5000);
    await utimes(old, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
    await settle();
    await keepUnder(root, 1 << 30); // recorded
    await keepUnder(root, 8000); // over: from the record alone
    expect(await keys()).toEqual([path.basename(await entry("renders/kustomize", "new", 5000))]);
  });

  it("counts a shard again when an entry was added to it", async () => {
    await entry("runs", "first", 1000);
    await settle();
    await keepUnder(root, 1 << 30);
    // A new entry in the same shard folder: its recorded size is stale.
    await entry("runs", sameShardAs("first"), 50_000);
    await keepUnder(root, 20_000);
    expect((await listCacheEntries(root)).every((e) => e.bytes < 20_000)).toBe(true);
  });

  it("does not read a shard whose time has not changed", async () => {
    const dir = await entry("renders/kustomize", "a", 1000);
    await settle();
    await keepUnder(root, 1 << 30);
    // Bytes written inside an entry (never done by flux-local) do not change
    // its shard's time: the recorded size stands, nothing is removed.
    const shard = path.dirname(dir);
    const { mtime } = await stat(shard);
    await writeFile(path.join(dir, "content", "more"), "x".repeat(100_000));
    await utimes(shard, mtime, mtime);
    await keepUnder(root, 50_000);
    expect((await keys()).length).toBe(1);
  });

  it("falls back to a full count when the record is damaged", async () => {
    await entry("runs", "a", 30_000);
    await settle();
    await writeFile(path.join(root, SIZES_FILE), "{not json");
    await keepUnder(root, 10_000);
    expect(await keys()).toEqual([]);
  });
});

describe("keepUnder with one-file entries (render outputs)", () => {
  it("counts them in their shard folders and removes the least recently used over the bound", async () => {
    const cache = new DirectoryCache(root);
    await cache.writeText("renders/kustomize", "old", "output", "x".repeat(5000));
    await cache.writeText("renders/kustomize", "new", "output", "y".repeat(5000));
    const fileOf = (key: string) => `${createHash("sha256").update(key).digest("hex")}.entry`;
    for (const e of await listCacheEntries(root)) {
      const ago = path.basename(e.dir) === fileOf("old") ? 120_000 : 60_000;
      await utimes(e.dir, new Date(Date.now() - ago), new Date(Date.now() - ago));
    }
    await settle();
    await keepUnder(root, 1 << 30);
    const sizes = JSON.parse(await readFile(path.join(root, SIZES_FILE), "utf8")) as {
      shards: Record<string, [number, number]>;
    };
    const recorded = Object.entries(sizes.shards);
    expect(recorded.every(([shard]) => /^renders\/kustomize\/[0-9a-f]$/.test(shard))).toBe(true);
    expect(recorded.reduce((sum, [, [, bytes]]) => sum + bytes, 0)).toBeGreaterThan(10_000);
    await keepUnder(root, 8000); // over: from the record alone
    expect((await listCacheEntries(root)).map((e) => path.basename(e.dir))).toEqual([
      fileOf("new"),
    ]);
    expect(cache.readText("renders/kustomize", "old", "output")).toBeUndefined();
    expect(cache.readText("renders/kustomize", "new", "output")).toBe("y".repeat(5000));
  });
});
