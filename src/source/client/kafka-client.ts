import { Kafka, logLevel as KafkaLogLevel, type KafkaConfig, type LogEntry } from "kafkajs";
import type { Logger } from "pino";
import { kafkaSasl, kafkaTls, type KafkaTlsOptions } from "../auth/kafka-security.ts";
import type { KafkaSaslOptions } from "../auth/sasl-mechanisms.ts";
import { registerCompressionCodecs } from "./compression.ts";
import { fixKafkajsOfflinePartitions } from "./kafkajs-metadata.ts";
import { useOurRecordBatchDecoder } from "./kafkajs-record-batches.ts";
import { fixKafkajsRequestTimer } from "./kafkajs-request-timer.ts";

export interface KafkaConnectionOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly ssl: boolean;
  readonly tls: KafkaTlsOptions;
  readonly sasl: KafkaSaslOptions;
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

/**
 * The one way any process of ours (the worker and its commands, the tests, the bench, the
 * demo) makes a kafkajs client: the loaded kafkajs gets its fixes first. Its request
 * queues no longer re-arm a negative (1 ms) timer per connection for ever
 * (kafkajs-request-timer.ts), which also made Node print "TimeoutNegativeWarning"; and
 * it reads snappy, lz4 and zstd batches, not only gzip; and a partition with no live
 * replica (its only broker down) no longer fails every metadata request that names its
 * topic (kafkajs-metadata.ts). Lint refuses `new Kafka` elsewhere.
 */
export function newKafkaClient(config: KafkaConfig): Kafka {
  registerCompressionCodecs();
  fixKafkajsRequestTimer();
  fixKafkajsOfflinePartitions();
  useOurRecordBatchDecoder();
  return new Kafka(config);
}

/**
 * The worker's Kafka clients: the consumer, the admin and any producer made from the
 * returned `Kafka` share its TLS and SASL settings.
 */
export function createKafka(options: KafkaConnectionOptions, logger: Logger, retries = 8): Kafka {
  const sasl = kafkaSasl(options.sasl);
  const decoding = useOurRecordBatchDecoder();
  if (decoding !== "ours") logger.warn({ decoding }, `record batches decoded by ${decoding}: slower, same records`);
  return newKafkaClient({
    clientId: options.clientId,
    brokers: [...options.brokers],
    ssl: kafkaTls(options.ssl, options.tls),
    ...(sasl ? { sasl } : {}),
    logLevel: KafkaLogLevel.INFO,
    logCreator: kafkaLogCreator(logger),
    // A broker restart must not kill the worker: kafkajs' own retrier gives up after
    // ~30 s by default, after which the consumer crashes and we restart it ourselves.
    retry: { initialRetryTime: 300, retries, maxRetryTime: 30_000 },
  });
}

