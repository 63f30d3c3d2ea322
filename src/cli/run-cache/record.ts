/**
 * Recording a run for the run cache. While the command runs, every file
 * system call that reads (files, folder listings, stat, realpath, readlink,
 * access) is noted by path, what stdout and stderr receive is kept, and the
 * output files the command writes or removes are noted (src/cli/format/output.ts
 * reports them). Anything a replay could not reproduce makes the run not
 * replayable: a network connection, a process other than the render tools
 * (kustomize, the kustomize worker, `helm template`, flux-operator), a moving
 * remote reference (src/artifacts/cache/policy.ts), a GitHub step summary,
 * or a file the run read changing while it ran.
 *
 * Left out of the observations: the cache folder (its entries are checked
 * against their own digests), the temporary folders the run made, the
 * program's own files (part of the key) and the output files.
 *
 * At the end the observations are made final (each file's hash and times,
 * taken from disk: a file whose change time is not before the run started is
 * a reason not to keep the run), and the entry is written atomically.
 */
import childProcess from "node:child_process";
import { randomBytes } from "node:crypto";
import fs, { type BigIntStats, type Dirent } from "node:fs";
import { syncBuiltinESMExports } from "node:module";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { setRunRecorder, type RunRecorderHooks } from "../../util/run-record.js";
import {
  CONTENT,
  META,
  OUTPUT_FILE,
  RECORD_FILE,
  packageDir,
  programDir,
  type Invocation,
  type Observation,
  type ReplayEvent,
  type RunRecord,
} from "./invocation.js";
import {
  describeEntries,
  holds,
  describeStat,
  packObservations,
  errorCode,
  fileHashNow,
  Probe,
  quickStat,
  sha256,
} from "./observe.js";
import { removeEntrySync } from "../../util/cache-entry.js";
import { digestOf, type EntryMeta } from "./replay.js";

/** Kernel file times lag the wall clock by up to a tick: a margin, on the safe side. */
const CLOCK_MARGIN_NS = 50_000_000n;
/** The processes a run may start and still be replayed: they read only what we observe. */
const RENDER_TOOLS = new Set([
  "kustomize",
  "kubectl",
  "flux-local-kustomize-worker",
  "flux-local-helm-worker",
  "flux-operator",
]);

type PathLike = string | Buffer | URL;

/** Keep a wrapped function's own properties (`realpath.native`, promisify's custom form). */
function keepProperties<T extends object>(wrapper: T, original: object): T {
  for (const key of Reflect.ownKeys(original)) {
    if (key === "length" || key === "name" || key === "prototype") continue;
    const descriptor = Object.getOwnPropertyDescriptor(original, key);
    if (descriptor) Object.defineProperty(wrapper, key, descriptor);
  }
  return wrapper;
}

function toPath(p: unknown): string | undefined {
  if (typeof p === "string") return path.resolve(p);
  if (Buffer.isBuffer(p)) return path.resolve(p.toString("utf8"));
  if (p instanceof URL) return p.protocol === "file:" ? fileURLToPath(p) : undefined;
  return undefined;
}

/** What an observation found (its kind, path and variant are its identity). */
function valueOf(o: Observation): string {
  switch (o.k) {
    case "file":
    case "dir":
      return o.h;
    case "stat":
      return o.d;
    case "realpath":
    case "readlink":
      return o.r;
    case "access":
      return String(o.ok);
  }
}

export class RunRecorder implements RunRecorderHooks {
  private readonly started = process.hrtime.bigint();
  private readonly startedWallNs = BigInt(Date.now()) * 1_000_000n - CLOCK_MARGIN_NS;
  private readonly observed = new Map<string, Observation>();
  /** Paths read in ways whose result we did not see (streams, handles, callbacks): made at the end. */
  private readonly laterFiles = new Set<string>();
  /**
   * The SHA-256 of the bytes a whole-file read returned, taken as it returned
   * them: the end then checks only that the file did not change since the run
   * began, instead of reading and hashing it again.
   */
  private readonly readHashes = new Map<string, string>();
  private readonly laterDirs = new Set<string>();
  private readonly excluded: string[];
  private readonly outputs = new Set<string>();
  private readonly events: ReplayEvent[] = [];
  private readonly chunks: Buffer[] = [];
  private reasons: string[] = [];
  private readonly restore: Array<() => void> = [];
  private originalStderrWrite: typeof process.stderr.write;
  /**
   * Wrappers stay reachable after the end (Node's own modules may have taken
   * a reference to them while loading): they only note while this is true.
   */
  private active = false;

