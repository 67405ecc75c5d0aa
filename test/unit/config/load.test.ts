import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError } from "../../../src/errors.ts";
import { DEFAULT_CONFIG_FILE, loadConfig } from "../../../src/config/load.ts";
import type { LoadOptions } from "../../../src/config/load.ts";

const dir = mkdtempSync(join(tmpdir(), "kest-config-"));
after(() => {
  rmSync(dir, { recursive: true, force: true });
});
let fileCount = 0;
function file(content: unknown): string {
  fileCount += 1;
  const path = join(dir, `c${fileCount}.json`);
  writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content));
  return path;
}

const TOPICS = { KAFKA_TOPICS: "orders" };
/** Isolated from the developer's environment and the package's default.json. */
function load(options: LoadOptions = {}): ReturnType<typeof loadConfig> {
  return loadConfig({ argv: [], files: [], ...options, env: { ...TOPICS, ...options.env } });
}

function fails(options: LoadOptions, ...expected: (string | RegExp)[]): string {
  let message = "";
  assert.throws(
    () => load(options),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError, String(error));
      assert.equal(error.retriable, false);
      message = error.message;
      return true;
    },
  );
  assert.ok(message.startsWith("config: "), message);
  assert.ok(!message.includes("\n"), "one line");
  assert.ok(!message.includes("    at "), "no stack trace");
  for (const e of expected) {
    if (typeof e === "string") assert.ok(message.includes(e), `${message}\n  should include: ${e}`);
    else assert.match(message, e);
  }
  return message;
}

describe("loadConfig: defaults", () => {
  test("loads the schema defaults", () => {
    const c = load();
    assert.deepEqual(c.kafka.brokers, ["127.0.0.1:9092"]);
    assert.equal(c.kafka.groupId, "kafka-es-transfer");
    assert.deepEqual(c.kafka.topics, ["orders"]);
    assert.equal(c.kafka.fromBeginning, true);
    assert.deepEqual(c.elasticsearch.nodes, ["http://127.0.0.1:9200"]);
    assert.equal(c.index.template, "{topic}");
    assert.deepEqual(c.index.topicMap, {});
    assert.equal(c.document.idStrategy, "coordinates");
    assert.equal(c.document.timestampField, "@timestamp");
    assert.equal(c.document.metadataField, "");
    assert.equal(c.bulk.workers, 2);
    assert.equal(c.bulk.onPermanentError, "skip");
    assert.equal(c.queue.lowWatermarkRatio, 0.5);
    assert.equal(c.telemetry.metricsPort, 9464);
    assert.equal(c.telemetry.logLevel, "info");
    assert.equal(c.shutdown.drainTimeoutMs, 30000);
  });

  test("the package's config/default.json is found from the module, and loads", () => {
    assert.equal(DEFAULT_CONFIG_FILE, fileURLToPath(new URL("../../../config/default.json", import.meta.url)));
    const c = loadConfig({ argv: [], env: TOPICS });
    assert.deepEqual(c.kafka.topics, ["orders"]);
  });

  test("without topics or pattern it fails with a clear message", () => {
    assert.throws(() => loadConfig({ argv: [], files: [], env: {} }), /kafka\.topics \/ kafka\.topicPattern: no topic to consume/);
  });

  test("a pattern alone is enough", () => {
    const c = loadConfig({ argv: [], files: [], env: { KAFKA_TOPIC_PATTERN: "^logs-.*$" } });
    assert.equal(c.kafka.topicPattern, "^logs-.*$");
    assert.deepEqual(c.kafka.topics, []);
  });
});

