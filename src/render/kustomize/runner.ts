/**
 * Who runs `kustomize build`: a pool of long-lived kustomize workers (the Go
 * program in worker/, built by `npm run setup`), or one kustomize process per
 * build when the worker is absent or switched off (FLUX_LOCAL_KUSTOMIZE_WORKER=0).
 * Both run the same kustomize release on the same directory and give the same
 * bytes; the worker pays kustomize's start-up (its OpenAPI schema above all)
 * once per run instead of once per build.
 *
 * One runner per run: workers start lazily, one per concurrent build at most,
 * and stop with close() at the end of the run (or when it is aborted).
 */
import { createInterface } from "node:readline";
import os from "node:os";
import path from "node:path";
import { execa, type ResultPromise } from "execa";
import {
  bounded,
  defaultTimeoutMs,
  notifyCommand,
  run,
  stoppedByBound,
  withoutGoDump,
} from "../../exec/run.js";
import { findTool, isExecutable } from "../../exec/tools.js";
import { FluxLocalError, SubprocessError } from "../../util/errors.js";
import { RAISE } from "../../util/limits.js";
import { logger } from "../../util/log.js";
import { toolIdentity } from "./cache.js";
import type { KubeObject } from "../../flux/objects.js";
import { packageRoot } from "../../util/package-info.js";

export interface KustomizeBuildOptions {
  /** `--load-restrictor LoadRestrictionsNone` (Flux's) when true, kustomize's default otherwise. */
  loadRestrictionsNone: boolean;
  signal?: AbortSignal;
  timeoutMs?: number;
}

/** kustomize refused the build; `message` is kustomize's own error text. */
export class KustomizeFailure extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "KustomizeFailure";
  }
}

/**
 * What a build printed: the YAML stream, or (from the worker) the objects of
 * its documents exactly as parseYamlDocuments reads that stream, already as
 * data (JSON from the worker, read far faster than YAML).
 */
export type KustomizeOutput =
  | { yaml: string }
  | {
      objects: KubeObject[];
      /** The objects' JSON text as received (for the render cache, without writing it again). */
      json?: string;
    };

/**
 * A Flux build of a folder: its kustomization file replaced by the one
 * flux-local generated (the Flux spec applied), everything else as the build
 * mirror (mirror.ts) would show it.
 */
export interface KustomizeOverlay {
  /** The source root (a real path); the folder built is inside it. */
  root: string;
  /** The kustomization file's text, in place of the folder's own. */
  kustomization: string;
  /** The entries of the folder's ancestors the build may see (real paths), or all of them. */
  reach: ReadonlySet<string> | "all";
}

export interface KustomizeRunner {
  readonly mode: "worker" | "process";
  /** `kustomize build DIR`: the YAML stream it prints, or a KustomizeFailure. */
  build(dir: string, options: KustomizeBuildOptions): Promise<string>;
  /** `kustomize build DIR`: its output as objects when the runner has them so, else the YAML. */
  buildOutput(dir: string, options: KustomizeBuildOptions): Promise<KustomizeOutput>;
  /**
   * buildOutput of DIR (a real path) with `overlay` in place, written nowhere
   * (the worker serves the kustomization from memory); undefined when this
   * runner cannot (a kustomize process reads only the disk): the caller then
   * builds a mirror of DIR holding the kustomization.
   */
  buildOverlay(
    dir: string,
    overlay: KustomizeOverlay,
    options: KustomizeBuildOptions,
  ): Promise<KustomizeOutput | undefined>;
  /** Stop every worker (idempotent). */
  close(): Promise<void>;
  /** What builds, for render cache keys (a binary's path, size and time; no process). */
  identity(): Promise<string>;
}

export const WORKER_NAME = "flux-local-kustomize-worker";

/** kustomize's stderr without warnings and the "Error: " prefix. */
export function kustomizeErrorText(stderr: string): string {
  return stderr
    .split("\n")
    .filter((line) => !line.startsWith("# Warning:") && line.trim() !== "")
    .join("\n")
    .replace(/^Error: /, "");
}

/** One `kustomize build` process per build. */
export class ProcessRunner implements KustomizeRunner {
  readonly mode = "process";

