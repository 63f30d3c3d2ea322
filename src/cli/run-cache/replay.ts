/**
 * Replaying a recorded run: the entry is read and checked against its
 * SHA-256s, every observation of the recorded run is made again, and only
 * when all come out the same are the recorded stdout, stderr and output files
 * written again and the exit code returned. Anything else is a miss: the run
 * happens as usual (and records itself again).
 *
 * Node built-ins only, so a replayed run loads nothing else.
 */
import { randomBytes } from "node:crypto";
import { readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import path from "node:path";
import {
  CONTENT,
  META,
  OUTPUT_FILE,
  RECORD_FILE,
  type Invocation,
  type RunRecord,
} from "./invocation.js";
import { holds, sha256 } from "./observe.js";
import { removeEntrySync } from "../../util/cache-entry.js";

/** [size, mtimeMs, sha256] per file, as the directory cache records entries. */
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
  if (meta.key !== inv.key) return undefined; // another invocation with the same hash
  if (digestOf(meta.files) !== meta.digest)
    return { damaged: "its record does not match its digest" };
  const read = (name: string): Buffer | string => {
    const want = meta.files[name];
    if (!want) return `${name} is not recorded`;
    let data: Buffer;
    try {
      data = readFileSync(path.join(inv.entryDir, CONTENT, name));
    } catch {
      return `${name} is missing`;
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
    `.${path.basename(file)}.${randomBytes(6).toString("hex")}.tmp`,
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

function say(line: string): void {
  process.stderr.write(`flux-local: ${line}\n`);
}

/**
 * Replay the recorded run, if there is one and everything it read is as it
 * was: its exit code; undefined for a miss.
 */
export async function replay(inv: Invocation): Promise<number | undefined> {
  const loaded = load(inv);
  if (!loaded) return undefined;
  if ("damaged" in loaded) {
    say(
      `warning: run cache entry ${inv.entryDir} is damaged (${loaded.damaged}): removed, running again`,
    );
    removeEntrySync(inv.entryDir);
    return undefined;
  }
  const { record, output } = loaded;
  for (const o of record.observations) {
    if (!holds(o, inv.verifyAll)) {
      if (inv.verbose) say(`run cache: ${o.k} ${o.p} changed, running again`);
      return undefined;
    }
  }
  const now = new Date();
  try {
    utimesSync(inv.entryDir, now, now); // pruning removes the least recently used first
  } catch {
    // a read-only cache still replays
  }
  if (inv.verbose)
    say(`run cache: replayed (${record.observations.length} inputs unchanged, no render)`);
  let offset = 0;
  const pending: Array<Promise<void>> = [];
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
    const stream = e.fd === 1 ? process.stdout : process.stderr;
    pending.push(
      new Promise((resolve, reject) =>
        stream.write(data, (err) => (err ? reject(err) : resolve())),
      ),
    );
  }
  await Promise.all(pending);
  return record.exitCode;
}