  constructor(private readonly inv: Invocation) {
    this.excluded = [
      inv.cacheRoot,
      // The program's own files are part of the key, not observations.
      programDir,
      path.join(packageDir, "node_modules"),
    ];
    try {
      this.excluded.push(fs.realpathSync(inv.cacheRoot));
    } catch {
      // not there yet
    }
    this.originalStderrWrite = process.stderr.write.bind(process.stderr);
  }

  notReplayable(reason: string): void {
    if (!this.reasons.includes(reason)) this.reasons.push(reason);
  }

  /** Pinned fetches in flight: the network they use does not stop the run being kept. */
  private pinnedFetches = 0;

  async pinnedFetch<T>(what: string, fetch: () => Promise<T>): Promise<T> {
    this.pinnedFetches++;
    try {
      return await fetch();
    } catch (err) {
      // A failure (the network's, the server's) must not be replayed.
      this.notReplayable(`fetching ${what} failed`);
      throw err;
    } finally {
      this.pinnedFetches--;
    }
  }

  wroteOutput(file: string, content: string | undefined): void {
    const full = path.resolve(file);
    this.outputs.add(full);
    if (content === undefined) {
      this.events.push({ k: "remove", p: full });
      return;
    }
    const data = Buffer.from(content, "utf8");
    this.chunks.push(data);
    this.events.push({ k: "write", p: full, n: data.length });
  }

  unrecordedStderr(): { write(chunk: string): unknown; isTTY?: boolean; columns?: number } {
    const write = this.originalStderrWrite;
    return {
      write: (chunk: string) => write(chunk),
      get isTTY() {
        return process.stderr.isTTY;
      },
      get columns() {
        return process.stderr.columns;
      },
    };
  }

  private isExcluded(p: string): boolean {
    return this.excluded.some((dir) => p === dir || p.startsWith(dir + path.sep));
  }

  /** Called by every wrapper: note an observation, never fail the call itself. */
  private seen(fn: () => void): void {
    if (!this.active) return;
    try {
      fn();
    } catch (err) {
      this.notReplayable(`could not note a file system call (${String(err)})`);
    }
  }

  private note(o: Observation, variant = ""): void {
    if (this.isExcluded(o.p)) return;
    const id = `${o.k}\0${variant}\0${o.p}`;
    const before = this.observed.get(id);
    if (!before) {
      this.observed.set(id, o);
      return;
    }
    if (valueOf(before) !== valueOf(o)) this.notReplayable(`${o.p} changed while the run read it`);
  }

  private noteStat(p: string | undefined, follow: boolean, result: unknown, failed: boolean): void {
    if (!p) return;
    const d = failed ? errorCode(result) : describeStat(result as fs.Stats);
    this.note({ k: "stat", p, follow, d }, follow ? "follow" : "nofollow");
  }

  private noteEntries(
    p: string | undefined,
    options: unknown,
    result: unknown,
    failed: boolean,
  ): void {
    if (!p || this.isExcluded(p)) return;
    const opts = (
      typeof options === "string"
        ? { encoding: options }
        : typeof options === "object" && options !== null
          ? options
          : {}
    ) as {
      withFileTypes?: boolean;
      recursive?: boolean;
      encoding?: string;
    };
    if (
      opts.recursive ||
      (opts.encoding && opts.encoding !== "utf8" && opts.encoding !== "utf-8")
    ) {
      this.notReplayable(`read the folder ${p} in a way the run cache does not check`);
      return;
    }
    const types = opts.withFileTypes === true;
    const h = failed ? errorCode(result) : describeEntries(result as Array<string | Dirent>);
    this.note({ k: "dir", p, h, types }, types ? "types" : "names");
  }

  private noteText(
    k: "realpath" | "readlink",
    p: string | undefined,
    result: unknown,
    failed: boolean,
  ): void {
    if (!p) return;
    const r = failed ? errorCode(result) : String(result);
    this.note({ k, p, r });
  }

  private noteAccess(p: string | undefined, mode: unknown, ok: boolean): void {
    if (!p) return;
    const m = typeof mode === "number" ? mode : fs.constants.F_OK;
    this.note({ k: "access", p, mode: m, ok }, String(m));
  }

  private noteFileLater(p: string | undefined): void {
    if (p && !this.isExcluded(p)) this.laterFiles.add(p);
  }

  /** A whole-file read: its bytes are hashed now when the call returned them (not decoded). */
  private noteFileRead(p: string | undefined, result: unknown, failed: boolean): void {
    if (!p || this.isExcluded(p)) return;
    this.laterFiles.add(p);
    if (failed || !(result instanceof Uint8Array)) return;
    const h = sha256(result);
    const before = this.readHashes.get(p);
    if (before === undefined) this.readHashes.set(p, h);
    else if (before !== h) this.notReplayable(`${p} changed while the run read it`);
  }

