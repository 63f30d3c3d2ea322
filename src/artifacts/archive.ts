/**
 * Safe extraction of tar+gzip archives (OCI artifact layers). Only regular
 * files and directories are written; an entry whose path is absolute or climbs
 * out with `..`, and any link, device or FIFO, refuses the whole archive before
 * anything of it is kept (the caller extracts into a fresh cache fill directory
 * that is dropped on failure). The uncompressed size and the number of entries
 * are bounded, so a small archive cannot fill the disk.
 */
import { createWriteStream, type WriteStream } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { Writable, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
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

const BLOCK = 512;
const SMALL_FILE = 4 * 1024 * 1024;
const WRITE_CONCURRENCY = 16;

/** Entry types of the tar format (ustar, pax and GNU extensions). */
export type EntryType =
  | "file"
  | "directory"
  | "symlink"
  | "hardlink"
  | "character-device"
  | "block-device"
  | "fifo"
  | "pax-header"
  | "pax-global-header"
  | "gnu-long-name"
  | "gnu-long-link"
  | "unknown";

export function entryType(flag: string): EntryType {
  switch (flag) {
    case "0":
    case "\0":
    case "":
    case "7":
      return "file";
    case "5":
      return "directory";
    case "2":
      return "symlink";
    case "1":
      return "hardlink";
    case "3":
      return "character-device";
    case "4":
      return "block-device";
    case "6":
      return "fifo";
    case "x":
      return "pax-header";
    case "g":
      return "pax-global-header";
    case "L":
      return "gnu-long-name";
    case "K":
      return "gnu-long-link";
    default:
      return "unknown";
  }
}

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

interface Header {
  name: string;
  size: number;
  type: EntryType;
  mode: number;
}

function readString(buf: Buffer, offset: number, length: number): string {
  const slice = buf.subarray(offset, offset + length);
  const end = slice.indexOf(0);
  return slice.subarray(0, end < 0 ? slice.length : end).toString("utf8");
}

function readOctal(buf: Buffer, offset: number, length: number): number {
  const field = buf.subarray(offset, offset + length);
  // GNU base-256 encoding for large numbers: high bit of the first byte set.
  if (field[0] !== undefined && (field[0] & 0x80) !== 0) {
    let value = field[0] & 0x7f;
    for (let i = 1; i < field.length; i++) value = value * 256 + (field[i] ?? 0);
    return value;
  }
  const text = readString(buf, offset, length).trim();
  if (text === "") return 0;
  if (!/^[0-7]+$/.test(text)) throw new ArchiveError(`bad number field in tar header: ${text}`);
  return parseInt(text, 8);
}

function parseHeader(block: Buffer): Header {
  let checksum = 0;
  for (let i = 0; i < BLOCK; i++) checksum += i >= 148 && i < 156 ? 32 : (block[i] ?? 0);
  if (checksum !== readOctal(block, 148, 8))
    throw new ArchiveError("not a tar archive (bad header checksum)");
  let name = readString(block, 0, 100);
  const magic = readString(block, 257, 6);
  if (magic.startsWith("ustar")) {
    const prefix = readString(block, 345, 155);
    if (prefix) name = `${prefix}/${name}`;
  }
  return {
    name,
    size: readOctal(block, 124, 12),
    type: entryType(String.fromCharCode(block[156] ?? 0)),
    mode: readOctal(block, 100, 8),
  };
}

/** Records of a pax extended header (`<len> key=value\n`...). */
export function parsePax(data: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  let pos = 0;
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos);
    if (space < 0) break;
    const len = Number(data.subarray(pos, space).toString("ascii"));
    if (!Number.isInteger(len) || len <= 0 || pos + len > data.length) {
      throw new ArchiveError("malformed pax header");
    }
    const record = data.subarray(space + 1, pos + len - 1).toString("utf8");
    const eq = record.indexOf("=");
    if (eq > 0) out.set(record.slice(0, eq), record.slice(eq + 1));
    pos += len;
  }
  return out;
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
  const sink = new TarSink(path.resolve(dest), limits);
  try {
    await pipeline(input, createGunzip(), sink);
  } catch (err) {
    if (err instanceof ArchiveError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "Z_DATA_ERROR" || code === "Z_BUF_ERROR") {
      throw new ArchiveError(`not a gzip archive: ${(err as Error).message}`, { cause: err });
    }
    throw err;
  }
  sink.finish();
  return { files: sink.files, bytes: sink.bytes };
}

