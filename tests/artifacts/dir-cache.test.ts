import { mkdtemp, readFile, readdir, rm, symlink, unlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DirectoryCache, listCacheEntries } from "../../src/artifacts/cache/dir-cache.js";

let root: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "flux-local-cache-test-"));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("DirectoryCache", () => {
  it("fills an entry once and serves it afterwards", async () => {
    const cache = new DirectoryCache(root);
    const first = await cache.ensure("charts", "oci://x/podinfo@6.5.4", async (dir) => {
      await writeFile(path.join(dir, "Chart.yaml"), "name: podinfo\n");
    });
    expect(first.hit).toBe(false);
    const again = await new DirectoryCache(root).ensure("charts", "oci://x/podinfo@6.5.4", () => {
      throw new Error("must not refill");
    });
    expect(again).toEqual({ path: first.path, hit: true });
    expect(await readFile(path.join(again.path, "Chart.yaml"), "utf8")).toBe("name: podinfo\n");
  });

  it("shares one fill between concurrent requests for the same key", async () => {
    const cache = new DirectoryCache(root);
    const fill = async (dir: string) => {
      await new Promise((r) => setTimeout(r, 20));
      await writeFile(path.join(dir, "f"), "x");
    };
    const results = await Promise.all(
      Array.from({ length: 10 }, () => cache.ensure("git", "k", fill)),
    );
    expect(cache.fills).toBe(1);
    expect(new Set(results.map((r) => r.path)).size).toBe(1);
  });

  it("keeps nothing when a fill fails", async () => {
    const cache = new DirectoryCache(root);
    await expect(
      cache.ensure("git", "broken", async (dir) => {
        await writeFile(path.join(dir, "half"), "x");
        throw new Error("network down");
      }),
    ).rejects.toThrow("network down");
    expect(await cache.get("git", "broken")).toBeUndefined();
    const leftovers = (await readdir(path.join(root, "git"), { recursive: true })).filter((f) =>
      String(f).includes(".tmp-"),
    );
    expect(leftovers).toEqual([]);
  });

  it("removes entries", async () => {
    const cache = new DirectoryCache(root);
    await cache.ensure("git", "k", async () => {});
    await cache.remove("git", "k");
    expect(await cache.get("git", "k")).toBeUndefined();
  });
});

describe("DirectoryCache single-file entries (render outputs)", () => {
  /** The content folder of the only entry. */
  const contentOf = async (): Promise<string> => {
    const [entry] = await listCacheEntries(root);
    return path.join(entry!.dir, "content");
  };

  it("writes an entry that reads back, lists and is shared with ensure()", async () => {
    const cache = new DirectoryCache(root);
    expect(cache.readText("renders/x", "k", "output")).toBeUndefined();
    await cache.writeText("renders/x", "k", "output", "héllo\n");
    expect(cache.readText("renders/x", "k", "output")).toBe("héllo\n");
    expect(new DirectoryCache(root).readText("renders/x", "k", "output")).toBe("héllo\n");
    // Same layout as any entry: listed for `cache info|prune`, served by get().
    const entries = await listCacheEntries(root);
    expect(entries.map((e) => e.namespace)).toEqual(["renders/x"]);
    expect(await readFile(path.join((await cache.get("renders/x", "k"))!, "output"), "utf8")).toBe(
      "héllo\n",
    );
    // Nothing left beside it.
    expect((await readdir(path.dirname(entries[0]!.dir))).length).toBe(1);
  });

  it("reads an entry filled by ensure()", async () => {
    const cache = new DirectoryCache(root);
    await cache.ensure("renders/x", "k", (dir) => writeFile(path.join(dir, "output"), "a"));
    expect(new DirectoryCache(root).readText("renders/x", "k", "output")).toBe("a");
  });

  it.each([
    ["changed content", (c: string) => writeFile(path.join(c, "output"), "HELLO\n")],
    [
      "a link instead of the file",
      async (c: string) => {
        await unlink(path.join(c, "output"));
        await writeFile(path.join(root, "elsewhere"), "hello\n");
        await symlink(path.join(root, "elsewhere"), path.join(c, "output"));
      },
    ],
    ["an extra file", (c: string) => writeFile(path.join(c, "extra"), "")],
    ["a missing file", (c: string) => unlink(path.join(c, "output"))],
    [
      "a damaged record",
      (c: string) => writeFile(path.join(c, "..", ".flux-local-entry.json"), "{"),
    ],
  ])("treats %s as a miss and removes the entry", async (_name, damage) => {
    const cache = new DirectoryCache(root);
    await cache.writeText("renders/x", "k", "output", "hello\n");
    await damage(await contentOf());
    const fresh = new DirectoryCache(root);
    expect(fresh.readText("renders/x", "k", "output")).toBeUndefined();
    expect(fresh.repaired).toBe(1);
    expect(await listCacheEntries(root)).toEqual([]);
    await fresh.writeText("renders/x", "k", "output", "hello\n");
    expect(fresh.readText("renders/x", "k", "output")).toBe("hello\n");
  });

  it("replaces a damaged entry in the way of a write", async () => {
    const cache = new DirectoryCache(root);
    await cache.writeText("renders/x", "k", "output", "hello\n");
    await writeFile(path.join(await contentOf(), "output"), "HELLO\n");
    await new DirectoryCache(root).writeText("renders/x", "k", "output", "new\n");
    expect(new DirectoryCache(root).readText("renders/x", "k", "output")).toBe("new\n");
    expect((await listCacheEntries(root)).length).toBe(1);
  });

  it("keeps the first intact entry when two writers race", async () => {
    const one = new DirectoryCache(root);
    const two = new DirectoryCache(root);
    await Promise.all([
      one.writeText("renders/x", "k", "output", "same"),
      two.writeText("renders/x", "k", "output", "same"),
    ]);
    expect(new DirectoryCache(root).readText("renders/x", "k", "output")).toBe("same");
    expect((await listCacheEntries(root)).length).toBe(1);
  });

  it("names the cache directory when it cannot write", async () => {
    const file = path.join(root, "not-a-dir");
    await writeFile(file, "");
    const cache = new DirectoryCache(file);
    await expect(cache.writeText("renders/x", "k", "output", "a")).rejects.toThrow(
      /the cache directory .*not-a-dir cannot be written/,
    );
  });
});
