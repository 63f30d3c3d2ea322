/**
 * What one run learns about the files of its sources, learnt once: where a
 * path really leads, what is there, and the bytes of a file. The safety check,
 * the render inputs fingerprint and the build all ask about the same files —
 * every build of a home-ops repository about its shared components — so one
 * run answers each question once instead of once per build and per asker.
 *
 * Sources do not change while a run renders them (a fetched source is
 * complete before anything builds from it), so facts are kept for the run.
 * The calls are synchronous: for the small local files of a repository a
 * synchronous call costs a few microseconds, a thread-pool round trip and a
 * promise many times that. Failures are remembered too (a missing file stays
 * missing), and thrown again as the same error.
 */
import { lstatSync, readFileSync, realpathSync, statSync, type Stats } from "node:fs";
import { createHash } from "node:crypto";

type Fact<T> = { value: T } | { error: unknown };

/** Files kept in memory up to this size; larger ones are read again when asked. */
const KEEP_BYTES = 1 << 20;

export class FileFacts {
  private readonly realpaths = new Map<string, Fact<string>>();
  private readonly stats = new Map<string, Fact<Stats>>();
  private readonly lstats = new Map<string, Fact<Stats>>();
  private readonly contents = new Map<string, Fact<Buffer>>();
  private readonly digests = new Map<string, string | undefined>();
  private readonly derived = new Map<string, Fact<unknown>>();

  /** realpath(3) of `file`: every link resolved (throws as fs.realpath does). */
  realpath(file: string): string {
    return remember(this.realpaths, file, () => realpathSync.native(file));
  }

  /** stat(2): links followed. */
  stat(file: string): Stats {
    return remember(this.stats, file, () => statSync(file));
  }

  /** lstat(2): links not followed. */
  lstat(file: string): Stats {
    return remember(this.lstats, file, () => lstatSync(file));
  }

  /** True when `file` is a folder (links followed); false when missing. */
  isDirectory(file: string): boolean {
    try {
      return this.stat(file).isDirectory();
    } catch {
      return false;
    }
  }

  /** True when anything is at `file` (links followed). */
  exists(file: string): boolean {
    try {
      this.stat(file);
      return true;
    } catch {
      return false;
    }
  }

  /** The bytes of `file` (throws as fs.readFile does). */
  read(file: string): Buffer {
    const known = this.contents.get(file);
    if (known) {
      if ("error" in known) throw known.error;
      return known.value;
    }
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch (error) {
      this.contents.set(file, { error });
      throw error;
    }
    if (bytes.length <= KEEP_BYTES) this.contents.set(file, { value: bytes });
    return bytes;
  }

  /** The bytes of `file`, or undefined when it cannot be read. */
  tryRead(file: string): Buffer | undefined {
    try {
      return this.read(file);
    } catch {
      return undefined;
    }
  }

  /** SHA-256 (hex) of `file`'s bytes, or undefined when it cannot be read. */
  digest(file: string): string | undefined {
    if (this.digests.has(file)) return this.digests.get(file);
    const bytes = this.tryRead(file);
    const sum = bytes === undefined ? undefined : createHash("sha256").update(bytes).digest("hex");
    this.digests.set(file, sum);
    return sum;
  }

  /**
   * Something computed from `file` alone (its parsed documents), computed
   * once: `kind` names the computation. The value is shared, never to be
   * changed by the caller.
   */
  from<T>(kind: string, file: string, compute: () => T): T {
    return remember(this.derived, `${kind}\0${file}`, compute) as T;
  }
}

function remember<T>(map: Map<string, Fact<T>>, key: string, compute: () => T): T {
  const known = map.get(key);
  if (known) {
    if ("error" in known) throw known.error;
    return known.value;
  }
  try {
    const value = compute();
    map.set(key, { value });
    return value;
  } catch (error) {
    map.set(key, { error });
    throw error;
  }
}
