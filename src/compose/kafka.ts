/** The Kafka client as configured, shared by `start` and the bounded runs. */
import type { Kafka } from "kafkajs";
import type { Logger } from "pino";
import type { Config } from "../config/schema.ts";
import { createKafka } from "../source/kafka-client.ts";

export function composeKafka(config: Config, logger: Logger): Kafka {
  return createKafka(
    {
      brokers: config.kafka.brokers,
      clientId: config.kafka.clientId,
      ssl: config.kafka.ssl,
      sasl: config.kafka.sasl.mechanism === ""
        ? undefined
        : { mechanism: config.kafka.sasl.mechanism, username: config.kafka.sasl.username, password: config.kafka.sasl.password },
    },
    logger,
  );
}
