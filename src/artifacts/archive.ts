/**
 * Safe extraction of tar+gzip archives (OCI artifact layers, chart archives).
 * Parsing is tar-stream's (ustar, pax and GNU headers); the policy is ours:
 * only regular files and directories are written; an entry whose path is
 * absolute or climbs out with `..`, and any link, device or FIFO, refuses the
 * whole archive (the caller extracts into a fresh cache fill directory that is
 * dropped on failure). The uncompressed size and the number of entries are
 * bounded, so a small archive cannot fill the disk.
 */
import { createWriteStream } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { Transform, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { extract, type Header } from "tar-stream";
import { FluxLocalError } from "../util/errors.js";

export class ArchiveError extends FluxLocalError {}

export interface ExtractLimits {
  /** Most uncompressed bytes of file content written (default 1 GiB). */
  maxBytes?: number;
  /** Most entries (default 100,000). */
  maxEntries?: number;
}

export const DEFAULT_MAX_EXTRACT_BYTES = 1024 * 1024 * 1024;
export const DEFAULT_MAX_ENTRIES = 100_000;

const SMALL_FILE = 4 * 1024 * 1024;

const tooLarge = (maxBytes: number) =>
  new ArchiveError(`archive content exceeds the limit of ${maxBytes} bytes`);

/**
 * The relative POSIX path an entry name stands for, or an error message when
 * the name is not safe to write under the destination.
 */
export function safeEntryPath(name: string): { path: string } | { error: string } {
  if (name.includes("\0")) return { error: "contains a NUL byte" };
  if (name.startsWith("/") || /^[A-Za-z]:[\\/]/.test(name) || name.startsWith("\\")) {
    return { error: "is an absolute path" };
  }
  const parts = name.split(/[\\/]+/).filter((p) => p !== "" && p !== ".");
  if (parts.some((p) => p === "..")) return { error: "climbs out with '..'" };
  return { path: parts.join("/") };
}

/**
 * Extract a tar+gzip stream into `dest` (an existing, empty directory).
 * Rejects with ArchiveError on any unsafe entry or limit.
 */
export async function extractTarGz(
  input: Readable,
  dest: string,
  limits: ExtractLimits = {},
): Promise<{ files: number; bytes: number }> {
  const root = path.resolve(dest);
  const maxBytes = limits.maxBytes ?? DEFAULT_MAX_EXTRACT_BYTES;
  const maxEntries = limits.maxEntries ?? DEFAULT_MAX_ENTRIES;
  const totals = { files: 0, bytes: 0, entries: 0 };
  const dirs = new Set<string>([root]);
  const ensureDir = async (dir: string) => {
    if (dirs.has(dir)) return;
    await mkdir(dir, { recursive: true });
    dirs.add(dir);
  };

  const tar = extract();
  const consume = (async () => {
    for await (const entry of tar) {
      const header = entry.header;
      const target = admit(header, root, totals, { maxBytes, maxEntries });
      if (header.type === "directory") {
        if (target) await ensureDir(target);
        entry.resume();
        continue;
      }
      await ensureDir(path.dirname(target!));
      const mode = (header.mode ?? 0) & 0o111 ? 0o755 : 0o644;
      const budget = () => maxBytes - totals.bytes;
      if ((header.size ?? 0) <= SMALL_FILE) {
        // Small files are gathered and written at once: far fewer system calls.
        const chunks: Buffer[] = [];
        let size = 0;
        for await (const chunk of entry as AsyncIterable<Buffer>) {
          size += chunk.length;
          if (size > budget()) throw tooLarge(maxBytes);
          chunks.push(chunk);
        }
        await writeFile(target!, Buffer.concat(chunks), { mode });
        totals.bytes += size;
      } else {
        let size = 0;
        const limit = budget();
        const counter = new Transform({
          transform(chunk: Buffer, _encoding, done) {
            size += chunk.length;
            done(size > limit ? tooLarge(maxBytes) : null, chunk);
          },
        });
        await pipeline(entry, counter, createWriteStream(target!, { mode }));
        totals.bytes += size;
      }
      totals.files++;
    }
  })();
  try {
    await Promise.all([pipeline(input, createGunzip(), tar), consume]);
  } catch (err) {
    tar.destroy();
    await consume.catch(() => undefined);
    throw describeFailure(err);
  }
  return { files: totals.files, bytes: totals.bytes };
}

/** Check one entry against the policy; the path to write it to (none for the root folder). */
function admit(
  header: Header,
  root: string,
  totals: { bytes: number; entries: number },
  limits: { maxBytes: number; maxEntries: number },
): string | undefined {
  const rawName = header.name;
  if (++totals.entries > limits.maxEntries) {
    throw new ArchiveError(`archive has more than ${limits.maxEntries} entries`);
  }
  const safe = safeEntryPath(rawName);
  if ("error" in safe) {
    throw new ArchiveError(`refused archive entry ${JSON.stringify(rawName)}: it ${safe.error}`);
  }
  if (header.type !== "file" && header.type !== "contiguous-file" && header.type !== "directory") {
    const what = header.type ? `a ${header.type}` : "an unknown entry type";
    throw new ArchiveError(
      `refused archive entry ${JSON.stringify(rawName)}: ${what} (only files and directories are extracted)`,
    );
  }
  if (header.type === "directory") return safe.path ? path.join(root, safe.path) : undefined;
  if (!safe.path) {
    throw new ArchiveError(`refused archive entry ${JSON.stringify(rawName)}: empty name`);
  }
  if (totals.bytes + (header.size ?? 0) > limits.maxBytes) throw tooLarge(limits.maxBytes);
  const target = path.join(root, safe.path);
  // safeEntryPath already forbids escapes; check again on the joined path.
  const rel = path.relative(root, target);
  if (rel.startsWith("..") || path.isAbsolute(rel)) {
    throw new ArchiveError(
      `refused archive entry ${JSON.stringify(rawName)}: outside the destination`,
    );
  }
  return target;
}

function describeFailure(err: unknown): Error {
  if (err instanceof ArchiveError) return err;
  const code = (err as NodeJS.ErrnoException).code;
  const message = (err as Error).message;
  if (code === "Z_DATA_ERROR" || code === "Z_BUF_ERROR") {
    return new ArchiveError(`not a gzip archive: ${message}`, { cause: err });
  }
  if (/unexpected end|premature|truncated/i.test(message)) {
    return new ArchiveError(`truncated tar archive: ${message}`, { cause: err });
  }
  if (/invalid tar header|checksum|invalid/i.test(message)) {
    return new ArchiveError(`not a valid tar archive: ${message}`, { cause: err });
  }
  return err instanceof Error ? err : new ArchiveError(String(err));
}
