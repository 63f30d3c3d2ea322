/**
 * The cache's size bound: whole entries (sources, charts, rendered output,
 * recorded runs) are removed, least recently used first, until the cache fits.
 * `flux-local cache prune` does it on demand; after every run that renders
 * (and so may have added entries) it is done with the default bound (1 GiB;
 * `--cache-max-size`, `FLUX_LOCAL_CACHE_MAX_SIZE`; 0 switches it off).
 */
import { listCacheEntries, removeCacheEntry } from "../../artifacts/cache/dir-cache.js";
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