/** A writable that parses tar blocks and writes the entries. */
class TarSink extends Writable {
  files = 0;
  bytes = 0;
  private entries = 0;
  private buffer: Buffer = Buffer.alloc(0);
  private current:
    { header: Header; remaining: number; padding: number; target?: string } | undefined;
  private meta:
    | { kind: "pax" | "long-name" | "skip"; remaining: number; padding: number; chunks: Buffer[] }
    | undefined;
  private pax = new Map<string, string>();
  private longName: string | undefined;
  private file: WriteStream | undefined;
  private small: { target: string; mode: number; chunks: Buffer[] } | undefined;
  private readonly dirs = new Set<string>();
  private readonly writes: Array<Promise<void>> = [];
  private ended = false;
  private readonly maxBytes: number;
  private readonly maxEntries: number;

  constructor(
    private readonly dest: string,
    limits: ExtractLimits,
  ) {
    super();
    this.maxBytes = limits.maxBytes ?? DEFAULT_MAX_EXTRACT_BYTES;
    this.maxEntries = limits.maxEntries ?? DEFAULT_MAX_ENTRIES;
  }

  finish(): void {
    if (this.current || this.meta) throw new ArchiveError("truncated tar archive");
  }

  override _write(
    chunk: Buffer,
    _enc: BufferEncoding,
    callback: (err?: Error | null) => void,
  ): void {
    this.consume(chunk).then(
      () => callback(),
      // Let writes in flight settle first: the caller removes the directory.
      (err: unknown) =>
        void Promise.allSettled(this.writes.splice(0)).then(() => callback(err as Error)),
    );
  }

  /** Wait for the small-file writes still in flight. */
  private async flush(): Promise<void> {
    const writes = this.writes.splice(0);
    await Promise.all(writes);
  }

  override _final(callback: (err?: Error | null) => void): void {
    this.closeFile()
      .then(() => this.flush())
      .then(
        () =>
          callback(this.current || this.meta ? new ArchiveError("truncated tar archive") : null),
        (err: unknown) => callback(err as Error),
      );
  }

  private async consume(chunk: Buffer): Promise<void> {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    for (;;) {
      if (this.ended) {
        this.buffer = Buffer.alloc(0);
        return;
      }
      if (this.current) {
        if (!(await this.feedContent())) return;
        continue;
      }
      if (this.meta) {
        if (!this.feedMeta()) return;
        continue;
      }
      if (this.buffer.length < BLOCK) return;
      const block = this.buffer.subarray(0, BLOCK);
      this.buffer = this.buffer.subarray(BLOCK);
      if (block.every((b) => b === 0)) {
        this.ended = true; // end-of-archive marker
        continue;
      }
      await this.startEntry(parseHeader(block));
    }
  }

  private async startEntry(header: Header): Promise<void> {
    const padding = (BLOCK - (header.size % BLOCK)) % BLOCK;
    switch (header.type) {
      case "pax-header":
      case "gnu-long-name":
        this.meta = {
          kind: header.type === "pax-header" ? "pax" : "long-name",
          remaining: header.size,
          padding,
          chunks: [],
        };
        if (header.size > 1024 * 1024) throw new ArchiveError("tar extended header too large");
        return;
      case "pax-global-header":
      case "gnu-long-link":
        this.meta = { kind: "skip", remaining: header.size, padding, chunks: [] };
        return;
      default:
        break;
    }
    const rawName = this.pax.get("path") ?? this.longName ?? header.name;
    const size = this.pax.has("size") ? Number(this.pax.get("size")) : header.size;
    if (!Number.isSafeInteger(size) || size < 0)
      throw new ArchiveError("bad entry size in tar header");
    this.pax = new Map();
    this.longName = undefined;
    if (++this.entries > this.maxEntries) {
      throw new ArchiveError(`archive has more than ${this.maxEntries} entries`);
    }
    const safe = safeEntryPath(rawName);
    if ("error" in safe)
      throw new ArchiveError(`refused archive entry ${JSON.stringify(rawName)}: it ${safe.error}`);
    if (header.type !== "file" && header.type !== "directory") {
      throw new ArchiveError(
        `refused archive entry ${JSON.stringify(rawName)}: ${header.type === "unknown" ? "an unknown entry type" : `a ${header.type}`} (only files and directories are extracted)`,
      );
    }
    const entryHeader = { ...header, size };
    const realPadding = (BLOCK - (size % BLOCK)) % BLOCK;
    if (header.type === "directory") {
      if (safe.path) await this.ensureDir(path.join(this.dest, safe.path));
      this.current =
        size > 0 ? { header: entryHeader, remaining: size, padding: realPadding } : undefined;
      return;
    }
    if (!safe.path)
      throw new ArchiveError(`refused archive entry ${JSON.stringify(rawName)}: empty name`);
    if (this.bytes + size > this.maxBytes) {
      throw new ArchiveError(`archive content exceeds the limit of ${this.maxBytes} bytes`);
    }
    const target = path.join(this.dest, safe.path);
    // safeEntryPath already forbids escapes; check again on the resolved path.
    const rel = path.relative(this.dest, target);
    if (rel.startsWith("..") || path.isAbsolute(rel)) {
      throw new ArchiveError(
        `refused archive entry ${JSON.stringify(rawName)}: outside the destination`,
      );
    }
    await this.ensureDir(path.dirname(target));
    const mode = header.mode & 0o111 ? 0o755 : 0o644;
    // Small files are gathered in memory and written at once (far fewer
    // system calls than a stream per file); large ones stream.
    if (size <= SMALL_FILE) this.small = { target, mode, chunks: [] };
    else this.file = createWriteStream(target, { mode });
    this.files++;
    this.current = { header: entryHeader, remaining: size, padding: realPadding, target };
    if (size === 0) await this.endContent();
  }

