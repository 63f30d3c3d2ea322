import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DirectoryCache } from "../../src/artifacts/cache/dir-cache.js";

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
