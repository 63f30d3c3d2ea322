/**
 * An on-disk cache of directories (source checkouts, pulled charts), keyed by
 * a string such as `url@revision`. Entries are filled in a temp directory and
 * renamed into place, so a reader never sees half an entry, whether the other
 * writer is in this process or in a parallel run sharing the cache. Within one
 * process, concurrent requests for the same key share a single fill.
 *
 * The cache never serves wrong bytes: each entry records every file's size,
 * modification time and SHA-256, and its overall digest. On use the files are
 * compared by size and time (cheap), and hashed when those differ or when
 * full verification is asked for (`--verify-cache`); a missing, extra or
 * changed file makes the entry a miss: it is removed, fetched again, and a
 * warning says so. Fills left behind by a killed run are swept on first use.
 *
 * Render outputs are one-file entries (readText/writeText): a header line and
 * the content in one `<sha256>.entry` file, written beside and renamed into
 * place, checked in full on every use. A folder per output cost two mkdir(2)
 * calls per entry, each many times a small file's write.
 */
import { createHash, randomBytes } from "node:crypto";
import {
  closeSync,
  constants,
  createReadStream,
  fstatSync,
  futimesSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  type Stats,
} from "node:fs";
import {
  lstat,
  mkdir,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  utimes,
  writeFile,
} from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { FluxLocalError } from "../../util/errors.js";
import { logger } from "../../util/log.js";
import { redactUrls } from "../../util/printable.js";
import { removeOnInterrupt } from "../../util/interrupt.js";
import { removeEntry, removeEntrySync } from "../../util/cache-entry.js";

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

export interface CacheOptions {
  /** Hash every file on every use, not only those whose size or time changed. */
  verify?: "quick" | "full";
}

const META = ".flux-local-entry.json";
const OLD_FORMAT = "it has no content digest (written by an older version)";
const CONTENT = "content";
/** A fill or trash folder older than this is left over from a killed run. */
const STALE_MS = 60 * 60_000;

/** [size, mtimeMs, sha256] of one file of an entry. */
type FileRecord = [number, number, string];