  /** Returns false when more input is needed. */
  private async feedContent(): Promise<boolean> {
    const cur = this.current;
    if (!cur) return true;
    if (cur.remaining > 0) {
      if (this.buffer.length === 0) return false;
      const take = Math.min(cur.remaining, this.buffer.length);
      const piece = this.buffer.subarray(0, take);
      this.buffer = this.buffer.subarray(take);
      cur.remaining -= take;
      if (this.file || this.small) {
        this.bytes += take;
        if (this.bytes > this.maxBytes) {
          throw new ArchiveError(`archive content exceeds the limit of ${this.maxBytes} bytes`);
        }
        if (this.small) this.small.chunks.push(Buffer.from(piece));
        const file = this.file;
        if (file && !file.write(piece))
          await new Promise<void>((resolve) => file.once("drain", resolve));
      }
      if (cur.remaining > 0) return false;
    }
    if (cur.padding > 0) {
      if (this.buffer.length === 0) return false;
      const skip = Math.min(cur.padding, this.buffer.length);
      this.buffer = this.buffer.subarray(skip);
      cur.padding -= skip;
      if (cur.padding > 0) return false;
    }
    await this.endContent();
    return true;
  }

  private async endContent(): Promise<void> {
    const cur = this.current;
    if (cur && (cur.remaining > 0 || cur.padding > 0)) return;
    this.current = undefined;
    await this.closeFile();
  }

  private async ensureDir(dir: string): Promise<void> {
    if (this.dirs.has(dir)) return;
    await mkdir(dir, { recursive: true });
    this.dirs.add(dir);
  }

  private async closeFile(): Promise<void> {
    const small = this.small;
    if (small) {
      this.small = undefined;
      // Up to WRITE_CONCURRENCY small files are written at once.
      const write = writeFile(small.target, Buffer.concat(small.chunks), { mode: small.mode });
      write.catch(() => undefined); // observed in flush()
      this.writes.push(write);
      if (this.writes.length >= WRITE_CONCURRENCY) await this.writes.shift();
    }
    const file = this.file;
    if (!file) return;
    this.file = undefined;
    await new Promise<void>((resolve, reject) => {
      file.once("error", reject);
      file.end(() => resolve());
    });
  }

  /** Returns false when more input is needed. */
  private feedMeta(): boolean {
    const meta = this.meta;
    if (!meta) return true;
    if (meta.remaining > 0) {
      if (this.buffer.length === 0) return false;
      const take = Math.min(meta.remaining, this.buffer.length);
      meta.chunks.push(this.buffer.subarray(0, take));
      this.buffer = this.buffer.subarray(take);
      meta.remaining -= take;
      if (meta.remaining > 0) return false;
    }
    if (meta.padding > 0) {
      if (this.buffer.length === 0) return false;
      const skip = Math.min(meta.padding, this.buffer.length);
      this.buffer = this.buffer.subarray(skip);
      meta.padding -= skip;
      if (meta.padding > 0) return false;
    }
    this.meta = undefined;
    const data = Buffer.concat(meta.chunks);
    if (meta.kind === "pax") {
      for (const [k, v] of parsePax(data)) {
        if (k === "path" || k === "size" || k === "linkpath") this.pax.set(k, v);
      }
    } else if (meta.kind === "long-name") {
      this.longName = readString(data, 0, data.length);
    }
    return true;
  }
}