describe("loadConfig: environment", () => {
  test("comma lists, trimmed", () => {
    const c = load({ env: { KAFKA_BROKERS: "k1:9092, k2:9093,,", KAFKA_TOPICS: "a, b.c ,d_e", ES_NODE: "https://es1:9200,http://es2:9200" } });
    assert.deepEqual(c.kafka.brokers, ["k1:9092", "k2:9093"]);
    assert.deepEqual(c.kafka.topics, ["a", "b.c", "d_e"]);
    assert.deepEqual(c.elasticsearch.nodes, ["https://es1:9200", "http://es2:9200"]);
  });

  test("numbers, including METRICS_PORT=0", () => {
    const c = load({ env: { METRICS_PORT: "0", BULK_WORKERS: " 8 ", QUEUE_LOW_WATERMARK_RATIO: "0.25" } });
    assert.equal(c.telemetry.metricsPort, 0);
    assert.equal(c.bulk.workers, 8);
    assert.equal(c.queue.lowWatermarkRatio, 0.25);
  });

  test("booleans", () => {
    assert.equal(load({ env: { KAFKA_FROM_BEGINNING: "false" } }).kafka.fromBeginning, false);
    assert.equal(load({ env: { KAFKA_FROM_BEGINNING: "0" } }).kafka.fromBeginning, false);
    assert.equal(load({ env: { KAFKA_SSL: "TRUE" } }).kafka.ssl, true);
    fails({ env: { KAFKA_SSL: "maybe" } }, 'kafka.ssl = "maybe" (from KAFKA_SSL): must be true or false');
  });

  test("enumerations, topic map and timezone", () => {
    const c = load({
      env: { ES_OP_TYPE: "create", DOC_ID_STRATEGY: "none", INDEX_TOPIC_MAP: '{"orders":"shop-{yyyy.MM}"}', INDEX_TIMEZONE: "+02:00", LOG_LEVEL: "silent" },
    });
    assert.equal(c.document.opType, "create");
    assert.equal(c.document.idStrategy, "none");
    assert.equal(load({ env: { DOC_ID_STRATEGY: "key" } }).document.idStrategy, "key");
    assert.deepEqual(c.index.topicMap, { orders: "shop-{yyyy.MM}" });
    assert.equal(c.index.timezone, "+02:00");
    assert.equal(c.telemetry.logLevel, "silent");
    fails({ env: { ES_OP_TYPE: "upsert" } }, 'document.opType = "upsert" (from ES_OP_TYPE): must be one of "index", "create"');
  });

  test("an empty variable counts as unset", () => {
    const c = load({ env: { BULK_WORKERS: "", KAFKA_BROKERS: "" } });
    assert.equal(c.bulk.workers, 2);
    assert.deepEqual(c.kafka.brokers, ["127.0.0.1:9092"]);
  });

  test("environment wins over files", () => {
    const c = load({ files: [file({ bulk: { workers: 5 } })], env: { BULK_WORKERS: "7" } });
    assert.equal(c.bulk.workers, 7);
  });
});

describe("loadConfig: files", () => {
  test("--config FILE, --config=FILE and CONFIG_FILE", () => {
    const f = file({ kafka: { groupId: "g1" } });
    assert.equal(load({ argv: ["start", "--config", f] }).kafka.groupId, "g1");
    assert.equal(load({ argv: [`--config=${f}`] }).kafka.groupId, "g1");
    assert.equal(load({ env: { CONFIG_FILE: f } }).kafka.groupId, "g1");
  });

  test("--config wins over CONFIG_FILE; both over the base files", () => {
    const base = file({ kafka: { groupId: "base", clientId: "base" }, bulk: { workers: 3 } });
    const viaEnv = file({ kafka: { groupId: "env" } });
    const viaArg = file({ kafka: { groupId: "arg" } });
    const c = load({ files: [base], argv: ["--config", viaArg], env: { CONFIG_FILE: viaEnv } });
    assert.equal(c.kafka.groupId, "arg");
    assert.equal(c.kafka.clientId, "base");
    assert.equal(c.bulk.workers, 3);
  });

  test("numbers written as strings are accepted; // keys are comments", () => {
    const c = load({ files: [file({ "//": "top comment", bulk: { "// workers": "doc", workers: "4" }, index: { topicMap: { a: "x-{topic}" } } })] });
    assert.equal(c.bulk.workers, 4);
    assert.deepEqual(c.index.topicMap, { a: "x-{topic}" });
  });

  test("config/example.json is valid", () => {
    const example = fileURLToPath(new URL("../../../config/example.json", import.meta.url));
    const c = load({ argv: ["--config", example], env: { KAFKA_SASL_PASSWORD: "pw", ES_PASSWORD: "pw" } });
    assert.equal(c.index.template, "logs-{topic}-{yyyy.MM.dd}");
  });

  test("--config without a file name", () => {
    fails({ argv: ["--config"] }, "--config needs a file name");
  });

  test("missing file", () => {
    fails({ argv: ["--config", join(dir, "nope.json")] }, "cannot read file", "nope.json", "ENOENT");
  });

  test("invalid JSON does not echo the file's content", () => {
    const message = fails({ files: [file('{"elasticsearch": {"password": s3cr3t}}')] }, "is not valid JSON");
    assert.ok(!message.includes("s3cr3t"), message);
  });

  test("a file must hold an object", () => {
    fails({ files: [file("[1]")] }, "must hold a JSON object");
  });
});

