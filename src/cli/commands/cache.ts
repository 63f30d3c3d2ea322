/**
 * `flux-local cache info` and `flux-local cache prune`: what the on-disk cache
 * (sources, charts, rendered output) holds, and bounding it. Pruning removes
 * whole entries, least recently used first, each atomically; a run in
 * progress at worst fetches or renders again what it removed.
 */
import { Command } from "commander";
import {
  defaultCacheDir,
  listCacheEntries,
  type CacheEntryInfo,
} from "../../artifacts/cache/dir-cache.js";
import { formatTable } from "../format/table.js";
import { addExamples } from "../help.js";
import { DEFAULT_CACHE_MAX_SIZE, parseSize, pruneCache } from "../run-cache/bound.js";

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

function rootOf(opts: { cacheDir?: string }): string {
  return opts.cacheDir ?? defaultCacheDir();
}

function summary(entries: CacheEntryInfo[]): string[][] {
  const byNamespace = new Map<string, { count: number; bytes: number }>();
  for (const e of entries) {
    const row = byNamespace.get(e.namespace) ?? { count: 0, bytes: 0 };
    row.count++;
    row.bytes += e.bytes;
    byNamespace.set(e.namespace, row);
  }
  const rows = [...byNamespace]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([ns, row]) => [ns, String(row.count), formatSize(row.bytes)]);
  const total = entries.reduce((n, e) => n + e.bytes, 0);
  return [...rows, ["total", String(entries.length), formatSize(total)]];
}

/** The folder both subcommands read. */
const CACHE_DIR_OPTION = [
  "--cache-dir <dir>",
  "cache folder (default: $FLUX_LOCAL_CACHE_DIR or ~/.cache/flux-local)",
] as const;

export function cacheCommand(): Command {
  const cmd = new Command("cache").description(
    "the on-disk cache of sources, charts and rendered output",
  );
  addExamples(cmd, [
    { does: "what the cache holds, by kind", run: "flux-local cache info" },
    { does: "keep it under 2 GiB", run: "flux-local cache prune --max-size 2G" },
  ]);
  const info = cmd
    .command("info")
    .description("where the cache is, and its entries and size by kind")
    .option(...CACHE_DIR_OPTION)
    .action(async (opts: { cacheDir?: string }) => {
      const root = rootOf(opts);
      const entries = await listCacheEntries(root);
      process.stdout.write(`cache: ${root}\n`);
      process.stdout.write(formatTable(["KIND", "ENTRIES", "SIZE"], summary(entries)));
    });
  addExamples(info, [
    { does: "the default cache", run: "flux-local cache info" },
    { does: "a CI job's cache folder", run: "flux-local cache info --cache-dir .cache/flux-local" },
  ]);
  const prune = cmd
    .command("prune")
    .description("remove entries, least recently used first, until the cache fits --max-size")
    .option(...CACHE_DIR_OPTION)
    .option("--max-size <size>", "size to keep at most (e.g. 500M, 2G)", DEFAULT_CACHE_MAX_SIZE)
    .option("--all", "remove every entry")
    .action(async (opts: { cacheDir?: string; maxSize: string; all?: boolean }) => {
      const root = rootOf(opts);
      const limit = opts.all ? 0 : parseSize(opts.maxSize);
      const { kept, keptBytes, removed, removedBytes } = await pruneCache(root, limit);
      process.stdout.write(
        `removed ${removed} entries (${formatSize(removedBytes)}), kept ${kept} (${formatSize(keptBytes)}) in ${root}\n`,
      );
    });
  addExamples(prune, [
    { does: "least recently used entries first, down to 1 GiB", run: "flux-local cache prune" },
    { does: "down to 500 MiB", run: "flux-local cache prune --max-size 500M" },
    { does: "empty it", run: "flux-local cache prune --all" },
  ]);
  return cmd;
}
