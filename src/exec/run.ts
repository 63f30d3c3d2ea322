/**
 * The one way to run an external program (kustomize, helm, git): argv arrays only,
 * explicit cwd and env, a timeout and an abort signal. Failures become
 * SubprocessError with argv, exit code and the tail of stderr.
 */
import { execa } from "execa";
import path from "node:path";
import { SubprocessError } from "../util/errors.js";
import { isExecutable } from "./tools.js";
import { limits, RAISE } from "../util/limits.js";
import { logger } from "../util/log.js";

export interface ExecOptions {
  cwd: string;
  env?: Record<string, string>;
  /** Default: limits.toolTimeoutSeconds. */
  timeoutMs?: number;
  /** Heap (data segment) bound in MiB, where Linux allows; default limits.toolMemoryMiB. */
  memoryMiB?: number;
  signal?: AbortSignal;
  input?: string;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  durationMs: number;
}

const STDERR_TAIL = 4000;
/** The default time bound of an external command (changed by --tool-timeout). */
export function defaultTimeoutMs(): number {
  return limits.toolTimeoutSeconds * 1000;
}

let prlimitPath: Promise<string | undefined> | undefined;
/** util-linux `prlimit`, which bounds the command's memory on Linux. */
function findPrlimit(): Promise<string | undefined> {
  prlimitPath ??= (async () => {
    if (process.platform !== "linux") return undefined;
    for (const dir of ["/usr/bin", "/bin", ...(process.env.PATH ?? "").split(path.delimiter)]) {
      if (!dir) continue;
      const candidate = path.join(dir, "prlimit");
      if (await isExecutable(candidate)) return candidate;
    }
    return undefined;
  })();
  return prlimitPath;
}

/**
 * The command line that runs `file` under the memory bound (through prlimit,
 * on Linux; unchanged elsewhere). For long-lived processes started outside run().
 */
export async function bounded(
  file: string,
  args: readonly string[],
  memoryMiB = limits.toolMemoryMiB,
): Promise<[string, string[]]> {
  const prlimit = await findPrlimit();
  return prlimit
    ? [prlimit, [`--data=${Math.round(memoryMiB * 1024 * 1024)}`, "--", file, ...args]]
    : [file, [...args]];
}

/**
 * Why a tool stopped, when a bound stopped it: ran out of memory, or killed
 * by a signal; undefined for an ordinary failure.
 */
export function stoppedByBound(
  name: string,
  stderr: string,
  signal: string | undefined,
  memoryMiB = limits.toolMemoryMiB,
): string | undefined {
  const who = name ? `${name} ` : "";
  if (OUT_OF_MEMORY.test(stderr.slice(0, 20_000)))
    return `${who}ran out of memory (the limit is ${memoryMiB} MiB; ${RAISE.toolMemory})`;
  if (signal)
    return `${who}was killed by signal ${signal}${signal === "SIGKILL" ? ` (out of memory? the limit is ${memoryMiB} MiB; ${RAISE.toolMemory})` : ""}`;
  return undefined;
}

/** What a timeout message says. */
export function timedOut(name: string, timeoutMs: number): string {
  return `${name} timed out after ${timeoutMs / 1000} s and was stopped (the limit; ${RAISE.toolTimeout})`;
}

const OUT_OF_MEMORY = /out of memory|cannot allocate memory|pthread_create failed/i;

/** Observers of every command run (the CLI's `--verbose` and tests use it). */
export type CommandListener = (event: {
  argv: readonly string[];
  durationMs: number;
  exitCode: number | undefined;
}) => void;
const listeners = new Set<CommandListener>();
export function onCommand(listener: CommandListener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Report a command that did not go through run() (a long-lived worker, when it ends). */
export function notifyCommand(event: Parameters<CommandListener>[0]): void {
  for (const listener of listeners) listener(event);
  logger.debug(event, "command finished");
}

export async function run(
  file: string,
  args: readonly string[],
  options: ExecOptions,
): Promise<RunResult> {
  const argv = [file, ...args];
  const name = path.basename(file);
  const timeoutMs = options.timeoutMs ?? defaultTimeoutMs();
  const memoryMiB = options.memoryMiB ?? limits.toolMemoryMiB;
  const [command, commandArgs] = await bounded(file, args, memoryMiB);
  const started = performance.now();
  const result = await execa(command, commandArgs, {
    cwd: options.cwd,
    env: { ...options.env },
    extendEnv: true,
    timeout: timeoutMs,
    cancelSignal: options.signal,
    input: options.input,
    reject: false,
    stripFinalNewline: false,
    maxBuffer: 512 * 1024 * 1024,
    windowsHide: true,
  });
  const durationMs = Math.round(performance.now() - started);
  const exitCode = result.exitCode;
  for (const listener of listeners) listener({ argv, durationMs, exitCode });
  logger.debug({ argv, durationMs, exitCode }, "command finished");
  if (result.failed) {
    const full = String(result.stderr ?? "");
    let stderr = tail(withoutGoDump(full));
    // Stopped by a bound: the explanation replaces the tool's output (a Go
    // crash dump says nothing useful), and says how to raise the bound.
    const limit = result.timedOut
      ? timedOut(name, timeoutMs)
      : result.isCanceled
        ? undefined
        : stoppedByBound(name, full, result.signal, memoryMiB);
    if (limit) stderr = limit;
    const why = limit
      ? "was stopped"
      : result.isCanceled
        ? "was cancelled"
        : exitCode === undefined
          ? `could not start (${result.shortMessage})`
          : `exited with code ${exitCode}`;
    throw new SubprocessError(`${file} ${why}${stderr ? `: ${stderr.trim()}` : ""}`, {
      argv,
      exitCode,
      stderr,
      cause: result.cause,
    });
  }
  return { stdout: String(result.stdout), stderr: String(result.stderr), durationMs };
}

/** A Go crash dump (goroutine stacks, registers) cut down to its first lines. */
export function withoutGoDump(text: string): string {
  const dump = text.search(/^(?:goroutine \d+ |runtime stack:|SIGABRT|SIGSEGV|PC=0x)/m);
  const why = dump < 0 ? text : text.slice(0, dump).trimEnd();
  // Out of memory, several threads may print the same `fatal error:` line: say it once.
  return why
    .split("\n")
    .filter((line, i, lines) => i === 0 || line !== lines[i - 1])
    .join("\n");
}

function tail(text: string): string {
  return text.length > STDERR_TAIL ? `...${text.slice(-STDERR_TAIL)}` : text;
}
