/**
 * Observations of the file system, made the same way when a run is recorded
 * and when a replay checks them: a file's content hash, a folder's entries, a
 * path's type (and a file's size and time), a link's target, an access check.
 * A replay is allowed only when every observation comes out the same.
 *
 * Node built-ins only (on the path of a replayed run).
 */
import { createHash } from "node:crypto";
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
import type { Observation } from "./invocation.js";

export const sha256 = (data: string | Uint8Array): string =>
  createHash("sha256").update(data).digest("hex");

export function errorCode(err: unknown): string {
  return `!${(err as NodeJS.ErrnoException).code ?? "ERROR"}`;
}

/** A path's type as a run may have used it: a file's size and time, or just the type. */
export function describeStat(st: Stats | BigIntStats): string {
  if (st.isFile()) return `file:${st.size}:${Math.trunc(Number(st.mtimeMs))}`;
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

/** A folder's entries, hashed: names sorted (with types), or the error code. */
export function describeEntries(entries: ReadonlyArray<string | Dirent>): string {
  const names = entries
    .map((e) => (typeof e === "string" ? e : `${e.name}\u0001${direntType(e)}`))
    .sort();
  return sha256(names.join("\0"));
}

/** [size, mtimeNs, ctimeNs, ino] of a file: equal means unchanged (a write always moves ctime). */
export function quickStat(st: BigIntStats): [string, string, string, string] {
  return [String(st.size), String(st.mtimeNs), String(st.ctimeNs), String(st.ino)];
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

/** Whether the observation still holds; the first that does not is the reason for a miss. */
export function holds(o: Observation, verifyAll: boolean): boolean {
  switch (o.k) {
    case "file": {
      if (o.h.startsWith("!")) return fileHashNow(o.p) === o.h;
      if (o.q && !verifyAll) {
        try {
          const now = quickStat(statSync(o.p, { bigint: true }));
          if (now.every((v, i) => v === o.q![i])) return true;
        } catch {
          return false;
        }
      }
      return fileHashNow(o.p) === o.h;
    }
    case "dir":
      return entriesNow(o.p, o.types) === o.h;
    case "stat":
      return statNow(o.p, o.follow) === o.d;
    case "realpath":
      return realpathNow(o.p) === o.r;
    case "readlink":
      return readlinkNow(o.p) === o.r;
    case "access":
      return accessNow(o.p, o.mode) === o.ok;
  }
}