describe("loadConfig: rejected values", () => {
  test("unknown key, with its name and a suggestion", () => {
    fails({ files: [file({ kafka: { Brokers: ["a:1"] } })] }, 'unknown key "kafka.Brokers"', 'did you mean "kafka.brokers"?');
    fails({ files: [file({ kafak: {} })] }, 'unknown key "kafak"');
    fails({ files: [file({ bulk: { workers: 2, extra: 1 } })] }, 'unknown key "bulk.extra"');
  });

  test("a group that is not an object", () => {
    fails({ files: [file({ kafka: "oops" })] }, 'kafka = "oops"', "must be an object");
  });

  test("an object where a value belongs", () => {
    fails({ files: [file({ bulk: { workers: { a: { b: 1 } } } })] }, "bulk.workers = ", "must be an integer from 1 to 64");
  });

  test("bad numbers name the key and the value as written", () => {
    fails({ env: { BULK_WORKERS: "abc" } }, 'bulk.workers = "abc" (from BULK_WORKERS): must be an integer from 1 to 64');
    fails({ env: { BULK_WORKERS: "12abc" } }, 'bulk.workers = "12abc"');
    fails({ files: [file({ bulk: { workers: 0 } })] }, "bulk.workers = 0:");
    fails({ files: [file({ bulk: { workers: 1.5 } })] }, "bulk.workers = 1.5:");
    fails({ env: { QUEUE_MAX_RECORDS: "-1" } }, "queue.maxRecords = -1 (from QUEUE_MAX_RECORDS): must be a positive integer");
    fails({ env: { METRICS_PORT: "70000" } }, "telemetry.metricsPort = 70000");
    fails({ env: { QUEUE_LOW_WATERMARK_RATIO: "1" } }, "queue.lowWatermarkRatio = 1");
  });

  test("several problems are reported together on one line", () => {
    fails({ env: { BULK_WORKERS: "x", BULK_LINGER_MS: "y" } }, "bulk.workers", "bulk.lingerMs", "; ");
  });

  test("bad brokers, nodes and topics", () => {
    fails({ env: { KAFKA_BROKERS: "localhost" } }, 'broker "localhost" must be host:port');
    fails({ env: { ES_NODE: "ftp://x" } }, "must be an http:// or https:// URL");
    fails({ env: { KAFKA_TOPICS: "a,b c" } }, 'topic "b c" is not a valid Kafka topic name');
  });

  test("credentials in a node URL are refused and not shown", () => {
    const message = fails({ env: { ES_NODE: "https://elastic:hunter2@es:9200" } }, "must not carry credentials");
    assert.ok(!message.includes("hunter2"), message);
  });

  test("bad regular expression", () => {
    fails({ env: { KAFKA_TOPIC_PATTERN: "logs-(" } }, 'kafka.topicPattern = "logs-(" (from KAFKA_TOPIC_PATTERN): is not a valid regular expression');
  });

  test("bad index templates, prefixes, maps and timezones", () => {
    fails({ env: { INDEX_TEMPLATE: "Logs-{topic}" } }, 'index.template = "Logs-{topic}" (from INDEX_TEMPLATE): uppercase "L"');
    fails({ files: [file({ index: { template: "logs-{topic}-{yyyy.mm.dd}" } })] }, "index.template", "unknown token {yyyy.mm.dd}");
    fails({ env: { INDEX_TEMPLATE: "{topic" } }, "unbalanced braces");
    fails({ env: { INDEX_PREFIX: "_kafka" } }, 'index.prefix = "_kafka"', 'must not start with "_"');
    fails({ env: { INDEX_PREFIX: "k-{topic}" } }, "index.prefix", "no braces");
    fails({ env: { INDEX_TOPIC_MAP: '{"orders":"Orders"}' } }, "index.topicMap", 'template "Orders" for topic "orders"');
    fails({ env: { INDEX_TOPIC_MAP: "not json" } }, 'index.topicMap = "not json"', "must be a JSON object");
    fails({ env: { INDEX_TOPIC_MAP: '{"a":1}' } }, 'the template for topic "a" must be a string');
    fails({ env: { INDEX_TIMEZONE: "Europe/Paris" } }, 'index.timezone = "Europe/Paris"');
    fails({ env: { INDEX_PREFIX: "a".repeat(250), INDEX_TEMPLATE: "{topic}-{yyyy.MM.dd}" } }, "index.template", "with index.prefix", "255 bytes");
  });

  test("cross-key rules", () => {
    fails({ env: { KAFKA_HEARTBEAT_INTERVAL_MS: "30000" } }, "kafka.heartbeatIntervalMs = 30000: must be lower than kafka.sessionTimeoutMs (30000)");
    fails({ env: { KAFKA_SASL_MECHANISM: "plain" } }, "kafka.sasl.username", "kafka.sasl.password: required");
    fails({ env: { KAFKA_SASL_USERNAME: "u" } }, "kafka.sasl.mechanism");
    fails({ env: { ES_API_KEY: "k", ES_USERNAME: "u", ES_PASSWORD: "p" } }, "give only one way to authenticate");
    fails({ env: { ES_USERNAME: "u" } }, "elasticsearch.password: required");
    fails({ env: { ES_CA_FILE: join(dir, "missing.pem") } }, "elasticsearch.caFile", "cannot read that file");
    fails({ env: { DOC_METADATA_FIELD: "message" } }, 'document.metadataField = "message": collides with document.messageField');
    fails({ env: { DOC_TIMESTAMP_FIELD: "message_base64" } }, "document.timestampField", "collides");
    fails({ env: { BULK_RETRY_INITIAL_MS: "5000", BULK_RETRY_MAX_MS: "1000" } }, "bulk.retryInitialMs = 5000: must not exceed bulk.retryMaxMs (1000)");
    fails({ env: { ES_OP_TYPE: "create", DOC_ID_STRATEGY: "key" } }, 'document.opType = "create": cannot be used with document.idStrategy = "key"');
  });

  test("valid SASL and API key settings pass", () => {
    const c = load({ env: { KAFKA_SASL_MECHANISM: "scram-sha-512", KAFKA_SASL_USERNAME: "u", KAFKA_SASL_PASSWORD: "p", ES_API_KEY: "k" } });
    assert.equal(c.kafka.sasl.mechanism, "scram-sha-512");
    assert.equal(c.elasticsearch.apiKey, "k");
  });

  test("sensitive values never appear in messages", () => {
    const message = fails({ files: [file({ elasticsearch: { password: 123456789 } })] }, "elasticsearch.password = [redacted]", "must be a string");
    assert.ok(!message.includes("123456789"), message);
    const cross = fails({ env: { ES_PASSWORD: "topsecret" } }, "elasticsearch.username: required");
    assert.ok(!cross.includes("topsecret"), cross);
  });
});