  /** Wrap `obj[name]`, a promise-returning function; `seen` gets the path argument and the outcome. */
  private wrapAsync(
    obj: Record<string, unknown>,
    name: string,
    seen: (args: unknown[], result: unknown, failed: boolean) => void,
  ): void {
    const original = obj[name] as (...args: unknown[]) => Promise<unknown>;
    if (typeof original !== "function") return;
    const note = (fn: () => void) => this.seen(fn);
    obj[name] = keepProperties(async function (this: unknown, ...args: unknown[]) {
      try {
        const result = await original.apply(this, args);
        note(() => seen(args, result, false));
        return result;
      } catch (err) {
        note(() => seen(args, err, true));
        throw err;
      }
    }, original);
    this.restore.push(() => {
      obj[name] = original;
    });
  }

  private wrapSync(
    obj: Record<string, unknown>,
    name: string,
    seen: (args: unknown[], result: unknown, failed: boolean) => void,
  ): void {
    const original = obj[name] as (...args: unknown[]) => unknown;
    if (typeof original !== "function") return;
    const note = (fn: () => void) => this.seen(fn);
    obj[name] = keepProperties(function (this: unknown, ...args: unknown[]) {
      let result: unknown;
      try {
        result = original.apply(this, args);
      } catch (err) {
        note(() => seen(args, err, true));
        throw err;
      }
      note(() => seen(args, result, false));
      return result;
    }, original);
    this.restore.push(() => {
      obj[name] = original;
    });
  }

  /** Wrap a function whose outcome we do not look at: only that it was called, with `before`. */
  private wrapCall(
    obj: Record<string, unknown>,
    name: string,
    before: (args: unknown[]) => void,
  ): void {
    const original = obj[name] as (...args: unknown[]) => unknown;
    if (typeof original !== "function") return;
    const note = (fn: () => void) => this.seen(fn);
    obj[name] = keepProperties(function (this: unknown, ...args: unknown[]) {
      note(() => before(args));
      return original.apply(this, args);
    }, original);
    this.restore.push(() => {
      obj[name] = original;
    });
  }

  private patchFileSystem(): void {
    const fsp = fs.promises as unknown as Record<string, unknown>;
    const fsc = fs as unknown as Record<string, unknown>;
    const p0 = (args: unknown[]) => toPath(args[0]);
    for (const [obj, wrap] of [
      [fsp, this.wrapAsync.bind(this)],
      [fsc, this.wrapSync.bind(this)],
    ] as const) {
      const sync = obj === fsc ? "Sync" : "";
      wrap(obj, `stat${sync}`, (a, r, f) => {
        if (
          (a[1] as { throwIfNoEntry?: boolean } | undefined)?.throwIfNoEntry === false &&
          r === undefined
        )
          this.noteStat(p0(a), true, { code: "ENOENT" }, true);
        else this.noteStat(p0(a), true, r, f);
      });
      wrap(obj, `lstat${sync}`, (a, r, f) => {
        if (
          (a[1] as { throwIfNoEntry?: boolean } | undefined)?.throwIfNoEntry === false &&
          r === undefined
        )
          this.noteStat(p0(a), false, { code: "ENOENT" }, true);
        else this.noteStat(p0(a), false, r, f);
      });
      wrap(obj, `readdir${sync}`, (a, r, f) => this.noteEntries(p0(a), a[1], r, f));
      wrap(obj, `realpath${sync}`, (a, r, f) => this.noteText("realpath", p0(a), r, f));
      wrap(obj, `readlink${sync}`, (a, r, f) => this.noteText("readlink", p0(a), r, f));
      wrap(obj, `access${sync}`, (a, _r, f) => this.noteAccess(p0(a), a[1], !f));
      wrap(obj, `readFile${sync}`, (a, r, f) => this.noteFileRead(p0(a), r, f));
      wrap(obj, `open${sync}`, (a) => this.noteFileLater(p0(a)));
      wrap(obj, `opendir${sync}`, (a) => {
        const p = p0(a);
        if (p && !this.isExcluded(p)) this.laterDirs.add(p);
      });
      wrap(obj, `mkdtemp${sync}`, (_a, r, f) => {
        // Nested temporary folders (a build's, in the run's scratch folder) are already left out.
        if (!f && typeof r === "string" && !this.isExcluded(path.resolve(r)))
          this.excluded.push(path.resolve(r));
      });
    }
    // realpathSync.native was carried over to the wrapper: wrap it there too.
    const holder = fsc.realpathSync as Record<string, unknown>;
    this.wrapSync(holder, "native", (a, r, f) => this.noteText("realpath", p0(a), r, f));
    this.wrapSync(fsc, "existsSync", (a, r) =>
      this.noteAccess(p0(a), fs.constants.F_OK, r === true),
    );
    this.wrapCall(fsc, "createReadStream", (a) => this.noteFileLater(p0(a)));
    // Callback forms (used by some libraries): noted by path, made final at the end.
    for (const name of ["readFile", "open"])
      this.wrapCall(fsc, name, (a) => this.noteFileLater(p0(a)));
    for (const name of ["readdir", "opendir"])
      this.wrapCall(fsc, name, (a) => {
        const p = p0(a);
        if (p && !this.isExcluded(p)) this.laterDirs.add(p);
      });
    for (const name of ["stat", "lstat", "realpath", "readlink", "access", "exists"])
      this.wrapCall(fsc, name, (a) => {
        const p = p0(a);
        if (p && !this.isExcluded(p)) this.notReplayable(`fs.${name} with a callback (${p})`);
      });
  }

