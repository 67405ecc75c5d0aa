/**
 * The service's structured logger: one JSON object per line on stdout, which is what
 * container log collectors expect. Anything that looks like a secret is redacted by
 * key name, so logging a config section or a client error (which may echo its
 * connection options) cannot leak a password.
 */
import { pino, stdSerializers, type DestinationStream, type Logger } from "pino";

export type { Logger } from "pino";

export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";

export const LOG_LEVELS: readonly LogLevel[] = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

export const SERVICE_NAME = "kafka-es-transfer";

export const REDACTED = "[redacted]";

/** Key names whose values are never written, at any of the first four nesting levels. */
const SECRET_KEYS = [
  "password",
  "passwd",
  "apiKey",
  "api_key",
  "apikey",
  "authorization",
  "Authorization",
  "sasl",
  "token",
  "accessToken",
  "secret",
  "secretAccessKey",
  "privateKey",
  "cookie",
] as const;

export const REDACT_PATHS: readonly string[] = SECRET_KEYS.flatMap((key) => [
  key,
  `*.${key}`,
  `*.*.${key}`,
  `*.*.*.${key}`,
]);

export interface LoggerOptions {
  readonly level: LogLevel;
  /** Extra base fields (e.g. `version`, `instance`). */
  readonly base?: Readonly<Record<string, string | number>>;
  /** Where lines go; stdout when absent (tests pass a stream). */
  readonly destination?: DestinationStream;
}

export function createLogger(options: LoggerOptions): Logger {
  const config = {
    level: options.level,
    base: { service: SERVICE_NAME, ...options.base },
    redact: { paths: [...REDACT_PATHS], censor: REDACTED },
    // ISO times read better than epoch milliseconds when a person greps the logs.
    timestamp: pino.stdTimeFunctions.isoTime,
    serializers: { err: stdSerializers.err, error: stdSerializers.err },
    formatters: {
      // "level":"error" instead of 50: log backends and people both understand it.
      level: (label: string) => ({ level: label }),
    },
  };
  return options.destination === undefined ? pino(config) : pino(config, options.destination);
}