describe("loadConfig: dead-letter topic and failure policy", () => {
  test("dlq is the default policy when DLQ_TOPIC is set, skip otherwise; an explicit policy wins", () => {
    assert.equal(load().bulk.onPermanentError, "skip");
    assert.equal(load({ env: { DLQ_TOPIC: "orders-dlq" } }).bulk.onPermanentError, "dlq");
    assert.equal(load({ env: { DLQ_TOPIC: "orders-dlq", ON_PERMANENT_ERROR: "stop" } }).bulk.onPermanentError, "stop");
    assert.equal(load({ env: { DLQ_TOPIC: "orders-dlq" } }).deadLetter.topic, "orders-dlq");
  });

  test("the combination is checked: dlq needs a topic, a valid name, never a consumed topic", () => {
    fails({ env: { ON_PERMANENT_ERROR: "dlq" } }, 'bulk.onPermanentError = "dlq": needs a dead-letter topic', "DLQ_TOPIC");
    fails({ env: { DLQ_TOPIC: "bad topic!" } }, 'deadLetter.topic = "bad topic!"', "not a valid Kafka topic name");
    fails({ env: { DLQ_TOPIC: "orders" } }, 'deadLetter.topic = "orders": is also in kafka.topics');
    fails({ env: { DLQ_TOPIC: "logs-dlq", KAFKA_TOPIC_PATTERN: "logs-.*" } }, 'deadLetter.topic = "logs-dlq": matches kafka.topicPattern');
    fails({ env: { ON_PERMANENT_ERROR: "later" } }, "bulk.onPermanentError");
  });
});