interface EntryMeta {
  key: string;
  created?: string;
  /** sha256 over the sorted (path, sha256) list. */
  digest?: string;
  files?: Record<string, FileRecord>;
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** Every regular file under `dir` (relative paths, `/`-separated); links and others are listed as such. */
async function listFiles(dir: string, rel = ""): Promise<Map<string, "file" | "other">> {
  const out = new Map<string, "file" | "other">();
  for (const entry of await readdir(path.join(dir, rel), { withFileTypes: true })) {
    const name = rel ? `${rel}/${entry.name}` : entry.name;
    if (entry.isDirectory()) for (const [k, v] of await listFiles(dir, name)) out.set(k, v);
    else out.set(name, entry.isFile() ? "file" : "other");
  }
  return out;
}

/** A record in the current format, checked against its own digest. */
type CurrentRecord = EntryMeta & { files: Record<string, FileRecord>; digest: string };

/**
 * An entry's record, checked on its own: parsed, for `key`, in the current
 * format and matching its digest; else why not ("other-key" for a hash
 * collision, OLD_FORMAT for an entry written before records had a digest).
 */
function recordOf(metaText: string, key: string): CurrentRecord | string {
  let meta: EntryMeta;
  try {
    meta = JSON.parse(metaText) as EntryMeta;
  } catch {
    return "its record is not valid JSON";
  }
  if (typeof meta !== "object" || meta === null) return "its record is not an object";
  if (meta.key !== key) return meta.key === undefined ? "its record has no key" : "other-key";
  if (!meta.files || typeof meta.files !== "object" || typeof meta.digest !== "string")
    return OLD_FORMAT;
  if (digestOf(meta.files) !== meta.digest) return "its record does not match its digest";
  return meta as CurrentRecord;
}

/**
 * One-file entries (render outputs): `<sha256 of the key>.entry`, a JSON
 * header line (this format, the key, the name, the content's size and
 * SHA-256) then the content. Folder entries never end in `.entry`, and the
 * layout before it (a folder per output) is never read as one.
 */
const ONE_FILE_SUFFIX = ".entry";
const ONE_FILE_ENTRY = /^[0-9a-f]{64}\.entry$/;
const ONE_FILE_FORMAT = "flux-local-entry-2";

interface OneFileHeader {
  format: string;
  key: string;
  name: string;
  size: number;
  sha256: string;
  created: string;
}

/** The text of a one-file entry for `key`, checked in full, or why it cannot be served ("other-key": a hash collision). */
function oneFileOf(data: Buffer, key: string, name: string): { text: string } | string {
  const end = data.indexOf(0x0a);
  if (end < 0) return "it has no header";
  let header: OneFileHeader;
  try {
    header = JSON.parse(data.subarray(0, end).toString("utf8")) as OneFileHeader;
  } catch {
    return "its header is not valid JSON";
  }
  if (typeof header !== "object" || header === null) return "its header is not an object";
  if (header.format !== ONE_FILE_FORMAT) return "its header is not of this format";
  if (header.key !== key)
    return typeof header.key === "string" ? "other-key" : "its header has no key";
  if (header.name !== name) return `it does not hold ${name}`;
  const content = data.subarray(end + 1);
  if (content.length !== header.size) return `${name} changed size`;
  if (createHash("sha256").update(content).digest("hex") !== header.sha256)
    return `${name} changed content`;
  return { text: content.toString("utf8") };
}

/**
 * The random part of a fill's name: random per process (two machines sharing
 * a cache may reuse a pid), then a counter (randomFill per fill is not free).
 */
let tempPrefix: string | undefined;
let tempCount = 0;
function tempSuffix(): string {
  tempPrefix ??= randomBytes(4).toString("hex");
  return `${tempPrefix}${(tempCount++).toString(16)}`;
}

function digestOf(files: Record<string, FileRecord>): string {
  const hash = createHash("sha256");
  for (const name of Object.keys(files).sort()) hash.update(`${name}\u0000${files[name]![2]}\n`);
  return hash.digest("hex");
}

/** The manifest of a filled content folder. */
async function manifest(content: string): Promise<Record<string, FileRecord>> {
  const files: Record<string, FileRecord> = {};
  for (const [name, type] of await listFiles(content)) {
    if (type !== "file") continue;
    const full = path.join(content, name);
    const st = await stat(full);
    files[name] = [st.size, st.mtimeMs, await sha256File(full)];
  }
  return files;
}

function cacheError(root: string, err: unknown): FluxLocalError {
  const code = (err as NodeJS.ErrnoException).code ?? "";
  const why =
    code === "EACCES" || code === "EPERM" || code === "EROFS"
      ? "is not writable"
      : code === "ENOSPC" || code === "EDQUOT"
        ? "is full (no space left on the device)"
        : `cannot be written (${code || String(err)})`;
  return new FluxLocalError(
    `the cache directory ${root} ${why}: free it, or point --cache-dir (or FLUX_LOCAL_CACHE_DIR) somewhere writable`,
    { cause: err },
  );
}

/** The sweep of each cache folder this process made (see DirectoryCache.sweep). */
const sweeps = new Map<string, Promise<void>>();

export class DirectoryCache {
  private readonly inFlight = new Map<string, Promise<CacheResult>>();
  private readonly verified = new Map<string, string>();
  /** Shard folders made (or found) by writeText in this run. */
  private readonly shards = new Set<string>();
  /** Number of fills run by this instance (tests count fetches with it). */
  fills = 0;
  /** Entries found damaged and removed by this instance. */
  repaired = 0;

  constructor(
    readonly root: string,
    private readonly options: CacheOptions = {},
  ) {}

  private entryDir(namespace: string, key: string): string {
    const hash = createHash("sha256").update(key).digest("hex");
    return path.join(this.root, namespace, hash.slice(0, 2), hash);
  }

