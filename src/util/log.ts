/**
 * Logs for machines: pino on stderr, static messages with data in fields.
 * Readable (pretty) by default on a terminal, JSON with `--log-format json`.
 */
import { destination, pino, type Logger } from "pino";

export let logger: Logger = pino(
  { level: process.env.FLUX_LOCAL_LOG_LEVEL ?? "warn" },
  destination(2),
);

export interface LogOptions {
  level: string;
  format: "json" | "pretty";
}

export async function configureLogging(options: LogOptions): Promise<void> {
  if (options.format === "json") {
    logger = pino({ level: options.level }, destination(2));
    return;
  }
  const { default: pretty } = await import("pino-pretty");
  const colorize = process.stderr.isTTY === true && !process.env.NO_COLOR;
  logger = pino(
    { level: options.level },
    pretty({
      destination: 2,
      colorize,
      ignore: "pid,hostname",
      translateTime: "HH:MM:ss.l",
      sync: true,
    }),
  );
}
