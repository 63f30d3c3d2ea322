/**
 * Logs for machines: pino on stderr, static messages with data in fields.
 * Readable (pretty) by default on a terminal, JSON with `--log-format json`.
 *
 * pino (and pino-pretty) are loaded when the first line at an enabled level is
 * logged: most runs log nothing at the default level (warn) and never load
 * them. The level check is ours, with pino's numbers, so a disabled line
 * costs a comparison.
 */
import { createRequire } from "node:module";
import type * as Pino from "pino";
import type { Logger, LoggerOptions } from "pino";
import type PinoPretty from "pino-pretty";
import { errorMessage } from "./errors.js";
import { redactDeep } from "./printable.js";

/** pino's levels. */
const LEVELS: Record<string, number> = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  fatal: 60,
  silent: Infinity,
};

type Level = "debug" | "warn" | "error";

/** What the program logs with: fields first, then a static message. */
export interface Log {
  debug(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export interface LogOptions {
  level: string;
  format: "json" | "pretty";
}

let options: LogOptions = { level: process.env.FLUX_LOCAL_LOG_LEVEL ?? "warn", format: "json" };
let threshold = thresholdOf(options.level);
let pinoLogger: Logger | undefined;

function thresholdOf(level: string): number {
  return LEVELS[level] ?? LEVELS.warn!;
}

function log(level: Level, fields: object, message: string): void {
  if (LEVELS[level]! < threshold) return;
  try {
    pinoLogger ??= createLogger(options);
  } catch (err) {
    // An incomplete installation: say so once, and log nothing more.
    process.stderr.write(
      `flux-local: logging unavailable (pino could not be loaded: ${firstLine(errorMessage(err))})\n`,
    );
    threshold = Infinity;
    return;
  }
  pinoLogger[level](fields, message);
}

function firstLine(text: string): string {
  return text.split("\n", 1)[0] ?? text;
}

export const logger: Log = {
  debug: (fields, message) => log("debug", fields, message),
  warn: (fields, message) => log("warn", fields, message),
  error: (fields, message) => log("error", fields, message),
};

/** Set the level and format of the lines to come (asynchronous for the callers' sake). */
export function configureLogging(next: LogOptions): Promise<void> {
  options = next;
  threshold = thresholdOf(next.level);
  pinoLogger = undefined;
  return Promise.resolve();
}

const require = createRequire(import.meta.url);

/** No URL userinfo (a password, a token) ever reaches a log line. */
const redacting: LoggerOptions["formatters"] = {
  log: (record) => redactDeep(record),
};

function createLogger({ level, format }: LogOptions): Logger {
  const { pino, destination } = require("pino") as typeof Pino;
  const settings = { level: LEVELS[level] === undefined ? "warn" : level, formatters: redacting };
  if (format === "json") return pino(settings, destination(2));
  const colorize = process.stderr.isTTY === true && !process.env.NO_COLOR;
  let pretty: typeof PinoPretty;
  try {
    pretty = require("pino-pretty") as typeof PinoPretty;
  } catch (err) {
    process.stderr.write(
      `flux-local: pretty logs unavailable (pino-pretty could not be loaded: ${firstLine(errorMessage(err))}); logging JSON\n`,
    );
    return pino(settings, destination(2));
  }
  return pino(
    settings,
    pretty({
      destination: 2,
      colorize,
      ignore: "pid,hostname",
      translateTime: "HH:MM:ss.l",
      sync: true,
    }),
  );
}