  /** The content directory of a complete, intact entry, or undefined. */
  async get(namespace: string, key: string): Promise<string | undefined> {
    const dir = this.entryDir(namespace, key);
    let metaText: string;
    try {
      metaText = await readFile(path.join(dir, META), "utf8");
    } catch {
      return undefined;
    }
    const content = path.join(dir, CONTENT);
    // Verified once per run: later uses in the same run trust it.
    if (this.verified.get(dir) === metaText) return content;
    const problem = await this.check(metaText, key, content);
    if (problem === "other-key") return undefined;
    if (problem === OLD_FORMAT) {
      // Written before entries carried a digest: fetched again, quietly.
      logger.debug({ namespace, key: redactUrls(key) }, "cache entry without a digest: refreshed");
      await this.removeDir(dir);
      return undefined;
    }
    if (problem) {
      logger.warn(
        { namespace, key: redactUrls(key), problem },
        "cache entry damaged: removed, fetching it again",
      );
      this.repaired++;
      await this.removeDir(dir);
      return undefined;
    }
    this.verified.set(dir, metaText);
    return content;
  }

  /** Why an entry cannot be served ("other-key" for a hash collision), or undefined. */
  private async check(metaText: string, key: string, content: string): Promise<string | undefined> {
    const meta = recordOf(metaText, key);
    if (typeof meta === "string") return meta;
    let present: Map<string, "file" | "other">;
    try {
      present = await listFiles(content);
    } catch {
      return "its content folder is missing";
    }
    for (const [name, type] of present) {
      if (type !== "file") return `${name} is not a regular file`;
      if (!(name in meta.files)) return `${name} was added`;
    }
    for (const [name, record] of Object.entries(meta.files)) {
      if (!present.has(name)) return `${name} is missing`;
      const full = path.join(content, name);
      const st = await lstat(full);
      const [size, mtimeMs, sha] = record;
      if (st.size !== size) return `${name} changed size`;
      if (this.options.verify === "full" || st.mtimeMs !== mtimeMs) {
        if ((await sha256File(full)) !== sha) return `${name} changed content`;
      }
    }
    return undefined;
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
    await this.removeDir(this.entryDir(namespace, key));
  }

  private async removeDir(dir: string): Promise<void> {
    this.verified.delete(dir);
    await removeEntry(dir);
  }

  /**
   * Remove fills and trash that a killed run left behind (`*.tmp-PID-*`,
   * `*.trash-*`): those of a process that is gone, or older than an hour.
   * Once per cache folder in a process, before the first fill.
   */
  sweep(): Promise<void> {
    // Once per cache folder and process: a run has a cache for sources and
    // one per renderer, all in one folder, and each walk reads every shard.
    let swept = sweeps.get(this.root);
    if (!swept) {
      swept = this.sweepNow().catch((err: unknown) => {
        logger.debug({ err }, "cache sweep failed");
      });
      sweeps.set(this.root, swept);
    }
    return swept;
  }

  private async sweepNow(): Promise<void> {
    const now = Date.now();
    // root/<namespace>/<shard>/<entry>, where a namespace may be nested
    // (renders/kustomize): folders are walked down to the entries, not into them.
    const walk = async (dir: string, depth: number): Promise<void> => {
      let names: string[];
      try {
        names = await readdir(dir);
      } catch {
        return; // a file, or gone
      }
      for (const name of names) {
        const full = path.join(dir, name);
        const m = /\.(?:tmp|trash)-(\d+)-[0-9a-f]+$/.exec(name) ?? /\.trash-[0-9a-f]+$/.exec(name);
        if (!m) {
          if (depth < 3 && !/^[0-9a-f]{64}$/.test(name) && !name.startsWith("."))
            await walk(full, depth + 1);
          continue;
        }
        const pid = m[1] ? Number(m[1]) : undefined;
        let stale = pid === undefined || !isAlive(pid);
        if (!stale) {
          try {
            stale = now - (await stat(full)).mtimeMs > STALE_MS;
          } catch {
            continue;
          }
        }
        if (stale) await rm(full, { recursive: true, force: true });
      }
    };
    await walk(this.root, 0);
  }

