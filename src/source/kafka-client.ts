import { Kafka, logLevel as KafkaLogLevel, type LogEntry, type SASLOptions } from "kafkajs";
import type { Logger } from "pino";

export interface KafkaConnectionOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly ssl: boolean;
  readonly sasl?: { mechanism: "plain" | "scram-sha-256" | "scram-sha-512"; username: string; password: string } | undefined;
}

/**
 * kafkajs logs through its own logger; route it into ours so every line is JSON and
 * carries the same base fields. kafkajs is chatty at INFO (every join, every stop), so
 * its INFO becomes our DEBUG and only its warnings and errors surface by default.
 */
function kafkaLogCreator(logger: Logger) {
  return (_level: KafkaLogLevel) =>
    ({ namespace, level, log }: LogEntry) => {
      const { message, ...extra } = log;
      const fields = { kafkajs: namespace, ...extra };
      if (level === KafkaLogLevel.ERROR) logger.error(fields, message);
      else if (level === KafkaLogLevel.WARN) logger.warn(fields, message);
      else logger.debug(fields, message);
    };
}

export function createKafka(options: KafkaConnectionOptions, logger: Logger): Kafka {
  const sasl: SASLOptions | undefined = options.sasl
    ? { mechanism: options.sasl.mechanism, username: options.sasl.username, password: options.sasl.password }
    : undefined;
  return new Kafka({
    clientId: options.clientId,
    brokers: [...options.brokers],
    ssl: options.ssl,
    ...(sasl ? { sasl } : {}),
    logLevel: KafkaLogLevel.INFO,
    logCreator: kafkaLogCreator(logger),
    // A broker restart must not kill the worker: kafkajs' own retrier gives up after
    // ~30 s by default, after which the consumer crashes and we restart it ourselves.
    retry: { initialRetryTime: 300, retries: 8, maxRetryTime: 30_000 },
  });
}

