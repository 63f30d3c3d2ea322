/**
 * Logs for machines: pino on stderr, static messages with data in fields.
 * Readable (pretty) by default on a terminal, JSON with `--log-format json`.
 */
import { destination, pino, type Logger, type LoggerOptions } from "pino";
import { redactDeep } from "./printable.js";

/** No URL userinfo (a password, a token) ever reaches a log line. */
const redacting: LoggerOptions["formatters"] = {
  log: (record) => redactDeep(record),
};

export let logger: Logger = pino(
  { level: process.env.FLUX_LOCAL_LOG_LEVEL ?? "warn", formatters: redacting },
  destination(2),
);

export interface LogOptions {
  level: string;
  format: "json" | "pretty";
}

export async function configureLogging(options: LogOptions): Promise<void> {
  if (options.format === "json") {
    logger = pino({ level: options.level, formatters: redacting }, destination(2));
    return;
  }
  const { default: pretty } = await import("pino-pretty");
  const colorize = process.stderr.isTTY === true && !process.env.NO_COLOR;
  logger = pino(
    { level: options.level, formatters: redacting },
    pretty({
      destination: 2,
      colorize,
      ignore: "pid,hostname",
      translateTime: "HH:MM:ss.l",
      sync: true,
    }),
  );
}