  async build(dir: string, options: KustomizeBuildOptions): Promise<string> {
    const tool = await findTool("kustomize");
    const args = [...tool.prefix, "build", dir];
    if (options.loadRestrictionsNone) args.push("--load-restrictor", "LoadRestrictionsNone");
    try {
      const { stdout } = await run(tool.file, args, {
        cwd: path.dirname(dir),
        signal: options.signal,
        timeoutMs: options.timeoutMs,
      });
      return stdout;
    } catch (err) {
      if (err instanceof SubprocessError) {
        throw new KustomizeFailure(kustomizeErrorText(err.stderr) || err.message, { cause: err });
      }
      throw err;
    }
  }

  async buildOutput(dir: string, options: KustomizeBuildOptions): Promise<KustomizeOutput> {
    return { yaml: await this.build(dir, options) };
  }

  buildOverlay(): Promise<undefined> {
    return Promise.resolve(undefined);
  }

  async close(): Promise<void> {}

  private known: Promise<string> | undefined;

  identity(): Promise<string> {
    // Asked once per build; the binary does not change while a run lasts.
    return (this.known ??= findTool("kustomize")
      .then(async (tool) => [await toolIdentity(tool.file), ...tool.prefix].join(" "))
      .catch((err: unknown) => {
        this.known = undefined;
        throw err;
      }));
  }
}

/**
 * The worker binary to use, or undefined for one process per build:
 * FLUX_LOCAL_KUSTOMIZE_WORKER=0 switches it off, =PATH names it; otherwise
 * .tools/bin's, unless FLUX_LOCAL_KUSTOMIZE picks another kustomize (the
 * worker is built from one release only).
 */
export async function findWorker(): Promise<string | undefined> {
  const setting = process.env.FLUX_LOCAL_KUSTOMIZE_WORKER;
  if (setting === "0" || setting === "false" || setting === "off") return undefined;
  if (setting && setting !== "1") {
    if (await isExecutable(setting)) return setting;
    throw new FluxLocalError(
      `FLUX_LOCAL_KUSTOMIZE_WORKER=${setting} is not an executable file (0 switches the worker off)`,
    );
  }
  if (process.env.FLUX_LOCAL_KUSTOMIZE) return undefined;
  const local = path.join(packageRoot, ".tools", "bin", WORKER_NAME);
  return (await isExecutable(local)) ? local : undefined;
}

/** How many builds run at once when the caller does not say: the CPU count, two at least. */
export function defaultConcurrency(): number {
  return Math.max(2, os.availableParallelism());
}

/**
 * How many workers serve `concurrency` builds at once: as many, but no more
 * than the cores less one. Node's main thread prepares every build and takes
 * in every result (the render inputs, post-build substitution, the store, the
 * output): that core is its own. A worker more than the cores left would
 * only take turns with it: measured on a cold home-ops-shaped run on 2
 * cores, one worker instead of two used 0.17 s less CPU (one schema parse
 * less, fewer context switches) and no more wall time. Builds beyond the
 * workers still overlap their Node-side work with the workers' builds.
 */
export function workerCount(concurrency: number): number {
  return Math.max(1, Math.min(concurrency, os.availableParallelism() - 1));
}

/** Workers started by startWorkersEarly and not yet taken by a run. */
let early: { pool: WorkerPool; concurrency: number } | undefined;

/**
 * Start the workers of a run that is about to begin, before the rest of the
 * program loads (src/cli/entry.ts): their start-up (process, Go runtime,
 * OpenAPI schema) then overlaps the loading of the program and the run's
 * discovery, on another core. The run's createKustomizeRunner takes them;
 * whoever started them calls stopEarlyWorkers when the command is over, for
 * a run that never took them (a usage error, nothing to build).
 */
export async function startWorkersEarly(concurrency: number): Promise<void> {
  const worker = await findWorker().catch(() => undefined);
  if (!worker || early) return;
  const pool = new WorkerPool(worker, workerCount(concurrency));
  early = { pool, concurrency };
  // Until their processes are started: the program that loads next keeps the
  // thread busy, and the workers' start-up is what the first build waits for.
  await pool.prestart();
}

/** Stop the early workers no run took (see startWorkersEarly). */
export async function stopEarlyWorkers(): Promise<void> {
  const started = early;
  early = undefined;
  await started?.pool.close();
}

/** The runner for one run: the worker pool when the worker is there. */
export async function createKustomizeRunner(concurrency: number): Promise<KustomizeRunner> {
  const worker = await findWorker();
  const started = early;
  early = undefined;
  if (started && started.pool.file === worker && started.concurrency === concurrency)
    return started.pool;
  void started?.pool.close();
  if (!worker) return new ProcessRunner();
  const pool = new WorkerPool(worker, workerCount(concurrency));
  void pool.prestart();
  return pool;
}

