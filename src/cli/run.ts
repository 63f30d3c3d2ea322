/**
 * Running a render for a command and finishing it: the failure summary on
 * stderr, and the exit code (only the CLI maps errors to exit codes).
 */
import { onCommand } from "../exec/run.js";
import { render, type RenderRequest, type RenderResult } from "../pipeline.js";
import { collectFailures, formatFailures, type Failure } from "../report/failures.js";
import type { StoreEntry } from "../store/store.js";
import { configureLogging, logger } from "../util/log.js";
import type { CommonOptions } from "./options.js";

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

export async function startRun(opts: CommonOptions, request: RenderRequest): Promise<RenderResult> {
  await configureLogging({
    level: opts.verbose ? "debug" : "warn",
    format: opts.logFormat ?? "pretty",
  });
  if (opts.verbose) {
    onCommand(({ argv, durationMs, exitCode }) => {
      logger.info({ argv, durationMs, exitCode }, "ran command");
    });
  }
  return render(request);
}

/** Print the failures among `entries` (and repository issues); return the exit code. */
export function finish(result: RenderResult, entries: readonly StoreEntry[]): number {
  const failures: Failure[] = collectFailures(result, entries, process.cwd());
  const text = formatFailures(failures);
  if (text) process.stderr.write(text);
  return failures.length > 0 ? EXIT_FAILED : EXIT_OK;
}
