/**
 * What the command line needs before any command's module is loaded: the exit
 * codes and the top-level `--log-level`. Kept free of the render pipeline so
 * that main.ts can load a command's module only when that command runs.
 */
import { UsageError } from "../util/errors.js";

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** flux-local's top-level `--log-level` (DEBUG, INFO, WARNING, ERROR, CRITICAL), as a pino level. */
let requestedLogLevel: string | undefined;

export function setLogLevel(level: string): void {
  const levels: Record<string, string> = {
    debug: "debug",
    info: "info",
    warning: "warn",
    warn: "warn",
    error: "error",
    critical: "fatal",
  };
  const mapped = levels[level.toLowerCase()];
  if (!mapped) {
    throw new UsageError(`--log-level ${level}: expected DEBUG, INFO, WARNING, ERROR or CRITICAL`);
  }
  requestedLogLevel = mapped;
}

/** The level `--log-level` asked for, if any. */
export function logLevelRequested(): string | undefined {
  return requestedLogLevel;
}
