/**
 * Observations of the file system, made the same way when a run is recorded
 * and when a replay checks them: a file's content hash, a folder's entries, a
 * path's type (and a file's size and time), a link's target, an access check.
 * A replay is allowed only when every observation comes out the same.
 *
 * Node built-ins only (on the path of a replayed run).
 */
import {
  accessSync,
  lstatSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  statSync,
  type BigIntStats,
  type Dirent,
  type Stats,
} from "node:fs";
import type { Observation, PathFacts } from "./invocation.js";
import { nodeCrypto } from "../../util/builtins.js";

export const sha256 = (data: string | Uint8Array): string =>
  nodeCrypto().createHash("sha256").update(data).digest("hex");

export function errorCode(err: unknown): string {
  return `!${(err as NodeJS.ErrnoException).code ?? "ERROR"}`;
}

const NS_PER_S = 1_000_000_000n;

/**
 * A file's modification time in milliseconds exactly as a plain (not bigint)
 * stat gives it, from the nanoseconds a bigint stat gives: Node computes
 * `seconds * 1e3 + nanoseconds / 1e6` in floating point, which can round up
 * to the next millisecond where the nanoseconds' floor does not.
 */
export function plainMtimeMs(st: BigIntStats): number {
  let s = st.mtimeNs / NS_PER_S;
  let ns = st.mtimeNs % NS_PER_S;
  if (ns < 0n) {
    ns += NS_PER_S;
    s -= 1n;
  }
  return Number(s) * 1e3 + Number(ns) / 1e6;
}

/** A path's type as a run may have used it: a file's size and time, or just the type. */
export function describeStat(st: Stats | BigIntStats): string {
  if (st.isFile()) {
    const ms = typeof st.mtimeMs === "bigint" ? plainMtimeMs(st as BigIntStats) : st.mtimeMs;
    return `file:${st.size}:${Math.trunc(ms)}`;
  }
  if (st.isDirectory()) return "dir";
  if (st.isSymbolicLink()) return "link";
  return "other";
}

function direntType(d: Dirent): string {
  if (d.isFile()) return "f";
  if (d.isDirectory()) return "d";
  if (d.isSymbolicLink()) return "l";
  return "o";
}

/** Listings up to this long are kept as they are; longer ones as their SHA-256. */
const LISTING_KEPT = 1024;

/**
 * A folder's entries: names sorted (with types), as they are (after `=`) when
 * short, else hashed — so that checking a small folder loads no node:crypto.
 */
export function describeEntries(entries: ReadonlyArray<string | Dirent>): string {
  const names = entries
    .map((e) => (typeof e === "string" ? e : `${e.name}\u0001${direntType(e)}`))
    .sort()
    .join("\0");
  return names.length <= LISTING_KEPT ? `=${names}` : sha256(names);
}

/** [size, mtimeNs, ctimeNs, ino] of a file: equal means unchanged (a write always moves ctime). */
export function quickStat(st: BigIntStats): [string, string, string, string] {
  return [String(st.size), String(st.mtimeNs), String(st.ctimeNs), String(st.ino)];
}

/** quickStat(st) equals q (without making the four strings: see Probe). */
function sameQuickStat(st: BigIntStats, q: readonly [string, string, string, string]): boolean {
  return (
    st.mtimeNs === BigInt(q[1]) &&
    st.size === BigInt(q[0]) &&
    st.ctimeNs === BigInt(q[2]) &&
    st.ino === BigInt(q[3])
  );
}

function attempt<T>(fn: () => T): T | string {
  try {
    return fn();
  } catch (err) {
    return errorCode(err);
  }
}

/**
 * The file's content hash now (or the error code). Only a regular file is
 * read: a FIFO or device put in a file's place is a difference, never a wait.
 */
export function fileHashNow(p: string): string {
  const st = attempt(() => statSync(p));
  if (typeof st === "string") return st;
  if (st.isDirectory()) return "!EISDIR";
  if (!st.isFile()) return "!ENOTFILE";
  const data = attempt(() => readFileSync(p));
  return typeof data === "string" ? data : sha256(data);
}

export function entriesNow(p: string, types: boolean): string {
  const result = attempt(() =>
    types ? readdirSync(p, { withFileTypes: true }) : readdirSync(p, { encoding: "utf8" }),
  );
  return typeof result === "string" ? result : describeEntries(result);
}

