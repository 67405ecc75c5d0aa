import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { schemaLeaves } from "../../../src/config/schema.ts";

describe("config schema", () => {
  test("every key has a doc, a format and a default", () => {
    for (const { path, item } of schemaLeaves) {
      assert.equal(typeof item.doc, "string", `${path}.doc`);
      assert.ok((item.doc ?? "").length > 5, `${path}.doc`);
      assert.ok(item.format !== undefined, `${path}.format`);
      assert.ok("default" in item, `${path}.default`);
    }
  });

  test("environment variable names are unique", () => {
    const names = schemaLeaves.map((l) => l.item.env).filter((e): e is string => typeof e === "string");
    assert.equal(new Set(names).size, names.length);
  });

  test("the documented variables exist", () => {
    const byEnv = new Map(schemaLeaves.map((l) => [l.item.env, l.path]));
    const expected: Record<string, string> = {
      KAFKA_BROKERS: "kafka.brokers",
      KAFKA_GROUP_ID: "kafka.groupId",
      KAFKA_TOPICS: "kafka.topics",
      KAFKA_TOPIC_PATTERN: "kafka.topicPattern",
      KAFKA_FROM_BEGINNING: "kafka.fromBeginning",
      KAFKA_PARTITIONS_CONCURRENCY: "kafka.partitionsConsumedConcurrently",
      KAFKA_COMMIT_INTERVAL_MS: "kafka.commitIntervalMs",
      KAFKA_LAG_INTERVAL_MS: "kafka.lagIntervalMs",
      KAFKA_TOPIC_REFRESH_MS: "kafka.topicRefreshIntervalMs",
      KAFKA_SSL: "kafka.ssl",
      KAFKA_SASL_PASSWORD: "kafka.sasl.password",
      ES_NODE: "elasticsearch.nodes",
      ES_USERNAME: "elasticsearch.username",
      ES_PASSWORD: "elasticsearch.password",
      ES_API_KEY: "elasticsearch.apiKey",
      ES_CA_FILE: "elasticsearch.caFile",
      ES_REQUEST_TIMEOUT_MS: "elasticsearch.requestTimeoutMs",
      INDEX_TEMPLATE: "index.template",
      INDEX_PREFIX: "index.prefix",
      INDEX_TOPIC_MAP: "index.topicMap",
      INDEX_TIMEZONE: "index.timezone",
      ES_OP_TYPE: "document.opType",
      DOC_ID_STRATEGY: "document.idStrategy",
      DOC_METADATA_FIELD: "document.metadataField",
      QUEUE_MAX_RECORDS: "queue.maxRecords",
      QUEUE_MAX_BYTES: "queue.maxBytes",
      BULK_WORKERS: "bulk.workers",
      BULK_MAX_DOCUMENTS: "bulk.maxDocuments",
      BULK_MAX_BYTES: "bulk.maxBytes",
      BULK_LINGER_MS: "bulk.lingerMs",
      ON_PERMANENT_ERROR: "bulk.onPermanentError",
      METRICS_HOST: "telemetry.metricsHost",
      METRICS_PORT: "telemetry.metricsPort",
      LOG_LEVEL: "telemetry.logLevel",
      SHUTDOWN_TIMEOUT_MS: "shutdown.drainTimeoutMs",
    };
    for (const [env, path] of Object.entries(expected)) assert.equal(byEnv.get(env), path, env);
  });
});