  private async fillOnce(
    namespace: string,
    key: string,
    fill: (dir: string) => Promise<void>,
  ): Promise<CacheResult> {
    const existing = await this.get(namespace, key);
    if (existing) return { path: existing, hit: true };
    await this.sweep();
    const dir = this.entryDir(namespace, key);
    const tmp = `${dir}.tmp-${process.pid}-${tempSuffix()}`;
    const forgetTmp = removeOnInterrupt(tmp);
    try {
      await mkdir(path.join(tmp, CONTENT), { recursive: true });
    } catch (err) {
      throw cacheError(this.root, err);
    }
    try {
      this.fills++;
      await fill(path.join(tmp, CONTENT));
      let metaText: string;
      try {
        const files = await manifest(path.join(tmp, CONTENT));
        const meta: EntryMeta = {
          key,
          created: new Date().toISOString(),
          digest: digestOf(files),
          files,
        };
        metaText = JSON.stringify(meta);
        await writeFile(path.join(tmp, META), metaText);
      } catch (err) {
        throw cacheError(this.root, err);
      }
      for (let attempt = 0; ; attempt++) {
        try {
          await rename(tmp, dir);
          break;
        } catch (err) {
          // Another process finished the same entry first: use theirs, if intact.
          const theirs = await this.get(namespace, key);
          if (theirs) return { path: theirs, hit: true };
          // A damaged entry was in the way (get removed it): try once more.
          if (attempt === 0) continue;
          throw cacheError(this.root, err);
        }
      }
      this.verified.set(dir, metaText);
      return { path: path.join(dir, CONTENT), hit: false };
    } finally {
      await rm(tmp, { recursive: true, force: true });
      forgetTmp();
    }
  }

  /**
   * Where the one-file entry for `key` lives: `<namespace>/<first hex digit>/<sha256>.entry`
   * (never mistaken for a folder entry). Sixteen shard folders, not 256: a
   * cold run made one per entry (mkdir(2) costs ~0.3 ms here, more than the
   * entry's own write), and the size bound counts a one-file entry with one
   * lstat, so larger shards cost it little.
   */
  private fileEntry(namespace: string, key: string): string {
    const hash = createHash("sha256").update(key).digest("hex");
    return path.join(this.root, namespace, hash.slice(0, 1), `${hash}${ONE_FILE_SUFFIX}`);
  }

