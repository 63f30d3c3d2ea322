/**
 * Who runs `helm template`: a pool of long-lived helm workers (the Go program
 * in worker/helm/, built by `npm run setup` from helm's own packages of the
 * release flux-local installs), or one helm process per render when the
 * worker is absent or switched off (FLUX_LOCAL_HELM_WORKER=0). Both run
 * helm's own template command with the same arguments and environment and
 * print the same bytes; the worker pays helm's start-up (loading a ~80 MB
 * binary, initialising the Kubernetes client packages) once per run instead
 * of once per release: ~36 ms a release as processes, ~2 ms in the worker.
 *
 * One runner per run (per helm home): workers start on the first render and
 * stop with close() at the end of the run.
 */
import { findWorkerBinary, LineWorkerPool, type LineWorkerKind } from "../../exec/line-worker.js";
import { run, type ExecOptions } from "../../exec/run.js";
import { findTool } from "../../exec/tools.js";
import { SubprocessError } from "../../util/errors.js";
import { identityOnce, toolIdentity } from "../kustomize/cache.js";
import { workerCount } from "../kustomize/runner.js";

export const HELM_WORKER_NAME = "flux-local-helm-worker";

/** helm refused to render; `stderr` is what helm printed (its error after "Error: "). */
export class HelmFailure extends Error {
  constructor(
    message: string,
    readonly stderr: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "HelmFailure";
  }
}

export interface HelmCall {
  /** Scratch folder a process runs in. */
  cwd: string;
  signal?: AbortSignal;
  timeoutMs?: number;
}

export interface HelmRunner {
  readonly mode: "worker" | "process";
  /** `helm ARGS` (a template command line): what it prints on stdout, or a HelmFailure. */
  template(args: readonly string[], call: HelmCall): Promise<string>;
  /** What renders, for render cache keys (a binary's path, size and time; no process). */
  identity(): Promise<string>;
  /** Stop every worker (idempotent). */
  close(): Promise<void>;
}

/**
 * The worker binary to use, or undefined for one process per render:
 * FLUX_LOCAL_HELM_WORKER=0 switches it off, =PATH names it; otherwise
 * .tools/bin's, unless FLUX_LOCAL_HELM picks another helm (the worker is
 * built from one release only).
 */
export function findHelmWorker(): Promise<string | undefined> {
  return findWorkerBinary(HELM_WORKER_NAME, "FLUX_LOCAL_HELM_WORKER", "FLUX_LOCAL_HELM");
}

/** helm's stderr without its informational logs (symbolic link notices, warnings) and blank lines. */
export function withoutHelmNotices(stderr: string): string {
  return stderr
    .split("\n")
    .filter(
      (line) => line.trim() !== "" && !/^(WARNING:|level=(DEBUG|INFO|WARN)\b)/.test(line.trim()),
    )
    .join("\n");
}

/** One `helm` process per render, with `env` (the private helm home). */
export class HelmProcessRunner implements HelmRunner {
  readonly mode = "process";

  constructor(private readonly env: Record<string, string>) {}

  async template(args: readonly string[], call: HelmCall): Promise<string> {
    const helm = await findTool("helm");
    const options: ExecOptions = {
      cwd: call.cwd,
      env: this.env,
      signal: call.signal,
      timeoutMs: call.timeoutMs,
    };
    try {
      return (await run(helm.file, [...helm.prefix, ...args], options)).stdout;
    } catch (err) {
      if (err instanceof SubprocessError)
        throw new HelmFailure(err.message, err.stderr, { cause: err });
      throw err;
    }
  }

  readonly identity = identityOnce(async () => toolIdentity((await findTool("helm")).file));

  async close(): Promise<void> {}
}

/** Up to `size` helm workers, started on the first render; processes when they cannot start. */
export class HelmWorkerPool implements HelmRunner {
  readonly mode = "worker";
  private readonly pool: LineWorkerPool;
  /** Who renders when the worker cannot start at all (the pool is then unavailable). */
  private readonly processes: HelmProcessRunner;

  constructor(file: string, size: number, env: Record<string, string>) {
    this.processes = new HelmProcessRunner(env);
    const kind: LineWorkerKind = {
      file,
      label: "the helm worker",
      call: "render",
      name: HELM_WORKER_NAME,
      env,
      failure: (message) => new HelmFailure(message, ""),
      stderrText: withoutHelmNotices,
    };
    this.pool = new LineWorkerPool(kind, size, "one helm process per render");
  }

  /** Workers started so far (tests look at it). */
  get started(): number {
    return this.pool.started;
  }

  async template(args: readonly string[], call: HelmCall): Promise<string> {
    const worker = await this.pool.acquire();
    if (!worker) return this.processes.template(args, call);
    try {
      const { answer } = await worker.request(
        { args },
        `rendering ${args[1] ?? "a release"}`,
        call,
      );
      if (typeof answer.error === "string")
        throw new HelmFailure(`helm ${args[0]} failed`, `Error: ${answer.error}`);
      return typeof answer.stdout === "string" ? answer.stdout : "";
    } finally {
      this.pool.release(worker);
    }
  }

  readonly identity = identityOnce(() => toolIdentity(this.pool.file));

  close(): Promise<void> {
    return this.pool.close();
  }
}

/** The helm runner of a run whose helm home environment is `env`. */
export async function createHelmRunner(
  concurrency: number,
  env: Record<string, string>,
): Promise<HelmRunner> {
  const worker = await findHelmWorker();
  return worker
    ? new HelmWorkerPool(worker, workerCount(concurrency), env)
    : new HelmProcessRunner(env);
}
