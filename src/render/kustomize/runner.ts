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
import os from "node:os";
import path from "node:path";
import {
  findWorkerBinary,
  LineWorkerPool,
  type LineWorker,
  type LineWorkerKind,
} from "../../exec/line-worker.js";
import { run } from "../../exec/run.js";
import { findTool } from "../../exec/tools.js";
import { SubprocessError } from "../../util/errors.js";
import { identityOnce, toolIdentity } from "./cache.js";
import type { KubeObject } from "../../flux/objects.js";

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

  readonly identity = identityOnce(async () => {
    const tool = await findTool("kustomize");
    return [await toolIdentity(tool.file), ...tool.prefix].join(" ");
  });
}

/**
 * The worker binary to use, or undefined for one process per build:
 * FLUX_LOCAL_KUSTOMIZE_WORKER=0 switches it off, =PATH names it; otherwise
 * .tools/bin's, unless FLUX_LOCAL_KUSTOMIZE picks another kustomize (the
 * worker is built from one release only).
 */
export function findWorker(): Promise<string | undefined> {
  return findWorkerBinary(WORKER_NAME, "FLUX_LOCAL_KUSTOMIZE_WORKER", "FLUX_LOCAL_KUSTOMIZE");
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

const OBJECTS_FIELD = ',"objects":';

/** The kustomize worker as a line worker (src/exec/line-worker.ts). */
function kustomizeWorkerKind(file: string): LineWorkerKind {
  return {
    file,
    label: "the kustomize worker",
    call: "build",
    name: WORKER_NAME,
    failure: (message) => new KustomizeFailure(message),
    stderrText: kustomizeErrorText,
  };
}

/** A worker's answer (its line, read as JSON) as the build's output, or a KustomizeFailure. */
function buildAnswer(
  line: string,
  message: { yaml?: unknown; objects?: unknown; error?: unknown },
): KustomizeOutput {
  if (typeof message.error === "string") throw new KustomizeFailure(message.error);
  if (Array.isArray(message.objects)) {
    // The worker writes {"id":N,"objects":[...]}: the array's text is the line's tail.
    const at = line.indexOf(OBJECTS_FIELD);
    return {
      objects: message.objects as KubeObject[],
      ...(at > 0 ? { json: line.slice(at + OBJECTS_FIELD.length, -1) } : {}),
    };
  }
  return { yaml: typeof message.yaml === "string" ? message.yaml : "" };
}

/**
 * One build on `worker`; with `objects`, the answer is objects when JSON says
 * them exactly; with `overlay` (protocol 2), of DIR with that kustomization.
 */
async function workerBuild(
  worker: LineWorker,
  dir: string,
  options: KustomizeBuildOptions,
  objects: boolean,
  overlay?: KustomizeOverlay,
): Promise<KustomizeOutput> {
  const request = {
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
  const { line, answer } = await worker.request(request, `building ${dir}`, options);
  return buildAnswer(line, answer);
}

/** Up to `size` workers, started when first needed, each serving one build at a time. */
export class WorkerPool implements KustomizeRunner {
  readonly mode = "worker";
  private readonly pool: LineWorkerPool;
  /** Who builds when the worker cannot start at all (the pool is then unavailable). */
  private readonly processes = new ProcessRunner();

  constructor(file: string, size: number) {
    this.pool = new LineWorkerPool(
      kustomizeWorkerKind(file),
      size,
      "one kustomize process per build",
    );
  }

  get file(): string {
    return this.pool.file;
  }

  /** Workers started so far (tests look at it). */
  get started(): number {
    return this.pool.started;
  }

  /**
   * Start every worker now, before the first build asks: their start-up (the
   * OpenAPI schema, ~90 ms of CPU each) then overlaps the run's discovery and
   * its first builds instead of delaying them. A worker that cannot start
   * makes the run fall back to processes, as at a build. The answer settles
   * when their processes are started (not when they are ready).
   */
  prestart(): Promise<void> {
    return this.pool.prestart();
  }

  readonly identity = identityOnce(() => toolIdentity(this.file));

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
    const worker = await this.pool.acquire();
    if (!worker) return undefined;
    try {
      if (worker.protocol < OVERLAY_PROTOCOL) return undefined;
      return await workerBuild(worker, dir, options, true, overlay);
    } finally {
      this.pool.release(worker);
    }
  }

  private async run(
    dir: string,
    options: KustomizeBuildOptions,
    objects: boolean,
  ): Promise<KustomizeOutput> {
    const worker = await this.pool.acquire();
    if (!worker) return this.processes.buildOutput(dir, options);
    try {
      return await workerBuild(worker, dir, options, objects);
    } finally {
      this.pool.release(worker);
    }
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
