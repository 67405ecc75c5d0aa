/** The Kafka client as configured, shared by `start` and the bounded runs. */
import type { Kafka } from "kafkajs";
import type { Logger } from "pino";
import type { Config } from "../config/schema.ts";
import { createKafka, type KafkaConnectionOptions } from "../source/client/kafka-client.ts";
import type { KafkaFailureContext } from "../source/client/kafka-diagnosis.ts";

/** The options every Kafka client of the worker is made with (TLS and SASL included). */
export function kafkaConnection(config: Config): KafkaConnectionOptions {
  const { brokers, clientId, ssl, tls, sasl } = config.kafka;
  return { brokers, clientId, ssl, tls, sasl };
}

/** What the Kafka failure diagnoses need to know of the configuration. */
export function kafkaFailureContext(config: Config): KafkaFailureContext {
  return { brokers: config.kafka.brokers, ssl: config.kafka.ssl, mechanism: config.kafka.sasl.mechanism.toLowerCase(), groupId: config.kafka.groupId };
}

export function composeKafka(config: Config, logger: Logger): Kafka {
  return createKafka(kafkaConnection(config), logger);
}
