/**
 * Checks at start that both sides accept our TLS settings and credentials, so that a
 * misconfiguration ends the worker at once with one line naming the side, the cause and
 * what to check, instead of retries that end, a minute later, in "Closed connection".
 * An outage (nothing listening, a timeout) is not a misconfiguration: the worker then
 * starts as before and waits for the server.
 */
import type { Logger } from "pino";
import type { Config } from "../config/schema.ts";
import { TransferError } from "../errors.ts";
import { createElasticsearchClient, elasticsearchReachable } from "../sink/es-client.ts";
import { createKafka } from "../source/client/kafka-client.ts";
import { explainKafkaFailure } from "../source/client/kafka-diagnosis.ts";
import { kafkaConnection, kafkaFailureContext } from "./kafka.ts";

const PREFLIGHT_TIMEOUT_MS = 20_000;

function withTimeout<T>(work: Promise<T>, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<T>((resolve) => {
    timer = setTimeout(() => { resolve(fallback); }, PREFLIGHT_TIMEOUT_MS);
  });
  return Promise.race([work, timeout]).finally(() => { clearTimeout(timer); });
}

/** What preflight learnt about Kafka: a problem, or the brokers of the cluster (memory-model.ts). */
interface KafkaFacts {
  readonly problem?: string;
  readonly brokers?: number;
}

/** Connects once, without retries, and reads what the worker will need: metadata, the group's offsets, the brokers. */
async function kafkaFacts(config: Config, logger: Logger): Promise<KafkaFacts> {
  const kafka = createKafka(kafkaConnection(config), logger.child({}, { level: "silent" }), 0);
  const admin = kafka.admin();
  try {
    await admin.connect();
    const topics = config.kafka.topics;
    if (topics.length > 0) {
      await admin.fetchTopicMetadata({ topics });
      await admin.fetchOffsets({ groupId: config.kafka.groupId, topics });
    }
    const cluster = await admin.describeCluster();
    return { brokers: cluster.brokers.length };
  } catch (error) {
    return { problem: await explainKafkaFailure(error, kafkaFailureContext(config)) };
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

async function elasticsearchProblem(config: Config): Promise<string | undefined> {
  const client = createElasticsearchClient(config.elasticsearch);
  try {
    const result = await elasticsearchReachable(client, Math.min(10_000, config.elasticsearch.requestTimeoutMs), config.elasticsearch.nodes);
    return result.misconfigured === true ? result.reason : undefined;
  } finally {
    await client.close().catch(() => undefined);
  }
}

export interface PreflightFacts {
  /** The Kafka cluster's brokers; undefined when Kafka did not answer in time. */
  readonly brokers: number | undefined;
}

/** Throws a non-retriable TransferError naming every misconfiguration found. */
export async function preflight(config: Config, logger: Logger): Promise<PreflightFacts> {
  const [kafka, es] = await Promise.all([
    withTimeout(kafkaFacts(config, logger), {}),
    withTimeout(elasticsearchProblem(config), undefined),
  ]);
  const found = [kafka.problem, es].filter((p) => p !== undefined);
  if (found.length > 0) throw new TransferError(found.join("; "), { retriable: false });
  return { brokers: kafka.brokers };
}