/** The worker protocol that takes a kustomization in the request (worker/main.go). */
const OVERLAY_PROTOCOL = 2;

/** The protocol a worker's greeting names; 1 (plain builds) when it names none. */
function helloProtocol(line: string): number {
  try {
    const protocol = (JSON.parse(line) as { protocol?: unknown } | null)?.protocol;
    return typeof protocol === "number" && Number.isInteger(protocol) ? protocol : 1;
  } catch {
    return 1;
  }
}

interface Pending {
  dir: string;
  resolve: (output: KustomizeOutput) => void;
  reject: (err: Error) => void;
}

const STDERR_TAIL = 4000;
const OBJECTS_FIELD = ',"objects":';

/** One worker process, serving one build at a time. */
class Worker {
  private child!: ResultPromise;
  private readonly ready: Promise<void>;
  private pending: Pending | undefined;
  private nextId = 1;
  private stderrTail = "";
  /** The start of stderr: where a Go runtime writes why it died, before the dump. */
  private stderrHead = "";
  private readonly started = performance.now();
  alive = true;
  /** The protocol its greeting names (1 when it names none). */
  protocol = 1;
  /** Said it is ready (its start-up, the OpenAPI schema included, is done). */
  private greeted = false;
  private exitReason: string | undefined;

  /** Settles once the process is started (or could not be): not when it is ready. */
  readonly spawned: Promise<void>;

  constructor(private readonly file: string) {
    // Started under the memory bound (prlimit); the answer to start() waits for it.
    const launched = bounded(file, []).then(([command, args]) => {
      // Stopped (the run ended) before it was even started: start nothing.
      if (!this.alive)
        throw new FluxLocalError(`${WORKER_NAME} ${this.exitReason ?? "was stopped"}`);
      return { hello: this.spawn(command, args) };
    });
    this.spawned = launched.then(
      () => undefined,
      () => undefined,
    );
    this.ready = launched.then(({ hello }) => hello);
    this.ready.catch(() => {});
  }

  private spawn(command: string, commandArgs: string[]): Promise<void> {
    const file = this.file;
    this.child = execa(command, commandArgs, {
      stdin: "pipe",
      stdout: "pipe",
      stderr: "pipe",
      buffer: false,
      reject: false,
      cleanup: true,
      windowsHide: true,
    });
    this.child.stderr?.setEncoding("utf8");
    this.child.stderr?.on("data", (chunk: string) => {
      if (this.stderrHead.length < STDERR_TAIL) this.stderrHead += chunk.slice(0, STDERR_TAIL);
      this.stderrTail = (this.stderrTail + chunk).slice(-STDERR_TAIL);
    });
    // Writes after the worker died fail with EPIPE; the exit handler reports it.
    this.child.stdin?.on("error", () => {});
    const lines = createInterface({ input: this.child.stdout!, crlfDelay: Infinity });
    let onHello: ((err?: Error) => void) | undefined;
    const ready = new Promise<void>((resolve, reject) => {
      onHello = (err) => (err ? reject(err) : resolve());
    });
    lines.on("line", (line) => {
      if (!this.greeted) {
        this.greeted = true;
        this.protocol = helloProtocol(line);
        onHello?.(
          /"ready":true/.test(line)
            ? undefined
            : new FluxLocalError(
                `${WORKER_NAME} did not start: unexpected output ${line.slice(0, 200)}`,
              ),
        );
        return;
      }
      this.answer(line);
    });
    void this.child.then((result) => {
      this.alive = false;
      const durationMs = Math.round(performance.now() - this.started);
      notifyCommand({ argv: [file], durationMs, exitCode: result.exitCode });
      const how =
        this.exitReason ??
        (result.signal
          ? `was killed by ${result.signal}`
          : result.exitCode === undefined
            ? `could not start (${result.shortMessage})`
            : `exited with code ${result.exitCode}`);
      // A Go crash dump says why first, then pages of stacks: keep the why.
      const crashed = /^goroutine \d+ /m.test(this.stderrHead + this.stderrTail);
      let stderr = kustomizeErrorText(
        crashed ? withoutGoDump(this.stderrHead) : this.stderrTail,
      ).trim();
      const bound = this.exitReason
        ? undefined
        : stoppedByBound("", this.stderrHead + this.stderrTail, result.signal);
      if (bound) stderr = stderr ? `${stderr} — ${bound}` : bound;
      const reason = `the kustomize worker (${file}) ${how}${stderr ? `: ${stderr}` : ""}`;
      onHello?.(new FluxLocalError(reason));
      const pending = this.pending;
      this.pending = undefined;
      pending?.reject(new KustomizeFailure(`${reason} (building ${pending.dir})`));
    });
    return ready;
  }