export function statNow(p: string, follow: boolean): string {
  const result = attempt(() => (follow ? statSync(p) : lstatSync(p)));
  return typeof result === "string" ? result : describeStat(result);
}

/**
 * realpath(3), as most of the program asks it (src/render/file-facts.ts,
 * fs.promises.realpath): one call, where fs.realpathSync walks the path in
 * JavaScript, an lstat per component.
 */
export function realpathNow(p: string): string {
  return attempt(() => realpathSync.native(p));
}

export function readlinkNow(p: string): string {
  return attempt(() => readlinkSync(p, { encoding: "utf8" }));
}

export function accessNow(p: string, mode: number): boolean {
  try {
    accessSync(p, mode);
    return true;
  } catch {
    return false;
  }
}

/**
 * The file system as one check of a recorded run finds it: each path is
 * lstat-ed once, and what else the check asks of it is taken from that
 * answer where it cannot differ. A replay checks ~1,500 observations on
 * ~600 paths of a 100-app repository, most paths three ways (the file's
 * content by its stat, its type and size, its real path); system calls are
 * most of its cost. What is derived:
 * - stat of a path whose lstat found no link is that lstat (the same inode);
 * - on Linux, the real path of such a path is its folder's real path and its
 *   name (only a link resolves to another name; names keep their case). The
 *   folder's real path is asked once per folder.
 * Errors, links and anything else are asked of the system as before.
 */
const SLASH = 0x2f;
/** Where a name resolves as itself unless it is a link, and in its own case (see Probe). */
const DERIVE_REALPATHS = process.platform === "linux";

export class Probe {
  /**
   * Files found exactly as the recorded run left them (size, times and inode
   * as its content observation noted them at its end, when the recorder also
   * checked every stat observation again): their stat and lstat
   * observations hold without describing the stat again.
   */
  readonly unchanged = new Set<string>();
  private readonly lstats = new Map<string, BigIntStats | string>();
  private readonly stats = new Map<string, BigIntStats | string>();
  private readonly realpaths = new Map<string, string>();

  lstat(p: string): BigIntStats | string {
    let st = this.lstats.get(p);
    if (st === undefined) {
      st = attempt(() => lstatSync(p, { bigint: true }));
      this.lstats.set(p, st);
    }
    return st;
  }

  stat(p: string): BigIntStats | string {
    const l = this.lstat(p);
    if (typeof l !== "string" && !l.isSymbolicLink()) return l;
    let st = this.stats.get(p);
    if (st === undefined) {
      st = attempt(() => statSync(p, { bigint: true }));
      this.stats.set(p, st);
    }
    return st;
  }

  realpath(p: string): string {
    let r = this.realpaths.get(p);
    if (r === undefined) {
      r = this.derivedRealpath(p) ?? realpathNow(p);
      this.realpaths.set(p, r);
    }
    return r;
  }

  /**
   * Only for an absolute path in normal form (no `//`, `.` or `..` parts, no
   * trailing `/`), checked with indexOf: path.normalize, run a few hundred
   * times in a short-lived process (not yet compiled), cost more than the
   * realpath calls it saves.
   */
  private derivedRealpath(p: string): string | undefined {
    if (!DERIVE_REALPATHS || p.charCodeAt(0) !== SLASH) return undefined;
    const cut = p.lastIndexOf("/");
    if (cut <= 0 || cut === p.length - 1) return undefined;
    if (p.includes("//") || p.includes("/./") || p.includes("/../")) return undefined;
    const name = p.slice(cut + 1);
    if (name === "." || name === "..") return undefined;
    const st = this.lstat(p);
    if (typeof st === "string" || st.isSymbolicLink()) return undefined;
    const dir = p.slice(0, cut);
    let real = this.realpaths.get(dir);
    if (real === undefined) {
      real = realpathNow(dir);
      this.realpaths.set(dir, real);
    }
    if (real.charCodeAt(0) !== SLASH) return undefined; // an error code
    return real === "/" ? `/${name}` : `${real}/${name}`;
  }
}

/** A file's content as recorded: unchanged size, times and inode, or else the same hash. */
function contentHolds(
  p: string,
  h: string,
  q: Quick | undefined,
  verifyAll: boolean,
  probe: Probe,
): boolean {
  if (h.startsWith("!")) return fileHashNow(p) === h;
  if (q && !verifyAll) {
    const st = probe.stat(p);
    if (typeof st === "string") return false;
    if (sameQuickStat(st, q)) {
      probe.unchanged.add(p);
      return true;
    }
  }
  return fileHashNow(p) === h;
}

