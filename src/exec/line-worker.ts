/**
 * Long-lived tool workers that speak newline-framed JSON: flux-local's
 * kustomize worker (worker/) and helm worker (worker/helm/). A worker greets
 * with one line ({"ready":true,...}), then answers one line per request line,
 * in order. One request at a time per worker; a pool keeps up to N of them,
 * started when first needed and stopped at the end of the run.
 *
 * What fails is named: a worker that cannot start makes the pool unavailable
 * (its caller falls back to one process per call); one that dies, hangs past
 * the timeout or is cancelled fails the request in flight with the reason
 * (and what its stderr said) and is replaced by the next request.
 */
import path from "node:path";
import { createInterface } from "node:readline";
import { execa, type ResultPromise } from "execa";
import { bounded, defaultTimeoutMs, notifyCommand, stoppedByBound, withoutGoDump } from "./run.js";
import { isExecutable } from "./tools.js";
import { packageRoot } from "../util/package-info.js";
import { FluxLocalError } from "../util/errors.js";
import { RAISE } from "../util/limits.js";
import { logger } from "../util/log.js";

export interface LineWorkerKind {
  /** The binary. */
  file: string;
  /** How messages name it: "the kustomize worker". */
  label: string;
  /** The program's name, for "did not start" messages. */
  name: string;
  /** Environment added to flux-local's own. */
  env?: Record<string, string>;
  /** What a request does, in messages: "build", "render" (the build timed out). */
  call: string;
  /** The error a failed request rejects with (the caller's failure type). */
  failure: (message: string) => Error;
  /** The worker's stderr as a reason (warnings dropped). */
  stderrText: (stderr: string) => string;
}

export interface RequestOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
}

interface Pending {
  /** What the request does, for messages: "building /dir". */
  what: string;
  resolve: (line: string) => void;
  reject: (err: Error) => void;
}

const STDERR_TAIL = 4000;

/**
 * A worker binary to use, or undefined for one process per call: `setting`
 * (FLUX_LOCAL_KUSTOMIZE_WORKER, FLUX_LOCAL_HELM_WORKER) =0 switches it off,
 * =PATH names it; otherwise .tools/bin's `name`, unless `toolSetting` picks
 * another tool (a worker is built from one release only).
 */
export async function findWorkerBinary(
  name: string,
  setting: string,
  toolSetting: string,
): Promise<string | undefined> {
  const value = process.env[setting];
  if (value === "0" || value === "false" || value === "off") return undefined;
  if (value && value !== "1") {
    if (await isExecutable(value)) return value;
    throw new FluxLocalError(
      `${setting}=${value} is not an executable file (0 switches the worker off)`,
    );
  }
  if (process.env[toolSetting]) return undefined;
  const local = path.join(packageRoot, ".tools", "bin", name);
  return (await isExecutable(local)) ? local : undefined;
}

/** The protocol a worker's greeting names; 1 when it names none. */
function helloProtocol(line: string): number {
  try {
    const protocol = (JSON.parse(line) as { protocol?: unknown } | null)?.protocol;
    return typeof protocol === "number" && Number.isInteger(protocol) ? protocol : 1;
  } catch {
    return 1;
  }
}

/** One worker process, serving one request at a time. */
export class LineWorker {
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
  /** Said it is ready (its start-up is done). */
  private greeted = false;
  private exitReason: string | undefined;

  /** Settles once the process is started (or could not be): not when it is ready. */
  readonly spawned: Promise<void>;