  /**
   * The text of a one-file entry (a render's output), checked in full against
   * its header on every use, or undefined. Synchronous, as writeText: an entry
   * is one small file, read in a few microseconds, while the asynchronous path
   * costs several thread-pool round trips per entry. A damaged entry is
   * removed, with a warning, and is a miss.
   */
  readText(namespace: string, key: string, name: string): string | undefined {
    const file = this.fileEntry(namespace, key);
    // A miss without an exception (a failed open throws one: ~50 µs, a cold run has a hundred).
    const st = lstatSync(file, { throwIfNoEntry: false });
    if (st === undefined) return undefined;
    if (st.isSymbolicLink()) return this.damaged(namespace, key, file, "it is a link");
    let fd: number;
    try {
      // Not through a link: an entry is a regular file.
      fd = openSync(file, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ELOOP") return undefined;
      return this.damaged(namespace, key, file, "it is a link");
    }
    let found: { text: string } | string;
    try {
      found = fstatSync(fd).isFile()
        ? oneFileOf(readFileSync(fd), key, name)
        : "it is not a regular file";
      if (typeof found !== "string") {
        const now = new Date();
        try {
          futimesSync(fd, now, now); // used now: pruning removes the least recently used first
        } catch {
          // a read-only cache still serves
        }
      }
    } catch {
      found = "it cannot be read";
    } finally {
      closeSync(fd);
    }
    if (typeof found !== "string") return found.text;
    if (found === "other-key") return undefined;
    return this.damaged(namespace, key, file, found);
  }

  private damaged(namespace: string, key: string, file: string, problem: string): undefined {
    logger.warn(
      { namespace, key: redactUrls(key), problem },
      "cache entry damaged: removed, fetching it again",
    );
    this.repaired++;
    removeEntrySync(file);
    return undefined;
  }

  /**
   * Write a one-file entry holding `text` under `name`, atomically: written
   * beside, renamed into place (over an entry already there: the same key
   * holds the same bytes, and a damaged one is replaced).
   */
  async writeText(namespace: string, key: string, name: string, text: string): Promise<void> {
    await this.sweep();
    const file = this.fileEntry(namespace, key);
    const tmp = `${file}.tmp-${process.pid}-${tempSuffix()}`;
    const bytes = Buffer.from(text, "utf8");
    const header: OneFileHeader = {
      format: ONE_FILE_FORMAT,
      key,
      name,
      size: bytes.length,
      sha256: createHash("sha256").update(bytes).digest("hex"),
      created: new Date().toISOString(),
    };
    const data = Buffer.concat([Buffer.from(`${JSON.stringify(header)}\n`, "utf8"), bytes]);
    try {
      const shard = path.dirname(file);
      if (!this.shards.has(shard)) {
        mkdirSync(shard, { recursive: true });
        this.shards.add(shard);
      }
      try {
        writeFileSync(tmp, data);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
        // The shard folder was removed meanwhile (a prune in another run).
        mkdirSync(shard, { recursive: true });
        writeFileSync(tmp, data);
      }
      this.fills++;
      try {
        renameSync(tmp, file);
      } catch {
        // Something else in the way (a folder): removed, and tried once more.
        removeEntrySync(file);
        renameSync(tmp, file);
      }
    } catch (err) {
      removeQuietly(tmp);
      throw cacheError(this.root, err);
    }
  }

  /** Mark an entry used now (pruning removes the least recently used first). */
  async touch(namespace: string, key: string): Promise<void> {
    const now = new Date();
    await utimes(this.entryDir(namespace, key), now, now).catch(() => {});
  }
}

export interface CacheEntryInfo {
  /** `git`, `oci`, `renders/kustomize`, ... */
  namespace: string;
  dir: string;
  bytes: number;
  /** Last fill or use. */
  usedMs: number;
}

/** Bytes of the files under `file` (a folder's own size is not counted). */
function sizeOf(file: string): number {
  const st = lstatSync(file);
  if (!st.isDirectory()) return st.size;
  let total = 0;
  for (const name of readdirSync(file)) total += sizeOf(path.join(file, name));
  return total;
}

/**
 * Every complete entry under a cache root (other files, e.g. records, are not
 * entries): folders holding a record, and one-file entries (`<sha256>.entry`).
 * Synchronous: a thread-pool round trip per call costs far more than the call
 * for the small folders of a cache, and nothing else runs meanwhile.
 */
export function listCacheEntriesSync(root: string): CacheEntryInfo[] {
  const out: CacheEntryInfo[] = [];
  const walk = (dir: string, namespace: string[]): void => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    if (names.includes(META)) {
      try {
        const st = statSync(dir);
        out.push({
          namespace: namespace.slice(0, -2).join("/"),
          dir,
          bytes: sizeOf(dir),
          usedMs: st.mtimeMs,
        });
      } catch {
        // removed meanwhile
      }
      return;
    }
    for (const name of names) {
      if (name.includes(".tmp-") || name.includes(".trash-")) continue;
      const full = path.join(dir, name);
      let st: Stats;
      try {
        st = lstatSync(full);
      } catch {
        continue; // removed meanwhile
      }
      if (st.isDirectory()) walk(full, [...namespace, name]);
      else if (st.isFile() && ONE_FILE_ENTRY.test(name))
        out.push({
          namespace: namespace.slice(0, -1).join("/"),
          dir: full,
          bytes: st.size,
          usedMs: st.mtimeMs,
        });
    }
  };
  walk(root, []);
  return out;
}

/** Every complete entry under a cache root (see listCacheEntriesSync). */
export function listCacheEntries(root: string): Promise<CacheEntryInfo[]> {
  return Promise.resolve(listCacheEntriesSync(root));
}

/** Remove a fill that failed; what cannot be removed is swept later. */
function removeQuietly(dir: string): void {
  try {
    rmSync(dir, { recursive: true, force: true });
  } catch {
    // swept by a later run (sweep())
  }
}

/** Remove one entry as `remove` does: renamed away first, so readers never see half of it. */
export const removeCacheEntry = removeEntry;

function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
