/**
 * The source cache. Content lives in the shared DirectoryCache, one entry per
 * (source URL, revision) — plus the artifact options that change content
 * (`spec.ignore`, the OCI layer selector) — so two consumers can use two
 * revisions of one source at once, and an entry never changes once written.
 * Beside it, small resolution records remember what a reference resolved to
 * last (`branch main` -> commit), so that immutable references (commits,
 * tags, digests) are reused without asking the server, and `--offline` runs
 * can use the last known revision of moving ones. Records are replaced by an
 * atomic rename; parallel runs at worst both fetch the same entry once.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { DirectoryCache, type CacheOptions } from "./dir-cache.js";

export const CACHE_NAMESPACES = {
  git: "git",
  gitInclude: "git-include",
  oci: "oci",
  records: "source-refs",
} as const;

export interface ResolutionRecord {
  revision: string;
  /** Commit (git) or manifest digest (OCI). */
  id: string;
  /** Git: the ref to fetch again, and whether depth 1 reaches the commit. */
  fetchRef?: string;
  shallow?: boolean;
  resolvedAt: string;
}

export class SourceCache {
  readonly dirs: DirectoryCache;

  constructor(
    readonly root: string,
    options: CacheOptions = {},
  ) {
    this.dirs = new DirectoryCache(root, options);
  }

  private recordFile(key: string): string {
    const hash = createHash("sha256").update(key).digest("hex");
    return path.join(this.root, CACHE_NAMESPACES.records, hash.slice(0, 2), `${hash}.json`);
  }

  async readRecord(key: string): Promise<ResolutionRecord | undefined> {
    try {
      const data = JSON.parse(
        await readFile(this.recordFile(key), "utf8"),
      ) as Partial<ResolutionRecord> & {
        key?: string;
      };
      if (data.key !== key || typeof data.revision !== "string" || typeof data.id !== "string")
        return undefined;
      return {
        revision: data.revision,
        id: data.id,
        ...(typeof data.fetchRef === "string" ? { fetchRef: data.fetchRef } : {}),
        ...(typeof data.shallow === "boolean" ? { shallow: data.shallow } : {}),
        resolvedAt: data.resolvedAt ?? "",
      };
    } catch {
      return undefined;
    }
  }

  async writeRecord(key: string, record: Omit<ResolutionRecord, "resolvedAt">): Promise<void> {
    const file = this.recordFile(key);
    await mkdir(path.dirname(file), { recursive: true });
    const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
    try {
      await writeFile(
        tmp,
        JSON.stringify({ key, ...record, resolvedAt: new Date().toISOString() }),
      );
      await rename(tmp, file);
    } finally {
      await rm(tmp, { force: true });
    }
  }
}