/** A stat (follow) or lstat observation; after the path's content check (see Probe.unchanged). */
function statHolds(p: string, follow: boolean, d: string, probe: Probe): boolean {
  const st = follow ? probe.stat(p) : probe.lstat(p);
  if (probe.unchanged.has(p) && typeof st !== "string" && !st.isSymbolicLink()) return true;
  return (typeof st === "string" ? st : describeStat(st)) === d;
}

/**
 * Whether the observation still holds; the first that does not is the reason
 * for a miss. `probe` is the check's view of the file system (one per check);
 * a path's content observation checked before its stat observations lets
 * them skip work (see Probe.unchanged).
 */
export function holds(o: Observation, verifyAll: boolean, probe: Probe): boolean {
  // One observation packed alone: the one check, changedAt, for both forms.
  return changedAt(packObservations([o])![0]!, verifyAll, probe) === undefined;
}

type Quick = [string, string, string, string];

/**
 * A run's observations as its record keeps them, one PathFacts per path in
 * the order the paths were first seen; undefined when one path was seen one
 * way twice with two answers (the recorder does not keep such a run).
 */
export function packObservations(observations: readonly Observation[]): PathFacts[] | undefined {
  const byPath = new Map<string, PathFacts>();
  const set = <K extends keyof PathFacts>(f: PathFacts, key: K, value: PathFacts[K]): boolean => {
    if (f[key] !== undefined && JSON.stringify(f[key]) !== JSON.stringify(value)) return false;
    f[key] = value;
    return true;
  };
  for (const o of observations) {
    let f = byPath.get(o.p);
    if (!f) byPath.set(o.p, (f = { p: o.p }));
    let ok: boolean;
    switch (o.k) {
      case "file":
        ok = set(f, "h", o.h) && (o.q === undefined || set(f, "q", o.q));
        break;
      case "dir":
        ok = set(f, o.types ? "e" : "n", o.h);
        break;
      case "stat":
        ok = set(f, o.follow ? "s" : "l", o.d);
        break;
      case "realpath":
        ok = set(f, "r", o.r);
        break;
      case "readlink":
        ok = set(f, "t", o.r);
        break;
      case "access": {
        const known = f.a?.find(([mode]) => mode === o.mode);
        ok = known ? known[1] === o.ok : ((f.a ??= []).push([o.mode, o.ok]), true);
        break;
      }
    }
    if (!ok) return undefined;
  }
  return [...byPath.values()];
}

/** The observations one PathFacts holds (for messages and tests). */
export function unpackObservations(f: PathFacts): Observation[] {
  const { p } = f;
  const out: Observation[] = [];
  if (f.h !== undefined) out.push({ k: "file", p, h: f.h, ...(f.q ? { q: f.q } : {}) });
  if (f.s !== undefined) out.push({ k: "stat", p, follow: true, d: f.s });
  if (f.l !== undefined) out.push({ k: "stat", p, follow: false, d: f.l });
  if (f.r !== undefined) out.push({ k: "realpath", p, r: f.r });
  if (f.t !== undefined) out.push({ k: "readlink", p, r: f.t });
  if (f.n !== undefined) out.push({ k: "dir", p, h: f.n, types: false });
  if (f.e !== undefined) out.push({ k: "dir", p, h: f.e, types: true });
  for (const [mode, ok] of f.a ?? []) out.push({ k: "access", p, mode, ok });
  return out;
}

/**
 * The first of a path's observations that no longer holds (its kind, for
 * --verbose), or undefined when all do: its content first, then the rest.
 */
export function changedAt(f: PathFacts, verifyAll: boolean, probe: Probe): string | undefined {
  const { p } = f;
  if (f.h !== undefined && !contentHolds(p, f.h, f.q, verifyAll, probe)) return "file";
  if (f.s !== undefined && !statHolds(p, true, f.s, probe)) return "stat";
  if (f.l !== undefined && !statHolds(p, false, f.l, probe)) return "lstat";
  if (f.r !== undefined && probe.realpath(p) !== f.r) return "realpath";
  if (f.t !== undefined && readlinkNow(p) !== f.t) return "readlink";
  if (f.n !== undefined && entriesNow(p, false) !== f.n) return "dir";
  if (f.e !== undefined && entriesNow(p, true) !== f.e) return "dir";
  for (const [mode, ok] of f.a ?? []) if (accessNow(p, mode) !== ok) return "access";
  return undefined;
}
