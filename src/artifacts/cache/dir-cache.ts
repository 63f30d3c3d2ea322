/**
 * An on-disk cache of directories (source checkouts, pulled charts), keyed by
 * a string such as `url@revision`. Entries are filled in a temp directory and
 * renamed into place, so a reader never sees half an entry, whether the other
 * writer is in this process or in a parallel run sharing the cache. Within one
 * process, concurrent requests for the same key share a single fill.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

export function defaultCacheDir(): string {
  if (process.env.FLUX_LOCAL_CACHE_DIR) return path.resolve(process.env.FLUX_LOCAL_CACHE_DIR);
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache");
  return path.join(base, "flux-local");
}

export interface CacheResult {
  /** Directory holding the entry's content. */
  path: string;
  /** True when the entry was already there (no fill ran). */
  hit: boolean;
}

const META = ".flux-local-entry.json";
const CONTENT = "content";

export class DirectoryCache {
  private readonly inFlight = new Map<string, Promise<CacheResult>>();
  /** Number of fills run by this instance (tests count fetches with it). */
  fills = 0;

  constructor(readonly root: string) {}

  private entryDir(namespace: string, key: string): string {
    const hash = createHash("sha256").update(key).digest("hex");
    return path.join(this.root, namespace, hash.slice(0, 2), hash);
  }

  /** The content directory of a complete entry, or undefined. */
  async get(namespace: string, key: string): Promise<string | undefined> {
    const dir = this.entryDir(namespace, key);
    try {
      const meta = JSON.parse(await readFile(path.join(dir, META), "utf8")) as { key?: string };
      if (meta.key !== key) return undefined;
      await stat(path.join(dir, CONTENT));
      return path.join(dir, CONTENT);
    } catch {
      return undefined;
    }
  }

  /**
   * The entry for `key`, filling it with `fill(dir)` when absent. `fill` writes
   * the content into the (empty, existing) directory it is given; if it throws,
   * nothing is kept.
   */
  ensure(
    namespace: string,
    key: string,
    fill: (dir: string) => Promise<void>,
  ): Promise<CacheResult> {
    const id = `${namespace}\u0000${key}`;
    let pending = this.inFlight.get(id);
    if (!pending) {
      pending = this.fillOnce(namespace, key, fill).finally(() => this.inFlight.delete(id));
      this.inFlight.set(id, pending);
    }
    return pending;
  }

  /** Remove an entry (for refreshing moving references). */
  async remove(namespace: string, key: string): Promise<void> {
    const dir = this.entryDir(namespace, key);
    const trash = `${dir}.trash-${randomBytes(4).toString("hex")}`;
    try {
      await rename(dir, trash);
    } catch {
      return;
    }
    await rm(trash, { recursive: true, force: true });
  }

  private async fillOnce(
    namespace: string,
    key: string,
    fill: (dir: string) => Promise<void>,
  ): Promise<CacheResult> {
    const existing = await this.get(namespace, key);
    if (existing) return { path: existing, hit: true };
    const dir = this.entryDir(namespace, key);
    await mkdir(path.dirname(dir), { recursive: true });
    const tmp = `${dir}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
    await mkdir(path.join(tmp, CONTENT), { recursive: true });
    try {
      this.fills++;
      await fill(path.join(tmp, CONTENT));
      await writeFile(
        path.join(tmp, META),
        JSON.stringify({ key, created: new Date().toISOString() }),
      );
      try {
        await rename(tmp, dir);
      } catch (err) {
        // Another process finished the same entry first: use theirs.
        const theirs = await this.get(namespace, key);
        if (theirs) return { path: theirs, hit: true };
        throw err;
      }
      return { path: path.join(dir, CONTENT), hit: false };
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }
}