  private patchProcesses(): void {
    const cp = childProcess as unknown as Record<string, unknown>;
    this.wrapCall(cp, "spawn", (a) => {
      const args = Array.isArray(a[1]) ? (a[1] as string[]) : [];
      let file = String(a[0]);
      let rest = args;
      if (path.basename(file) === "prlimit") {
        const end = args.indexOf("--");
        file = args[end + 1] ?? file;
        rest = args.slice(end + 2);
      }
      const name = path.basename(file);
      const tool =
        RENDER_TOOLS.has(name) ||
        file === process.env.FLUX_LOCAL_KUSTOMIZE ||
        file === process.env.FLUX_LOCAL_KUSTOMIZE_WORKER ||
        file === process.env.FLUX_LOCAL_HELM_WORKER ||
        ((name === "helm" || file === process.env.FLUX_LOCAL_HELM) && rest.includes("template"));
      if (!tool) this.notReplayable(`ran ${name}`);
    });
    for (const name of ["exec", "execFile", "fork", "spawnSync", "execSync", "execFileSync"])
      this.wrapCall(cp, name, (a) => this.notReplayable(`ran ${path.basename(String(a[0]))}`));
    const proto = net.Socket.prototype as unknown as Record<string, unknown>;
    // The network, but for a pinned fetch (see pinnedFetch): a replay could not say
    // whether what it would fetch now is what it fetched then.
    this.wrapCall(proto, "connect", () => {
      if (this.pinnedFetches === 0) this.notReplayable("used the network");
    });
  }