describe("loadConfig: per-topic settings, pipelines, upserts and field routing", () => {
  test("a valid section loads as written, from a file or TOPIC_SETTINGS", () => {
    const section = { orders: { opType: "update", idStrategy: "key", pipeline: "" }, "/logs-.*/": { indexTemplate: "logs-{field:service.name}-{yyyy.MM.dd}", pipeline: "logs" } };
    assert.deepEqual(load({ files: [file({ topicSettings: section })] }).topicSettings, section);
    assert.deepEqual(load({ env: { TOPIC_SETTINGS: JSON.stringify(section) } }).topicSettings, section);
    const c = load({ env: { ES_PIPELINE: "enrich", INDEX_MAX_FIELD_VALUES: "20" } });
    assert.equal(c.document.pipeline, "enrich");
    assert.equal(c.index.maxFieldValues, 20);
  });

  test("topic names with dots are keys, not nesting (index.topicMap too)", () => {
    assert.deepEqual(load({ env: { INDEX_TOPIC_MAP: '{"app.logs":"app-{yyyy.MM}"}' } }).index.topicMap, { "app.logs": "app-{yyyy.MM}" });
    assert.deepEqual(load({ files: [file({ index: { topicMap: { "app.logs": "x" } } })] }).index.topicMap, { "app.logs": "x" });
    assert.deepEqual(load({ files: [file({ topicSettings: { "app.logs": { pipeline: "a" } } })], env: { TOPIC_SETTINGS: '{"b.c":{"pipeline":"b"}}' } }).topicSettings, { "b.c": { pipeline: "b" } }, "the environment wins");
  });

  test("one line naming the topic key, the setting and the bad value; unknown settings refused", () => {
    fails({ files: [file({ topicSettings: { orders: { opType: "upsert" } } })] }, 'topicSettings = {"orders":{...}}', '["orders"].opType = "upsert": must be one of "index", "create", "update"');
    fails({ env: { TOPIC_SETTINGS: '{"orders":{"pipline":"p"}}' } }, '["orders"]: unknown setting "pipline"');
    fails({ env: { TOPIC_SETTINGS: '{"orders":{"valueFormat":"xml"}}' } }, '["orders"].valueFormat = "xml": must be one of "json", "avro", "protobuf", "json-schema", "auto"');
    fails({ env: { TOPIC_SETTINGS: '{"bad topic":{}}' } }, '["bad topic"]: the key is neither a Kafka topic name');
    fails({ env: { TOPIC_SETTINGS: "not json" } }, "topicSettings", "must be a JSON object of topic name or /regex/");
    fails({ env: { TOPIC_SETTINGS: '{"orders":{"indexTemplate":"Orders"}}' } }, '["orders"].indexTemplate = "Orders": uppercase "O"');
    fails({ env: { ES_PIPELINE: " p" } }, 'document.pipeline = " p" (from ES_PIPELINE): must not start or end with spaces');
  });

  test("combinations that cannot work are refused, where they are set", () => {
    fails({ env: { ES_OP_TYPE: "update" } }, 'document.opType = "update": needs document.idStrategy = "key"');
    fails({ env: { ES_OP_TYPE: "update", DOC_ID_STRATEGY: "key", ES_PIPELINE: "p" } }, "Elasticsearch runs no ingest pipeline on updates");
    fails({ env: { TOPIC_SETTINGS: '{"users":{"opType":"update"}}' } }, 'topicSettings["users"].opType = "update": needs topicSettings["users"].idStrategy = "key"');
    fails({ env: { ES_PIPELINE: "p", TOPIC_SETTINGS: '{"users":{"opType":"update","idStrategy":"key"}}' } }, 'topicSettings["users"].opType = "update"', 'topicSettings["users"].pipeline = "p" would be ignored');
    fails({ env: { INDEX_DATA_STREAM: "true", TOPIC_SETTINGS: '{"/a.*/":{"opType":"index"}}' } }, 'topicSettings["/a.*/"].opType = "index": indexTemplates.dataStream is on');
    fails({ env: { TOPIC_SETTINGS: '{"orders":{"valueFormat":"avro"}}' } }, 'topicSettings["orders"].valueFormat = "avro": needs the schema registry; set schemaRegistry.url (SCHEMA_REGISTRY_URL)');
    fails({ env: { INDEX_TOPIC_MAP: '{"orders":"o"}', TOPIC_SETTINGS: '{"orders":{"indexTemplate":"p"}}' } }, "both set an index template for the topic");
    fails({ env: { DOC_TOMBSTONES: "delete", DOC_ID_STRATEGY: "key", INDEX_TEMPLATE: "{field:svc}" } }, 'index.template = "{field:svc}": routes by a document field');
    // An exact topic inherits from its patterns: the pattern's update needs the exact entry's key ids.
    assert.doesNotThrow(() => load({ env: { TOPIC_SETTINGS: '{"/u.*/":{"opType":"update","idStrategy":"key"},"users":{"pipeline":""}}' } }));
    assert.doesNotThrow(() => load({ env: { ES_OP_TYPE: "update", DOC_ID_STRATEGY: "key", DOC_TOMBSTONES: "delete" } }));
  });
});