  constructor(private readonly kind: LineWorkerKind) {
    // Started under the memory bound (prlimit); the answer to start() waits for it.
    const launched = bounded(kind.file, []).then(([command, args]) => {
      // Stopped (the run ended) before it was even started: start nothing.
      if (!this.alive) throw new FluxLocalError(`${kind.name} ${this.exitReason ?? "was stopped"}`);
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
    const kind = this.kind;
    const file = kind.file;
    this.child = execa(command, commandArgs, {
      stdin: "pipe",
      stdout: "pipe",
      stderr: "pipe",
      buffer: false,
      reject: false,
      cleanup: true,
      windowsHide: true,
      ...(kind.env ? { env: kind.env, extendEnv: true } : {}),
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
                `${kind.name} did not start: unexpected output ${line.slice(0, 200)}`,
              ),
        );
        return;
      }
      const pending = this.pending;
      this.pending = undefined;
      pending?.resolve(line);
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
      let stderr = kind
        .stderrText(crashed ? withoutGoDump(this.stderrHead) : this.stderrTail)
        .trim();
      const bound = this.exitReason
        ? undefined
        : stoppedByBound("", this.stderrHead + this.stderrTail, result.signal);
      if (bound) stderr = stderr ? `${stderr} — ${bound}` : bound;
      const reason = `${kind.label} (${file}) ${how}${stderr ? `: ${stderr}` : ""}`;
      onHello?.(new FluxLocalError(reason));
      const pending = this.pending;
      this.pending = undefined;
      pending?.reject(kind.failure(`${reason} (${pending.what})`));
    });
    return ready;
  }

  /** Settles when the worker has greeted (or could not start). */
  start(): Promise<void> {
    return this.ready;
  }

  /**
   * Send one request (`fields`, beside its id) and answer the worker's answer:
   * its line, raw, and the line read as JSON. `what` names the request in
   * messages. A timeout or an abort kills the worker; so does an answer that
   * is not JSON (the worker cannot be trusted with another request).
   */
  async request(
    fields: Record<string, unknown>,
    what: string,
    options: RequestOptions,
  ): Promise<{ line: string; answer: Record<string, unknown> }> {
    const line = await this.send(fields, what, options);
    try {
      const answer: unknown = JSON.parse(line);
      if (typeof answer === "object" && answer !== null && !Array.isArray(answer))
        return { line, answer: answer as Record<string, unknown> };
    } catch {
      // below
    }
    this.stop("answered garbage");
    throw this.kind.failure(`${this.kind.label} answered garbage: ${line.slice(0, 200)}`);
  }

  private send(
    fields: Record<string, unknown>,
    what: string,
    options: RequestOptions,
  ): Promise<string> {
    if (!this.alive) return Promise.reject(this.kind.failure(`${this.kind.label} is gone`));
    const timeoutMs = options.timeoutMs ?? defaultTimeoutMs();
    const call = this.kind.call;
    return new Promise<string>((resolve, reject) => {
      const signal = options.signal;
      const onAbort = () => this.stop(`was stopped: the ${call} was cancelled`);
      const timer = setTimeout(
        () =>
          this.stop(
            `was stopped: the ${call} timed out (took longer than ${timeoutMs} ms, the limit; ${RAISE.toolTimeout})`,
          ),
        timeoutMs,
      );
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
      };
      this.pending = {
        what,
        resolve: (line) => {
          done();
          resolve(line);
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
      this.child.stdin?.write(`${JSON.stringify({ id: this.nextId++, ...fields })}\n`);
    });
  }

  /** Kill the worker; a request in flight fails with `why` at once. */
  stop(why: string): void {
    if (!this.alive) return;
    this.alive = false;
    this.exitReason ??= why;
    this.child?.kill("SIGKILL");
    const pending = this.pending;
    this.pending = undefined;
    pending?.reject(
      this.kind.failure(`${this.kind.label} (${this.kind.file}) ${why} (${pending.what})`),
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

/**
 * Up to `size` workers of one kind, started when first needed, each serving
 * one request at a time. When a worker cannot start at all, acquire()
 * answers undefined from then on: the caller runs one process per call.
 */
export class LineWorkerPool {
  private readonly idle: LineWorker[] = [];
  private readonly all = new Set<LineWorker>();
  private readonly waiting: Array<(worker: LineWorker | undefined) => void> = [];
  /** Workers not ready yet. */
  private readonly starting = new Set<LineWorker>();
  private closed = false;
  /** Set when the worker cannot start at all. */
  unavailable = false;
  /** Workers started so far (tests look at it). */
  started = 0;

  constructor(
    readonly kind: LineWorkerKind,
    private readonly size: number,
    /** Logged once when the worker cannot start: "one kustomize process per build". */
    private readonly fallbackNote: string,
  ) {}

  get file(): string {
    return this.kind.file;
  }

  private stopped(): FluxLocalError {
    return new FluxLocalError(`${this.kind.label}s were stopped (run ended)`);
  }

  /**
   * Start every worker now, before the first request: their start-up then
   * overlaps the run's other work. A worker that cannot start makes the pool
   * unavailable, as at a request. Settles when their processes are started
   * (not when they are ready).
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

  /** A ready worker, or undefined when workers cannot start (the caller falls back). */
  async acquire(): Promise<LineWorker | undefined> {
    if (this.closed) throw this.stopped();
    if (this.unavailable) return undefined;
    for (;;) {
      const idle = this.idle.pop();
      if (!idle) break;
      if (idle.alive) return idle;
      this.all.delete(idle);
    }
    if (this.all.size + this.starting.size < Math.max(1, this.size)) {
      const worker = new LineWorker(this.kind);
      this.starting.add(worker);
      this.started++;
      try {
        await worker.start();
      } catch (err) {
        // Stopped at the end of the run before it was ready (see prestart).
        if (this.closed) throw this.stopped();
        if (!this.unavailable)
          logger.warn(
            { err: (err as Error).message },
            `${this.kind.label} unavailable: ${this.fallbackNote}`,
          );
        this.unavailable = true;
        this.wakeAll();
        return undefined;
      } finally {
        this.starting.delete(worker);
      }
      if (this.closed) {
        void worker.close();
        throw this.stopped();
      }
      this.all.add(worker);
      return worker;
    }
    return new Promise<LineWorker | undefined>((resolve) => this.waiting.push(resolve)).then(
      (worker) => worker ?? this.acquire(),
    );
  }

  release(worker: LineWorker): void {
    if (!worker.alive) {
      // Crashed, timed out or cancelled: the next request starts a fresh one.
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
