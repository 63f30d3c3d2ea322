/**
 * The cache's size bound: whole entries (sources, charts, rendered output,
 * recorded runs) are removed, least recently used first, until the cache fits.
 * `flux-local cache prune` does it on demand; after every run that renders
 * (and so may have added entries) it is done with the default bound (1 GiB;
 * `--cache-max-size`, `FLUX_LOCAL_CACHE_MAX_SIZE`; 0 switches it off).
 */
import {
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  type Dirent,
} from "node:fs";
import path from "node:path";
import {
  listCacheEntries,
  listCacheEntriesSync,
  removeCacheEntry,
} from "../../artifacts/cache/dir-cache.js";
import { META } from "./invocation.js";
import { UsageError } from "../../util/errors.js";

export const DEFAULT_CACHE_MAX_SIZE = "1G";

const UNITS: Record<string, number> = { "": 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };

export function parseSize(text: string, flag = "--max-size"): number {
  const match = /^(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?$/i.exec(text.trim());
  if (!match) throw new UsageError(`${flag} ${text}: expected a size such as 500M or 2G`);
  return Math.floor(Number(match[1]) * UNITS[match[2]!.toUpperCase()]!);
}

export interface PruneResult {
  kept: number;
  keptBytes: number;
  removed: number;
  removedBytes: number;
}

/** Remove entries, least recently used first, until the rest fits `limit` bytes. */
export async function pruneCache(root: string, limit: number): Promise<PruneResult> {
  const entries = (await listCacheEntries(root)).sort((a, b) => b.usedMs - a.usedMs);
  const result: PruneResult = { kept: 0, keptBytes: 0, removed: 0, removedBytes: 0 };
  let full = false;
  for (const entry of entries) {
    if (!full && result.keptBytes + entry.bytes <= limit) {
      result.kept++;
      result.keptBytes += entry.bytes;
      continue;
    }
    full = true; // everything older goes too
    await removeCacheEntry(entry.dir);
    result.removed++;
    result.removedBytes += entry.bytes;
  }
  return result;
}

/** The size of each shard folder at its last count, at the cache root. */
export const SIZES_FILE = ".flux-local-sizes.json";

/** Shard folders modified this recently are counted again next time (file times are coarse). */
const SETTLE_MS = 2_000;

interface Sizes {
  format: 1;
  /** Shard folder (relative to the root, `/`-separated) -> [its mtimeMs, bytes of its entries]. */
  shards: Record<string, [number, number]>;
}

/**
 * After a run: keep the cache under `limit` bytes without reading every entry
 * each time (a large cache has thousands). Entries live in two-letter shard
 * folders and are only ever renamed in or out of them, which changes the
 * folder's modification time (using an entry changes only the entry's own), so
 * a shard whose time is the one recorded in SIZES_FILE still holds the bytes
 * recorded: only changed shards are read again. Over the bound, pruneCache
 * removes the least recently used entries as before. Entries outside shard
 * folders, or an unreadable record, mean a full count.
 */
export async function keepUnder(root: string, limit: number): Promise<void> {
  // Synchronous: at the end of a run nothing else waits, and a thread-pool
  // round trip per folder and entry costs far more than the call itself.
  const shards = shardFolders(root);
  if (!shards) {
    await pruneCache(root, limit);
    return;
  }
  const known = readSizes(root);
  const next: Sizes = { format: 1, shards: {} };
  const now = Date.now();
  let total = 0;
  for (const shard of shards) {
    const seen = known?.shards[shard.rel];
    let bytes: number;
    if (seen && seen[0] === shard.mtimeMs) {
      bytes = seen[1];
    } else {
      bytes = 0;
      for (const entry of listCacheEntriesSync(shard.dir)) bytes += entry.bytes;
    }
    total += bytes;
    if (now - shard.mtimeMs > SETTLE_MS) next.shards[shard.rel] = [shard.mtimeMs, bytes];
  }
  if (total > limit) {
    await pruneCache(root, limit);
    return; // the shards it changed are counted again next time
  }
  writeSizes(root, next);
}

interface ShardFolder {
  dir: string;
  rel: string;
  mtimeMs: number;
}

/** The shard folders under root (their time read before their entries), or undefined for an entry outside one. */
function shardFolders(root: string): ShardFolder[] | undefined {
  const out: ShardFolder[] = [];
  let unsharded = false;
  const walk = (dir: string, rel: string): void => {
    let children: Dirent[];
    try {
      children = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    if (rel && children.some((c) => c.name === META)) {
      unsharded = true;
      return;
    }
    for (const child of children) {
      if (!child.isDirectory() || child.name.includes(".tmp-") || child.name.includes(".trash-"))
        continue;
      const full = path.join(dir, child.name);
      const childRel = rel ? `${rel}/${child.name}` : child.name;
      if (!SHARD.test(child.name)) {
        walk(full, childRel);
        continue;
      }
      try {
        out.push({ dir: full, rel: childRel, mtimeMs: statSync(full).mtimeMs });
      } catch {
        // removed meanwhile
      }
    }
  };
  walk(root, "");
  return unsharded ? undefined : out;
}

/** Two hex digits for folder entries, one for one-file entries (dir-cache.ts). */
const SHARD = /^[0-9a-f]{1,2}$/;

function readSizes(root: string): Sizes | undefined {
  try {
    const sizes = JSON.parse(readFileSync(path.join(root, SIZES_FILE), "utf8")) as Sizes;
    return sizes.format === 1 && typeof sizes.shards === "object" ? sizes : undefined;
  } catch {
    return undefined;
  }
}

/** Written whole (a temporary file renamed over it); a failure only means a full count next time. */
function writeSizes(root: string, sizes: Sizes): void {
  const file = path.join(root, SIZES_FILE);
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, JSON.stringify(sizes));
    renameSync(tmp, file);
  } catch {
    try {
      rmSync(tmp, { force: true });
    } catch {
      // a failure only means a full count next time
    }
  }
}