  start(): Promise<void> {
    return this.ready;
  }

  private answer(line: string): void {
    const pending = this.pending;
    if (!pending) return;
    this.pending = undefined;
    let message: { yaml?: unknown; objects?: unknown; error?: unknown };
    try {
      message = JSON.parse(line) as typeof message;
    } catch {
      pending.reject(
        new KustomizeFailure(`the kustomize worker answered garbage: ${line.slice(0, 200)}`),
      );
      this.stop("answered garbage");
      return;
    }
    if (typeof message.error === "string") pending.reject(new KustomizeFailure(message.error));
    else if (Array.isArray(message.objects)) {
      // The worker writes {"id":N,"objects":[...]}: the array's text is the line's tail.
      const at = line.indexOf(OBJECTS_FIELD);
      pending.resolve({
        objects: message.objects as KubeObject[],
        ...(at > 0 ? { json: line.slice(at + OBJECTS_FIELD.length, -1) } : {}),
      });
    } else pending.resolve({ yaml: typeof message.yaml === "string" ? message.yaml : "" });
  }

  /**
   * One build; with `objects`, the answer is objects when JSON says them
   * exactly; with `overlay` (protocol 2), of DIR with that kustomization.
   */
  build(
    dir: string,
    options: KustomizeBuildOptions,
    objects: boolean,
    overlay?: KustomizeOverlay,
  ): Promise<KustomizeOutput> {
    if (!this.alive) return Promise.reject(new KustomizeFailure("the kustomize worker is gone"));
    const timeoutMs = options.timeoutMs ?? defaultTimeoutMs();
    return new Promise<KustomizeOutput>((resolve, reject) => {
      const signal = options.signal;
      const onAbort = () => this.stop("was stopped: the build was cancelled");
      const timer = setTimeout(
        () =>
          this.stop(
            `was stopped: the build timed out (took longer than ${timeoutMs} ms, the limit; ${RAISE.toolTimeout})`,
          ),
        timeoutMs,
      );
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
      };
      this.pending = {
        dir,
        resolve: (output) => {
          done();
          resolve(output);
        },
        reject: (err) => {
          done();
          reject(err);
        },
      };
      if (signal?.aborted) {
        onAbort();
        return;
      }
      signal?.addEventListener("abort", onAbort, { once: true });
      const request = {
        id: this.nextId++,
        dir,
        rootOnly: !options.loadRestrictionsNone,
        ...(objects ? { objects: true } : {}),
        ...(overlay
          ? {
              root: overlay.root,
              kustomization: overlay.kustomization,
              ...(overlay.reach === "all" ? { reachAll: true } : { reach: [...overlay.reach] }),
            }
          : {}),
      };
      this.child.stdin?.write(`${JSON.stringify(request)}\n`);
    });
  }

  /** Kill the worker; a build in flight fails with `why` at once. */
  stop(why: string): void {
    if (!this.alive) return;
    this.alive = false;
    this.exitReason ??= why;
    this.child?.kill("SIGKILL");
    const pending = this.pending;
    this.pending = undefined;
    pending?.reject(
      new KustomizeFailure(`the kustomize worker (${this.file}) ${why} (building ${pending.dir})`),
    );
  }

  /** Close stdin (the worker exits by itself) and wait for it, a few seconds at most. */
  async close(): Promise<void> {
    // One still starting was never needed: no reason to wait for its start-up.
    if (this.alive && !this.greeted) this.stop("was not needed");
    if (this.alive) this.child.stdin?.end();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.child,
      new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          this.stop("was stopped at the end of the run");
          resolve();
        }, 5_000);
      }),
    ]);
    clearTimeout(timer);
  }
}

/** Up to `size` workers, started when first needed, each serving one build at a time. */
export class WorkerPool implements KustomizeRunner {
  readonly mode = "worker";
  private readonly idle: Worker[] = [];
  private readonly all = new Set<Worker>();
  private readonly waiting: Array<(worker: Worker | undefined) => void> = [];
  /** Workers not ready yet. */
  private readonly starting = new Set<Worker>();
  private closed = false;
  /** Set when the worker cannot start at all: the rest of the run uses processes. */
  private fallback: ProcessRunner | undefined;

