/**
 * The one way to run an external program (kustomize, helm, git): argv arrays only,
 * explicit cwd and env, a timeout and an abort signal. Failures become
 * SubprocessError with argv, exit code and the tail of stderr.
 */
import { execa } from "execa";
import { SubprocessError } from "../util/errors.js";
import { logger } from "../util/log.js";

export interface ExecOptions {
  cwd: string;
  env?: Record<string, string>;
  timeoutMs?: number;
  signal?: AbortSignal;
  input?: string;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  durationMs: number;
}

const STDERR_TAIL = 4000;
export const DEFAULT_TIMEOUT_MS = 5 * 60_000;

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
  const started = performance.now();
  const result = await execa(file, args, {
    cwd: options.cwd,
    env: { ...options.env },
    extendEnv: true,
    timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
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
    const stderr = tail(String(result.stderr ?? ""));
    const why = result.timedOut
      ? `timed out after ${options.timeoutMs ?? DEFAULT_TIMEOUT_MS} ms`
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

function tail(text: string): string {
  return text.length > STDERR_TAIL ? `...${text.slice(-STDERR_TAIL)}` : text;
}