  private patchOutput(): void {
    for (const [stream, fd] of [
      [process.stdout, 1],
      [process.stderr, 2],
    ] as const) {
      // eslint-disable-next-line @typescript-eslint/unbound-method -- called with its stream below
      const original = stream.write as (...a: unknown[]) => boolean;
      const chunks = this.chunks;
      const events = this.events;
      const active = () => this.active;
      const wrapper = function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]) {
        if (!active()) return original.call(this, chunk, ...rest);
        const data =
          typeof chunk === "string"
            ? Buffer.from(chunk, typeof rest[0] === "string" ? (rest[0] as BufferEncoding) : "utf8")
            : Buffer.from(chunk as Uint8Array);
        chunks.push(data);
        events.push({ k: "out", fd, n: data.length });
        return original.call(this, chunk, ...rest);
      };
      Object.assign(stream, { write: wrapper });
      this.restore.push(() => {
        Object.assign(stream, { write: original });
      });
    }
  }

  start(): void {
    this.active = true;
    this.patchFileSystem();
    this.patchProcesses();
    this.patchOutput();
    syncBuiltinESMExports();
    setRunRecorder(this);
  }

  private stop(): void {
    this.active = false;
    setRunRecorder(undefined);
    for (const undo of this.restore.reverse()) undo();
    this.restore.length = 0;
    syncBuiltinESMExports();
  }

  /** The final observations, or undefined (with a reason) when the run cannot be replayed. */
  private finalObservations(): Observation[] | undefined {
    const observations: Observation[] = [];
    const notOutput = (p: string) => !this.outputs.has(p) && !this.isExcluded(p);
    const probe = new Probe();
    for (const o of this.observed.values()) {
      if (!notOutput(o.p)) continue;
      // What the run saw must still be so at its end (else it changed while the run read it).
      if (!holds(o, true, probe)) {
        this.notReplayable(`${o.p} changed while the run read it`);
        return undefined;
      }
      observations.push(o);
    }
    for (const p of this.laterFiles) {
      if (!notOutput(p)) continue;
      const file = this.finalFile(p, probe);
      if (!file) return undefined;
      observations.push(file);
    }
    for (const p of this.laterDirs) {
      if (!notOutput(p)) continue;
      let h: string;
      try {
        h = describeEntries(fs.readdirSync(p, { withFileTypes: true }));
      } catch (err) {
        h = errorCode(err);
      }
      observations.push({ k: "dir", p, h, types: true });
    }
    return observations;
  }

  /**
   * A file the run read, as it is at the end: unchanged since the run began
   * (its change time, and its link's, before the start), or undefined (and a
   * reason not to keep the run). Its hash is the one taken when the run read
   * it, or else taken now. `probe` is the end's view of the file system,
   * shared with the other observations' final check (one lstat a path).
   */
  private finalFile(p: string, probe: Probe): Observation | undefined {
    // Missing (or a broken link): undefined, the error is what the run saw.
    let st: BigIntStats | undefined;
    const l = probe.lstat(p);
    if (typeof l !== "string") {
      if (l.isSymbolicLink()) {
        if (l.ctimeNs >= this.startedWallNs) return this.changed(p);
        const target = probe.stat(p);
        st = typeof target === "string" ? undefined : target;
      } else st = l;
    }
    if (st && st.ctimeNs >= this.startedWallNs) return this.changed(p);
    const known = this.readHashes.get(p);
    const h = known !== undefined && st?.isFile() ? known : fileHashNow(p);
    if (h === "!ENOTFILE") {
      // A pipe, a device, /dev/stdin: what it gave cannot be checked again.
      this.notReplayable(`read ${p}, which is not a regular file`);
      return undefined;
    }
    if (known !== undefined && h !== known) return this.changed(p);
    const q = st && !h.startsWith("!") ? quickStat(st) : undefined;
    return { k: "file", p, h, ...(q ? { q } : {}) };
  }

  private changed(p: string): undefined {
    this.notReplayable(`${p} changed while the run read it`);
    return undefined;
  }

  /**
   * Stop recording; keep the run when it can be replayed. Returns why it was
   * not kept (for --verbose), or undefined when it was.
   */
  finish(exitCode: number): Promise<string | undefined> {
    this.stop();
    const observations = this.reasons.length === 0 ? this.finalObservations() : undefined;
    const paths = observations && packObservations(observations);
    if (observations && !paths) this.notReplayable("a path was seen one way twice, differently");
    if (!paths) return Promise.resolve(this.reasons.join("; "));
    const record: RunRecord = { key: this.inv.key, exitCode, paths, events: this.events };
    this.write(record, Buffer.concat(this.chunks));
    return Promise.resolve(undefined);
  }

  /** Synchronous: the run is over, nothing else waits on the thread pool. */
  private write(record: RunRecord, output: Buffer): void {
    const dir = this.inv.entryDir;
    const tmp = `${dir}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
    const recordText = Buffer.from(JSON.stringify(record), "utf8");
    try {
      fs.mkdirSync(path.join(tmp, CONTENT), { recursive: true });
      // Each file's size and modification time as written: a replay hashes
      // only a file whose time moved (src/cli/run-cache/replay.ts).
      const keep = (name: string, data: Buffer): [number, number, string] => {
        const file = path.join(tmp, CONTENT, name);
        fs.writeFileSync(file, data);
        return [data.length, fs.statSync(file).mtimeMs, sha256(data)];
      };
      const files: EntryMeta["files"] = {
        [RECORD_FILE]: keep(RECORD_FILE, recordText),
        [OUTPUT_FILE]: keep(OUTPUT_FILE, output),
      };
      const meta: EntryMeta = {
        key: this.inv.key,
        created: new Date().toISOString(),
        digest: digestOf(files),
        files,
      };
      fs.writeFileSync(path.join(tmp, META), JSON.stringify(meta));
      try {
        fs.renameSync(tmp, dir);
      } catch {
        // An older entry for the same invocation (its inputs changed): replaced.
        removeEntrySync(dir);
        fs.renameSync(tmp, dir);
      }
    } catch {
      // The run cache is an optimisation: a cache folder we cannot write keeps nothing.
    } finally {
      try {
        fs.rmSync(tmp, { recursive: true, force: true });
      } catch {
        // swept by a later run
      }
    }
  }

  /** Time spent recording (tests and --verbose). */
  elapsedMs(): number {
    return Number(process.hrtime.bigint() - this.started) / 1e6;
  }
}

export function startRecording(inv: Invocation): RunRecorder {
  const recorder = new RunRecorder(inv);
  recorder.start();
  return recorder;
}

export type { PathLike };