  constructor(
    readonly file: string,
    private readonly size: number,
  ) {}

  /** Workers started so far (tests look at it). */
  started = 0;

  /**
   * Start every worker now, before the first build asks: their start-up (the
   * OpenAPI schema, ~90 ms of CPU each) then overlaps the run's discovery and
   * its first builds instead of delaying them. A worker that cannot start
   * makes the run fall back to processes, as at a build. The answer settles
   * when their processes are started (not when they are ready).
   */
  prestart(): Promise<void> {
    for (let i = this.all.size + this.starting.size; i < Math.max(1, this.size); i++) {
      void this.acquire().then(
        (worker) => {
          if (worker) this.release(worker);
        },
        () => {},
      );
    }
    return Promise.all([...this.starting].map((worker) => worker.spawned)).then(() => undefined);
  }

  private known: Promise<string> | undefined;

  identity(): Promise<string> {
    // Asked once per build; the binary does not change while a run lasts.
    return (this.known ??= toolIdentity(this.file).catch((err: unknown) => {
      this.known = undefined;
      throw err;
    }));
  }

  async build(dir: string, options: KustomizeBuildOptions): Promise<string> {
    const output = await this.run(dir, options, false);
    return "yaml" in output ? output.yaml : "";
  }

  buildOutput(dir: string, options: KustomizeBuildOptions): Promise<KustomizeOutput> {
    return this.run(dir, options, true);
  }

  /** Undefined when the workers are off (processes instead) or speak protocol 1. */
  async buildOverlay(
    dir: string,
    overlay: KustomizeOverlay,
    options: KustomizeBuildOptions,
  ): Promise<KustomizeOutput | undefined> {
    if (this.fallback) return undefined;
    const worker = await this.acquire();
    if (!worker) return undefined;
    try {
      if (worker.protocol < OVERLAY_PROTOCOL) return undefined;
      return await worker.build(dir, options, true, overlay);
    } finally {
      this.release(worker);
    }
  }

  private async run(
    dir: string,
    options: KustomizeBuildOptions,
    objects: boolean,
  ): Promise<KustomizeOutput> {
    if (this.fallback) return this.fallback.buildOutput(dir, options);
    const worker = await this.acquire();
    if (!worker) return (this.fallback ??= new ProcessRunner()).buildOutput(dir, options);
    try {
      return await worker.build(dir, options, objects);
    } finally {
      this.release(worker);
    }
  }

  private async acquire(): Promise<Worker | undefined> {
    if (this.closed) throw new FluxLocalError("the kustomize workers were stopped (run ended)");
    if (this.fallback) return undefined;
    for (;;) {
      const idle = this.idle.pop();
      if (!idle) break;
      if (idle.alive) return idle;
      this.all.delete(idle);
    }
    if (this.all.size + this.starting.size < Math.max(1, this.size)) {
      const worker = new Worker(this.file);
      this.starting.add(worker);
      this.started++;
      try {
        await worker.start();
      } catch (err) {
        // Stopped at the end of the run before it was ready (see prestart).
        if (this.closed) throw new FluxLocalError("the kustomize workers were stopped (run ended)");
        logger.warn(
          { err: (err as Error).message },
          "kustomize worker unavailable: one kustomize process per build",
        );
        this.fallback ??= new ProcessRunner();
        this.wakeAll();
        return undefined;
      } finally {
        this.starting.delete(worker);
      }
      if (this.closed) {
        void worker.close();
        throw new FluxLocalError("the kustomize workers were stopped (run ended)");
      }
      this.all.add(worker);
      return worker;
    }
    return new Promise<Worker | undefined>((resolve) => this.waiting.push(resolve)).then(
      (worker) => worker ?? this.acquire(),
    );
  }

  private release(worker: Worker): void {
    if (!worker.alive) {
      // Crashed, timed out or cancelled: the next build starts a fresh one.
      this.all.delete(worker);
      this.waiting.shift()?.(undefined);
      return;
    }
    const waiter = this.waiting.shift();
    if (waiter) waiter(worker);
    else this.idle.push(worker);
  }

  private wakeAll(): void {
    for (const waiter of this.waiting.splice(0)) waiter(undefined);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.wakeAll();
    const workers = [...this.all, ...this.starting];
    this.all.clear();
    this.idle.length = 0;
    await Promise.all(workers.map((w) => w.close()));
  }
}
