/**
 * Replaying a recorded run: the entry is read and checked against its
 * SHA-256s, every observation of the recorded run is made again, and only
 * when all come out the same are the recorded stdout, stderr and output files
 * written again and the exit code returned. Anything else is a miss: the run
 * happens as usual (and records itself again).
 *
 * Node built-ins only, so a replayed run loads nothing else.
 */
import {
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import path from "node:path";
import {
  CONTENT,
  META,
  OUTPUT_FILE,
  RECORD_FILE,
  type Invocation,
  type RunRecord,
} from "./invocation.js";
import { changedAt, Probe, sha256 } from "./observe.js";
import { nodeCrypto } from "../../util/builtins.js";
import { removeEntrySync } from "../../util/cache-entry.js";

/**
 * [size, mtimeMs, sha256] per file, as the directory cache records entries:
 * the file's size and modification time when it was written, and its hash.
 */
export interface EntryMeta {
  key: string;
  created: string;
  digest: string;
  files: Record<string, [number, number, string]>;
}

/** The digest over an entry's files, as src/artifacts/cache/dir-cache.ts computes it. */
export function digestOf(files: EntryMeta["files"]): string {
  return sha256(
    Object.keys(files)
      .sort()
      .map((name) => `${name}\u0000${files[name]![2]}\n`)
      .join(""),
  );
}

type Loaded = { record: RunRecord; output: Buffer } | { damaged: string } | undefined;

/**
 * The entry's record and output, checked as the directory cache checks its
 * entries (src/artifacts/cache/dir-cache.ts): a file whose size changed is
 * damaged; one whose modification time changed (or every one, with
 * --verify-cache) is hashed and compared with the record's SHA-256, itself
 * checked against the record's digest first.
 */
function load(inv: Invocation): Loaded {
  let meta: EntryMeta;
  try {
    meta = JSON.parse(readFileSync(path.join(inv.entryDir, META), "utf8")) as EntryMeta;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    return { damaged: "its record is not valid JSON" };
  }
  if (typeof meta !== "object" || meta === null || typeof meta.files !== "object")
    return { damaged: "its record is incomplete" };
  if (meta.key !== inv.key) return undefined; // another invocation with the same name
  let digestChecked = false;
  const read = (name: string): Buffer | string => {
    const want = meta.files[name];
    if (!Array.isArray(want) || want.length !== 3) return `${name} is not recorded`;
    const file = path.join(inv.entryDir, CONTENT, name);
    let data: Buffer;
    let mtimeMs: number;
    try {
      data = readFileSync(file);
      mtimeMs = statSync(file).mtimeMs;
    } catch {
      return `${name} is missing`;
    }
    if (data.length !== want[0]) return `${name} changed size`;
    if (mtimeMs === want[1] && !inv.verifyAll) return data;
    if (!digestChecked) {
      if (digestOf(meta.files) !== meta.digest) return "its record does not match its digest";
      digestChecked = true;
    }
    return sha256(data) === want[2] ? data : `${name} changed content`;
  };
  const recordData = read(RECORD_FILE);
  if (typeof recordData === "string") return { damaged: recordData };
  const output = read(OUTPUT_FILE);
  if (typeof output === "string") return { damaged: output };
  let record: RunRecord;
  try {
    record = JSON.parse(recordData.toString("utf8")) as RunRecord;
  } catch {
    return { damaged: `${RECORD_FILE} is not valid JSON` };
  }
  if (record.key !== inv.key) return { damaged: `${RECORD_FILE} is for another run` };
  if (!Array.isArray(record.paths) || !Array.isArray(record.events))
    return { damaged: `${RECORD_FILE} is incomplete` };
  return { record, output };
}

/** Write a file as --output-file does: atomically, except through a device or pipe. */
function writeOutput(file: string, data: Buffer): void {
  let special = false;
  try {
    const st = statSync(file);
    special = !st.isFile() && !st.isDirectory();
  } catch {
    // a new file
  }
  if (special) {
    writeFileSync(file, data);
    return;
  }
  const tmp = path.join(
    path.dirname(file),
    `.${path.basename(file)}.${nodeCrypto().randomBytes(6).toString("hex")}.tmp`,
  );
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

function removeOutput(file: string): void {
  try {
    const st = statSync(file);
    if (!st.isFile() && !st.isDirectory()) return;
  } catch {
    return;
  }
  rmSync(file, { force: true });
}

/**
 * Write to stdout or stderr as the run did, without loading the stream
 * Node puts on them (a terminal's loads node:tty, a pipe's node:net): one
 * synchronous write after another, as Node's own are for files, pipes and
 * terminals. A descriptor left non-blocking by whoever gave it to us (EAGAIN)
 * gets the rest through the stream, which waits until it drains.
 */
async function writeOut(fd: 1 | 2, data: Buffer): Promise<void> {
  let done = 0;
  while (done < data.length && !streamed.has(fd)) {
    try {
      done += writeSync(fd, data, done, data.length - done);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "EPIPE") throw new ReaderGone();
      if (code !== "EAGAIN") throw err;
      streamed.add(fd); // and the writes after this one, in order
    }
  }
  if (done === data.length) return;
  const stream = fd === 1 ? process.stdout : process.stderr;
  streamsUsed = true;
  const rest = data.subarray(done);
  await new Promise<void>((resolve, reject) =>
    stream.write(rest, (e) => (e ? reject(e) : resolve())),
  );
}

/** The reader of stdout or stderr has gone (`flux-local build ... | head`). */
class ReaderGone extends Error {}

/** Descriptors written through their stream since a write would have blocked. */
const streamed = new Set<number>();
/** Whether process.stdout or process.stderr was written to (they may still be writing). */
let streamsUsed = false;

/**
 * Whether the replay that just returned wrote everything synchronously, so the
 * process may exit at once: Node's orderly exit (the heap torn down) costs
 * ~1 ms, a twentieth of a replay's own time.
 */
export function replayedSynchronously(): boolean {
  return replayDone && !streamsUsed; // a descriptor in `streamed` has used its stream
}
let replayDone = false;

/** A line of the run cache's own on stderr (written as the recorded output is; lost if stderr is gone). */
function say(line: string): void {
  writeOut(2, Buffer.from(`flux-local: ${line}\n`)).catch(() => undefined);
}

/** A damaged entry: said, removed, and a miss. */
function damaged(inv: Invocation, why: string): undefined {
  say(`warning: run cache entry ${inv.entryDir} is damaged (${why}): removed, running again`);
  removeEntrySync(inv.entryDir);
  return undefined;
}

/**
 * Replay the recorded run, if there is one and everything it read is as it
 * was: its exit code; undefined for a miss.
 */
export async function replay(inv: Invocation): Promise<number | undefined> {
  const loaded = load(inv);
  if (!loaded) return undefined;
  if ("damaged" in loaded) return damaged(inv, loaded.damaged);
  const { record, output } = loaded;
  const probe = new Probe();
  for (const f of record.paths) {
    let changed: string | undefined;
    try {
      changed = changedAt(f, inv.verifyAll, probe);
    } catch {
      // Valid JSON of another shape: a record damaged where its time did not move.
      return damaged(inv, `${RECORD_FILE} has a path it cannot check`);
    }
    if (changed !== undefined) {
      if (inv.verbose) say(`run cache: ${changed} ${f.p} changed, running again`);
      return undefined;
    }
  }
  const now = new Date();
  try {
    utimesSync(inv.entryDir, now, now); // pruning removes the least recently used first
  } catch {
    // a read-only cache still replays
  }
  if (inv.verbose) say(`run cache: replayed (${record.paths.length} paths unchanged, no render)`);
  let offset = 0;
  for (const e of record.events) {
    if (e.k === "remove") {
      removeOutput(e.p);
      continue;
    }
    const data = output.subarray(offset, offset + e.n);
    offset += e.n;
    if (e.k === "write") {
      writeOutput(e.p, data);
      continue;
    }
    try {
      await writeOut(e.fd, data);
    } catch (err) {
      if (!(err instanceof ReaderGone)) throw err;
      // As a rendering run ends then (src/util/interrupt.ts): quietly, as SIGPIPE would.
      replayDone = true;
      return 141;
    }
  }
  replayDone = true;
  return record.exitCode;
}
