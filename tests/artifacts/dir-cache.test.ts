import {
  appendFile,
  mkdir,
  mkdtemp,
  readFile,
  readdir,
  rm,
  stat,
  symlink,
  unlink,
  writeFile,
} from "node:fs/promises";
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

describe("DirectoryCache one-file entries (render outputs)", () => {
  /** The file of the only entry. */
  const entryFile = async (): Promise<string> => {
    const [entry] = await listCacheEntries(root);
    return entry!.dir;
  };

  it("writes an entry that reads back and lists, as one file", async () => {
    const cache = new DirectoryCache(root);
    expect(cache.readText("renders/x", "k", "output")).toBeUndefined();
    await cache.writeText("renders/x", "k", "output", "héllo\n");
    expect(cache.readText("renders/x", "k", "output")).toBe("héllo\n");
    expect(new DirectoryCache(root).readText("renders/x", "k", "output")).toBe("héllo\n");
    // Listed for `cache info|prune`, with its size.
    const entries = await listCacheEntries(root);
    expect(entries.map((e) => e.namespace)).toEqual(["renders/x"]);
    expect(path.basename(entries[0]!.dir)).toMatch(/^[0-9a-f]{64}\.entry$/);
    expect(entries[0]!.bytes).toBe((await stat(entries[0]!.dir)).size);
    // Nothing left beside it.
    expect((await readdir(path.dirname(entries[0]!.dir))).length).toBe(1);
  });

  it("never reads a folder entry (the layout before) as one", async () => {
    const cache = new DirectoryCache(root);
    await cache.ensure("renders/x", "k", (dir) => writeFile(path.join(dir, "output"), "a"));
    expect(new DirectoryCache(root).readText("renders/x", "k", "output")).toBeUndefined();
    await cache.writeText("renders/x", "k", "output", "b");
    expect(new DirectoryCache(root).readText("renders/x", "k", "output")).toBe("b");
    expect((await listCacheEntries(root)).length).toBe(2);
  });

  /** The entry's header line and content. */
  const parts = async (file: string): Promise<[string, string]> => {
    const text = await readFile(file, "utf8");
    const end = text.indexOf("\n");
    return [text.slice(0, end), text.slice(end + 1)];
  };

  it.each([
    [
      "changed content",
      async (f: string) => {
        const [header, content] = await parts(f);
        await writeFile(f, `${header}\n${content.replace("hello", "HELLO")}`);
      },
    ],
    ["a truncated entry", async (f: string) => writeFile(f, (await readFile(f)).subarray(0, -2))],
    ["bytes added", (f: string) => appendFile(f, "more\n")],
    [
      "a link instead of the file",
      async (f: string) => {
        await writeFile(path.join(root, "elsewhere"), await readFile(f));
        await unlink(f);
        await symlink(path.join(root, "elsewhere"), f);
      },
    ],
    ["a damaged header", async (f: string) => writeFile(f, `{\n${(await parts(f))[1]}`)],
    [
      "a header that does not match the content",
      async (f: string) => {
        const [header, content] = await parts(f);
        await writeFile(
          f,
          `${header.replace(/"sha256":"[0-9a-f]+"/, `"sha256":"${"0".repeat(64)}"`)}\n${content}`,
        );
      },
    ],
    [
      "another format's header",
      async (f: string) => {
        const [header, content] = await parts(f);
        await writeFile(
          f,
          `${header.replace("flux-local-entry-2", "flux-local-entry-9")}\n${content}`,
        );
      },
    ],
    [
      "a folder in its place",
      async (f: string) => {
        await unlink(f);
        await mkdir(f);
      },
    ],
  ])("treats %s as a miss and removes the entry", async (_name, damage) => {
    const cache = new DirectoryCache(root);
    await cache.writeText("renders/x", "k", "output", "hello\n");
    await damage(await entryFile());
    const fresh = new DirectoryCache(root);
    expect(fresh.readText("renders/x", "k", "output")).toBeUndefined();
    expect(fresh.repaired).toBe(1);
    expect(await listCacheEntries(root)).toEqual([]);
    await fresh.writeText("renders/x", "k", "output", "hello\n");
    expect(fresh.readText("renders/x", "k", "output")).toBe("hello\n");
  });

  it("treats a missing entry and another key's entry as misses, removing nothing", async () => {
    const cache = new DirectoryCache(root);
    await cache.writeText("renders/x", "k", "output", "hello\n");
    const file = await entryFile();
    const [header, content] = await parts(file);
    await writeFile(file, `${header.replace('"key":"k"', '"key":"other"')}\n${content}`);
    const fresh = new DirectoryCache(root);
    expect(fresh.readText("renders/x", "k", "output")).toBeUndefined();
    expect(fresh.readText("renders/x", "nothing", "output")).toBeUndefined();
    expect(fresh.repaired).toBe(0);
    expect((await listCacheEntries(root)).length).toBe(1);
  });

  it("replaces a damaged entry in the way of a write", async () => {
    const cache = new DirectoryCache(root);
    await cache.writeText("renders/x", "k", "output", "hello\n");
    const file = await entryFile();
    await writeFile(file, (await readFile(file, "utf8")).replace("hello", "HELLO"));
    await new DirectoryCache(root).writeText("renders/x", "k", "output", "new\n");
    expect(new DirectoryCache(root).readText("renders/x", "k", "output")).toBe("new\n");
    expect((await listCacheEntries(root)).length).toBe(1);
  });

  it("keeps one intact entry when two writers race", async () => {
    const one = new DirectoryCache(root);
    const two = new DirectoryCache(root);
    await Promise.all([
      one.writeText("renders/x", "k", "output", "same"),
      two.writeText("renders/x", "k", "output", "same"),
    ]);
    expect(new DirectoryCache(root).readText("renders/x", "k", "output")).toBe("same");
    expect((await listCacheEntries(root)).length).toBe(1);
    expect((await readdir(path.dirname(await entryFile()))).length).toBe(1);
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
