/**
 * The configuration schema: every key with its documentation, format, default,
 * environment variable and sensitivity. This is the one place a setting is described;
 * `check-config` and the error messages are derived from it.
 *
 * Precedence (lowest first): defaults here, config/default.json, the file given by
 * --config or CONFIG_FILE, environment variables. An empty environment variable counts
 * as unset. Keys starting with "//" in JSON files are comments.
 */
import type convict from "convict";
import { RECORD_FORMATS, type RecordFormat } from "../pipeline/schemas/record-format.ts";
import type { RegistryClientOptions } from "../pipeline/schemas/registry-client.ts";
import type { TombstonePolicy } from "../pipeline/decoder.ts";
import { ID_STRATEGIES, OP_TYPES, type IdStrategy, type OpType, type TopicOverrides } from "../pipeline/topic-settings.ts";
import { PERMANENT_ERROR_SETTINGS, type PermanentErrorSetting } from "../shared/failure-policy-names.ts";
import type { ElasticsearchOptions } from "../sink/es-client.ts";
import type { KafkaTlsOptions } from "../source/auth/kafka-security.ts";
import type { KafkaSaslOptions, SaslMechanismName } from "../source/auth/sasl-mechanisms.ts";
import {
  BROKER_LIST,
  FIELD_NAME,
  FLAG,
  INDEX_PATTERN_LIST,
  INDEX_PREFIX,
  INDEX_TEMPLATE,
  OPTIONAL_FIELD_NAME,
  OPTIONAL_TOPIC,
  PIPELINE,
  RATIO,
  REGEX_SOURCE,
  SASL_MECHANISM,
  SASL_MECHANISMS_DOC,
  SHA256_FINGERPRINT,
  REQUIRED_TEXT,
  TEXT,
  TOPIC_LIST,
  TOPIC_MAP,
  TOPIC_SETTINGS,
  URL_LIST,
  UTC_OFFSET,
  integer,
} from "./formats.ts";

/** "" = no SASL. */
export type SaslMechanism = "" | SaslMechanismName;
export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
/** "" only in the schema: the loader resolves it to "dlq" when deadLetter.topic is set, else "skip". */
export type PermanentErrorPolicy = PermanentErrorSetting;

export interface Config {
  readonly kafka: {
    readonly brokers: string[];
    readonly clientId: string;
    readonly groupId: string;
    readonly topics: string[];
    readonly topicPattern: string;
    readonly fromBeginning: boolean;
    readonly sessionTimeoutMs: number;
    readonly heartbeatIntervalMs: number;
    readonly rebalanceTimeoutMs: number;
    readonly partitionsConsumedConcurrently: number;
    readonly maxBytesPerPartition: number;
    readonly maxBytes: number;
    readonly maxWaitTimeMs: number;
    readonly commitIntervalMs: number;
    readonly lagIntervalMs: number;
    readonly topicRefreshIntervalMs: number;
    readonly ssl: boolean;
    readonly tls: KafkaTlsOptions;
    /** The mechanism in any case; kafka-security lowercases it. */
    readonly sasl: KafkaSaslOptions & { readonly mechanism: SaslMechanism };
  };
  readonly elasticsearch: ElasticsearchOptions;
  readonly index: {
    readonly template: string;
    readonly prefix: string;
    readonly topicMap: Readonly<Record<string, string>>;
    readonly timezone: string;
    readonly maxFieldValues: number;
  };
  readonly indexTemplates: {
    readonly install: boolean;
    readonly name: string;
    readonly patterns: string[];
    readonly priority: number;
    readonly overwrite: boolean;
    readonly shards: number;
    readonly replicas: number;
    readonly totalFieldsLimit: number;
    readonly dataStream: boolean;
  };
  readonly document: {
    readonly opType: OpType;
    readonly idStrategy: IdStrategy;
    readonly pipeline: string;
    readonly timestampField: string;
    readonly addTimestamp: boolean;
    readonly metadataField: string;
    readonly messageField: string;
    readonly tombstones: TombstonePolicy;
  };
  readonly format: {
    readonly value: RecordFormat;
    readonly key: RecordFormat;
  };
  readonly schemaRegistry: RegistryClientOptions & {
    readonly cacheSize: number;
  };
  /** Exact topic name or /regex/ -> settings overriding the global ones for those topics. */
  readonly topicSettings: Readonly<Record<string, TopicOverrides>>;
  readonly queue: {
    readonly maxRecords: number;
    readonly maxBytes: number;
    readonly lowWatermarkRatio: number;
  };
  readonly bulk: {
    readonly workers: number;
    readonly adaptiveConcurrency: boolean;
    readonly maxDocuments: number;
    readonly maxBytes: number;
    readonly lingerMs: number;
    readonly retryInitialMs: number;
    readonly retryMaxMs: number;
    readonly holdMaxMs: number;
    readonly onPermanentError: PermanentErrorPolicy;
  };
  readonly deadLetter: {
    readonly topic: string;
  };
  readonly telemetry: {
    readonly metricsHost: string;
    readonly metricsPort: number;
    readonly logLevel: LogLevel;
  };
  readonly shutdown: {
    readonly drainTimeoutMs: number;
  };
}

const POSITIVE = integer(1);
const HOUR_MS = 3_600_000;

export const configSchema: convict.Schema<Config> = {
  kafka: {
    brokers: {
      doc: "Bootstrap brokers, host:port (comma-separated in the environment).",
      format: BROKER_LIST,
      default: ["127.0.0.1:9092"],
      env: "KAFKA_BROKERS",
    },
    clientId: {
      doc: "Kafka client id, visible in broker logs and quotas.",
      format: REQUIRED_TEXT,
      default: "kafka-es-transfer",
      env: "KAFKA_CLIENT_ID",
    },
    groupId: {
      doc: "Consumer group: all replicas with the same group share the partitions; offsets are committed under it.",
      format: REQUIRED_TEXT,
      default: "kafka-es-transfer",
      env: "KAFKA_GROUP_ID",
    },
    topics: {
      doc: "Topics to consume (comma-separated in the environment). Set this, kafka.topicPattern, or both.",
      format: TOPIC_LIST,
      default: [],
      env: "KAFKA_TOPICS",
    },
    topicPattern: {
      doc: "JavaScript regular expression matched against whole topic names (anchored, as in Kafka's Java clients: \"logs-.*\" takes logs-a, not old-logs-a); matching topics are consumed, new ones found every kafka.topicRefreshIntervalMs. \"\" = none.",
      format: REGEX_SOURCE,
      default: "",
      env: "KAFKA_TOPIC_PATTERN",
    },
    fromBeginning: {
      doc: "Where a group without committed offsets starts: true = earliest offset, false = only new records.",
      format: FLAG,
      default: true,
      env: "KAFKA_FROM_BEGINNING",
    },
    sessionTimeoutMs: {
      doc: "Consumer group session timeout (ms): a member silent this long is removed and its partitions reassigned. Must lie within the brokers' group.min/max.session.timeout.ms.",
      format: integer(1000, HOUR_MS),
      default: 30000,
      env: "KAFKA_SESSION_TIMEOUT_MS",
    },
    heartbeatIntervalMs: {
      doc: "Heartbeat interval (ms); must be lower than kafka.sessionTimeoutMs (about a third of it).",
      format: integer(100, HOUR_MS),
      default: 3000,
      env: "KAFKA_HEARTBEAT_INTERVAL_MS",
    },
    rebalanceTimeoutMs: {
      doc: "How long (ms) the group coordinator waits for members to rejoin during a rebalance.",
      format: integer(1000, HOUR_MS),
      default: 60000,
      env: "KAFKA_REBALANCE_TIMEOUT_MS",
    },
    partitionsConsumedConcurrently: {
      doc: "Partitions whose batches are handed to the queue concurrently (kafkajs partitionsConsumedConcurrently).",
      format: integer(1, 1000),
      default: 4,
      env: "KAFKA_PARTITIONS_CONCURRENCY",
    },
    maxBytesPerPartition: {
      doc: "Most bytes fetched per partition per fetch request.",
      format: POSITIVE,
      default: 1048576,
      env: "KAFKA_MAX_BYTES_PER_PARTITION",
    },
    maxBytes: {
      doc: "Most bytes per fetch response.",
      format: POSITIVE,
      default: 10485760,
      env: "KAFKA_MAX_BYTES",
    },
    maxWaitTimeMs: {
      doc: "Longest time (ms) a fetch waits on the broker for new data. kafkajs also sleeps this long between fetches while every partition is paused, so it bounds how quickly intake resumes after back-pressure.",
      format: integer(10, 60_000),
      default: 100,
      env: "KAFKA_MAX_WAIT_MS",
    },
    commitIntervalMs: {
      doc: "How often (ms) offsets acknowledged by Elasticsearch are committed. Shorter = fewer redeliveries after a crash, more commit requests.",
      format: integer(10, HOUR_MS),
      default: 1000,
      env: "KAFKA_COMMIT_INTERVAL_MS",
    },
    lagIntervalMs: {
      doc: "How often (ms) the consumer lag gauge is refreshed from the brokers.",
      format: integer(100, HOUR_MS),
      default: 5000,
      env: "KAFKA_LAG_INTERVAL_MS",
    },
    topicRefreshIntervalMs: {
      doc: "How often (ms) a kafka.topicPattern subscription looks for new matching topics.",
      format: integer(1000, 24 * HOUR_MS),
      default: 30000,
      env: "KAFKA_TOPIC_REFRESH_MS",
    },
    ssl: {
      doc: "Connect to the brokers over TLS (needed for kafka.tls.*).",
      format: FLAG,
      default: false,
      env: "KAFKA_SSL",
    },
    tls: {
      caFile: {
        doc: "PEM file of the certificate authorities that signed the brokers' certificates (a private CA); \"\" = the system's. Trusted for Kafka only.",
        format: TEXT,
        default: "",
        env: "KAFKA_SSL_CA_FILE",
      },
      certFile: {
        doc: "PEM client certificate (chain) for mutual TLS, with kafka.tls.keyFile; \"\" = none.",
        format: TEXT,
        default: "",
        env: "KAFKA_SSL_CERT_FILE",
      },
      keyFile: {
        doc: "PEM private key of kafka.tls.certFile.",
        format: TEXT,
        default: "",
        env: "KAFKA_SSL_KEY_FILE",
      },
      keyPassphrase: {
        doc: "Passphrase of an encrypted kafka.tls.keyFile (KAFKA_SSL_KEY_PASSPHRASE_FILE: read it from a file).",
        format: TEXT,
        default: "",
        env: "KAFKA_SSL_KEY_PASSPHRASE",
        sensitive: true,
      },
      servername: {
        doc: "Name the brokers' certificates must carry, when it differs from the host in kafka.brokers (SNI and verification); \"\" = the broker host.",
        format: TEXT,
        default: "",
        env: "KAFKA_SSL_SERVERNAME",
      },
      rejectUnauthorized: {
        doc: "Refuse brokers whose certificate does not verify. Turn off only for tests.",
        format: FLAG,
        default: true,
        env: "KAFKA_SSL_REJECT_UNAUTHORIZED",
      },
    },
    sasl: {
      mechanism: {
        doc: `SASL mechanism, any case: ${SASL_MECHANISMS_DOC}. Usually with kafka.ssl.`,
        format: SASL_MECHANISM,
        default: "",
        env: "KAFKA_SASL_MECHANISM",
      },
      username: {
        doc: "SASL username (plain, scram-*).",
        format: TEXT,
        default: "",
        env: "KAFKA_SASL_USERNAME",
      },
      password: {
        doc: "SASL password (KAFKA_SASL_PASSWORD_FILE: read it from a file).",
        format: TEXT,
        default: "",
        env: "KAFKA_SASL_PASSWORD",
        sensitive: true,
      },
      oauth: {
        tokenEndpoint: {
          doc: "OAUTHBEARER: the OIDC token endpoint (https://.../token) asked for tokens with the client-credentials grant; tokens are renewed before they expire.",
          format: TEXT,
          default: "",
          env: "KAFKA_SASL_OAUTH_TOKEN_ENDPOINT",
        },
        clientId: {
          doc: "OAUTHBEARER: client id at the token endpoint.",
          format: TEXT,
          default: "",
          env: "KAFKA_SASL_OAUTH_CLIENT_ID",
        },
        clientSecret: {
          doc: "OAUTHBEARER: client secret (KAFKA_SASL_OAUTH_CLIENT_SECRET_FILE: read it from a file).",
          format: TEXT,
          default: "",
          env: "KAFKA_SASL_OAUTH_CLIENT_SECRET",
          sensitive: true,
        },
        scope: {
          doc: "OAUTHBEARER: scope requested with the token (space-separated); \"\" = none.",
          format: TEXT,
          default: "",
          env: "KAFKA_SASL_OAUTH_SCOPE",
        },
      },
      aws: {
        region: {
          doc: "aws (MSK IAM): the cluster's AWS region, e.g. \"eu-west-1\".",
          format: TEXT,
          default: "",
          env: "KAFKA_SASL_AWS_REGION",
        },
        accessKeyId: {
          doc: "aws (MSK IAM): access key id; \"\" = AWS_ACCESS_KEY_ID.",
          format: TEXT,
          default: "",
          env: "KAFKA_SASL_AWS_ACCESS_KEY_ID",
        },
        secretAccessKey: {
          doc: "aws (MSK IAM): secret access key (KAFKA_SASL_AWS_SECRET_ACCESS_KEY_FILE: from a file); \"\" = AWS_SECRET_ACCESS_KEY.",
          format: TEXT,
          default: "",
          env: "KAFKA_SASL_AWS_SECRET_ACCESS_KEY",
          sensitive: true,
        },
        sessionToken: {
          doc: "aws (MSK IAM): session token of temporary credentials; \"\" = AWS_SESSION_TOKEN.",
          format: TEXT,
          default: "",
          env: "KAFKA_SASL_AWS_SESSION_TOKEN",
          sensitive: true,
        },
      },
    },
  },
  elasticsearch: {
    nodes: {
      doc: "Elasticsearch node URLs, http(s)://host:port (comma-separated in the environment); no credentials in the URL.",
      format: URL_LIST,
      default: ["http://127.0.0.1:9200"],
      env: "ES_NODE",
    },
    username: {
      doc: "Basic-auth username (with elasticsearch.password); \"\" = none.",
      format: TEXT,
      default: "",
      env: "ES_USERNAME",
    },
    password: {
      doc: "Basic-auth password (ES_PASSWORD_FILE: read it from a file).",
      format: TEXT,
      default: "",
      env: "ES_PASSWORD",
      sensitive: true,
    },
    apiKey: {
      doc: "API key: the \"encoded\" form Elasticsearch returns, or \"id:api_key\"; instead of username/password (ES_API_KEY_FILE: read it from a file).",
      format: TEXT,
      default: "",
      env: "ES_API_KEY",
      sensitive: true,
    },
    bearerToken: {
      doc: "Bearer token (a service-account token or an OAuth2 access token) sent as \"Authorization: Bearer\"; instead of the others (ES_BEARER_TOKEN_FILE: read it from a file).",
      format: TEXT,
      default: "",
      env: "ES_BEARER_TOKEN",
      sensitive: true,
    },
    cloudId: {
      doc: "Elastic Cloud deployment id (name:base64); replaces elasticsearch.nodes.",
      format: TEXT,
      default: "",
      env: "ES_CLOUD_ID",
    },
    caFile: {
      doc: "PEM file of the certificate authority to trust for https nodes; \"\" = the system's.",
      format: TEXT,
      default: "",
      env: "ES_CA_FILE",
    },
    caFingerprint: {
      doc: "SHA-256 fingerprint of the CA certificate (or of the node's own) to pin, as Elasticsearch prints it at first start; \"\" = none.",
      format: SHA256_FINGERPRINT,
      default: "",
      env: "ES_CA_FINGERPRINT",
    },
    certFile: {
      doc: "PEM client certificate for mutual TLS (the PKI realm), with elasticsearch.keyFile; \"\" = none.",
      format: TEXT,
      default: "",
      env: "ES_CERT_FILE",
    },
    keyFile: {
      doc: "PEM private key of elasticsearch.certFile.",
      format: TEXT,
      default: "",
      env: "ES_KEY_FILE",
    },
    keyPassphrase: {
      doc: "Passphrase of an encrypted elasticsearch.keyFile (ES_KEY_PASSPHRASE_FILE: read it from a file).",
      format: TEXT,
      default: "",
      env: "ES_KEY_PASSPHRASE",
      sensitive: true,
    },
    tlsRejectUnauthorized: {
      doc: "Refuse https nodes whose certificate does not verify. Turn off only for tests.",
      format: FLAG,
      default: true,
      env: "ES_TLS_REJECT_UNAUTHORIZED",
    },
    requestTimeoutMs: {
      doc: "Timeout (ms) of one request, a bulk request included. A timed-out bulk is retried (ids make that safe).",
      format: integer(100, HOUR_MS),
      default: 30000,
      env: "ES_REQUEST_TIMEOUT_MS",
    },
    compression: {
      doc: "gzip request bodies: less network, more CPU.",
      format: FLAG,
      default: false,
      env: "ES_COMPRESSION",
    },
  },
  index: {
    template: {
      doc: "Index name template: {topic} is the topic (lowercased, invalid characters replaced by -); {field:NAME} or {field:NAME|FALLBACK} is the string value of a document field (dotted names reach nested fields; sanitized like the topic; FALLBACK, default \"unknown\", when the field is missing or not a string, or past index.maxFieldValues); {yyyy.MM.dd}, {yyyy.MM}, {yyyy-MM-dd}, {HH}... are the record's date (tokens yyyy, MM, dd, HH; 1970-01-01 for a record without a timestamp). E.g. \"logs-{topic}-{yyyy.MM.dd}\", \"logs-{field:service.name}-{yyyy.MM.dd}\".",
      format: INDEX_TEMPLATE,
      default: "{topic}",
      env: "INDEX_TEMPLATE",
    },
    prefix: {
      doc: "Literal text put before every index name, mapped topics included (e.g. \"kafka-\").",
      format: INDEX_PREFIX,
      default: "",
      env: "INDEX_PREFIX",
    },
    topicMap: {
      doc: "Exact topic name -> index template, winning over index.template (JSON object in the environment).",
      format: TOPIC_MAP,
      default: {},
      env: "INDEX_TOPIC_MAP",
    },
    timezone: {
      doc: "Zone of the date tokens: \"UTC\" or a fixed offset like \"+02:00\" (no daylight saving).",
      format: UTC_OFFSET,
      default: "UTC",
      env: "INDEX_TIMEZONE",
    },
    maxFieldValues: {
      doc: "Most distinct {field:...} values that get an index of their own, per worker and for its life (over all topics; dates multiply as usual): a record with a new value past this takes the template's fallback (counted in index_field_fallbacks_total{reason=\"limit\"}). A guard against a high-cardinality field creating thousands of indices.",
      format: integer(0, 100_000),
      default: 100,
      env: "INDEX_MAX_FIELD_VALUES",
    },
  },
  indexTemplates: {
    install: {
      doc: "At start, install a composable index template (and its component templates) for the indices the worker writes: @timestamp as date, message as text, ignore_malformed, dotted names kept as leaf fields (subobjects false), unknown strings as keyword (message-like names with a .text sub-field). `kafka-es-transfer templates` prints it.",
      format: FLAG,
      default: false,
      env: "INDEX_TEMPLATE_INSTALL",
    },
    name: {
      doc: "Name of the index template; its component templates are <name>-settings and <name>-mappings.",
      format: REQUIRED_TEXT,
      default: "kafka-es-transfer",
      env: "INDEX_TEMPLATE_NAME",
    },
    patterns: {
      doc: "Index patterns the template applies to (comma-separated in the environment); [] = derived from the index routing (index.template, index.prefix, index.topicMap, kafka.topics).",
      format: INDEX_PATTERN_LIST,
      default: [],
      env: "INDEX_TEMPLATE_PATTERNS",
    },
    priority: {
      doc: "Template priority; above 100 so it wins over Elasticsearch's built-in logs-*-* template.",
      format: integer(0, 1_000_000),
      default: 200,
      env: "INDEX_TEMPLATE_PRIORITY",
    },
    overwrite: {
      doc: "Replace a template of the same name that this service did not install (its _meta.managed_by differs). Off: such a template is left alone, with a warning.",
      format: FLAG,
      default: false,
      env: "INDEX_TEMPLATE_OVERWRITE",
    },
    shards: {
      doc: "index.number_of_shards of new indices.",
      format: integer(1, 1024),
      default: 1,
      env: "INDEX_SHARDS",
    },
    replicas: {
      doc: "index.number_of_replicas of new indices.",
      format: integer(0, 64),
      default: 1,
      env: "INDEX_REPLICAS",
    },
    totalFieldsLimit: {
      doc: "index.mapping.total_fields.limit: most fields an index may map (a guard against field explosions).",
      format: integer(10, 1_000_000),
      default: 2000,
      env: "INDEX_TOTAL_FIELDS_LIMIT",
    },
    dataStream: {
      doc: "Data-stream mode: the template declares a data stream, documents are written with op_type create, and the default index.template {topic} becomes logs-{topic}-default. Needs document.addTimestamp with timestampField \"@timestamp\" and ids other than \"key\".",
      format: FLAG,
      default: false,
      env: "INDEX_DATA_STREAM",
    },
  },
  document: {
    opType: {
      doc: "Bulk operation: \"index\" (overwrite), \"create\" (required by data streams; an existing id counts as done; not with idStrategy \"key\") or \"update\" (merge the record into the document with that key, doc_as_upsert; needs idStrategy \"key\"; no ingest pipeline; writes of one key go one at a time in offset order).",
      format: [...OP_TYPES],
      default: "index",
      env: "ES_OP_TYPE",
    },
    pipeline: {
      doc: "Ingest pipeline every document goes through (topicSettings can set another per topic, or \"\" for none); \"\" = none. A missing pipeline holds the records (an operator error); a document the pipeline fails takes bulk.onPermanentError.",
      format: PIPELINE,
      default: "",
      env: "ES_PIPELINE",
    },
    idStrategy: {
      doc: "Document _id: \"coordinates\" = <topic>-<partition>-<offset> (redelivery overwrites, no duplicates; a deleted and recreated topic reuses these ids); \"key\" = the record key (keyless records use coordinates), written with the offset as external version so the latest record per key wins even when an older one is retried later (a recreated topic restarts offsets: clear its index first); \"none\" = Elasticsearch chooses (redelivery duplicates).",
      format: [...ID_STRATEGIES],
      default: "coordinates",
      env: "DOC_ID_STRATEGY",
    },
    timestampField: {
      doc: "Top-level field set to the Kafka record timestamp (ISO-8601 UTC) when a document lacks it. A record without a timestamp (-1) is dated 1970-01-01T00:00:00Z here and in dated index names: never the clock, so a redelivery lands in the same index.",
      format: FIELD_NAME,
      default: "@timestamp",
      env: "DOC_TIMESTAMP_FIELD",
    },
    addTimestamp: {
      doc: "Add document.timestampField when missing.",
      format: FLAG,
      default: true,
      env: "DOC_ADD_TIMESTAMP",
    },
    metadataField: {
      doc: "Field receiving {topic, partition, offset, timestamp, key, headers} of the record (binary values as base64 in key_base64 / headers_base64; a null header value is null; a repeated header name is the array of its values); \"\" = off. A document that already has the field keeps its own.",
      format: OPTIONAL_FIELD_NAME,
      default: "",
      env: "DOC_METADATA_FIELD",
    },
    messageField: {
      doc: "Field holding a value that is not a JSON object (text, JSON scalar or array, invalid JSON); invalid UTF-8 also keeps the exact bytes in <messageField>_base64.",
      format: FIELD_NAME,
      default: "message",
      env: "DOC_MESSAGE_FIELD",
    },
    tombstones: {
      doc: "Records with a null value: \"skip\", or \"delete\" the document whose id is the record key (only with idStrategy \"key\"; otherwise, and for keyless records, they are skipped).",
      format: ["skip", "delete"],
      default: "skip",
      env: "DOC_TOMBSTONES",
    },
  },
  format: {
    value: {
      doc: 'How record values are encoded: "json" (JSON objects indexed as they are, anything else wrapped as text), "avro", "protobuf" or "json-schema" (the schema registry\'s wire format: a zero byte and a 4-byte schema id before the record; the schema is fetched from schemaRegistry.url by id and cached), or "auto" (the wire format when the magic byte is there and the registry knows the id, JSON otherwise).',
      format: [...RECORD_FORMATS],
      default: "json",
      env: "VALUE_FORMAT",
    },
    key: {
      doc: 'How record keys are encoded, as format.value: "json" keeps today\'s keys (UTF-8 text, else base64); with a registry format the decoded key is the document id for document.idStrategy "key" (a string as itself, anything else as its JSON) and the key in document.metadataField.',
      format: [...RECORD_FORMATS],
      default: "json",
      env: "KEY_FORMAT",
    },
  },
  schemaRegistry: {
    url: {
      doc: "Schema registry base URL of its Confluent-compatible API, http(s)://host:port[/path] (Confluent, Karapace, Redpanda; Apicurio: .../apis/ccompat/v7); required by the avro, protobuf, json-schema and auto formats. \"\" = none.",
      format: TEXT,
      default: "",
      env: "SCHEMA_REGISTRY_URL",
    },
    username: {
      doc: "Basic-auth username (with schemaRegistry.password); \"\" = none.",
      format: TEXT,
      default: "",
      env: "SCHEMA_REGISTRY_USERNAME",
    },
    password: {
      doc: "Basic-auth password (SCHEMA_REGISTRY_PASSWORD_FILE: read it from a file).",
      format: TEXT,
      default: "",
      env: "SCHEMA_REGISTRY_PASSWORD",
      sensitive: true,
    },
    bearerToken: {
      doc: "Bearer token sent as \"Authorization: Bearer\", instead of username/password (SCHEMA_REGISTRY_BEARER_TOKEN_FILE: read it from a file).",
      format: TEXT,
      default: "",
      env: "SCHEMA_REGISTRY_BEARER_TOKEN",
      sensitive: true,
    },
    caFile: {
      doc: "PEM file of the certificate authority to trust for an https registry; \"\" = the system's.",
      format: TEXT,
      default: "",
      env: "SCHEMA_REGISTRY_CA_FILE",
    },
    certFile: {
      doc: "PEM client certificate for mutual TLS, with schemaRegistry.keyFile; \"\" = none.",
      format: TEXT,
      default: "",
      env: "SCHEMA_REGISTRY_CERT_FILE",
    },
    keyFile: {
      doc: "PEM private key of schemaRegistry.certFile.",
      format: TEXT,
      default: "",
      env: "SCHEMA_REGISTRY_KEY_FILE",
    },
    keyPassphrase: {
      doc: "Passphrase of an encrypted schemaRegistry.keyFile (SCHEMA_REGISTRY_KEY_PASSPHRASE_FILE: read it from a file).",
      format: TEXT,
      default: "",
      env: "SCHEMA_REGISTRY_KEY_PASSPHRASE",
      sensitive: true,
    },
    tlsRejectUnauthorized: {
      doc: "Refuse an https registry whose certificate does not verify. Turn off only for tests.",
      format: FLAG,
      default: true,
      env: "SCHEMA_REGISTRY_TLS_REJECT_UNAUTHORIZED",
    },
    requestTimeoutMs: {
      doc: "Timeout (ms) of one request to the registry; a failed fetch is retried with backoff (bulk.retryInitialMs doubling to bulk.retryMaxMs) while its records wait.",
      format: integer(100, HOUR_MS),
      default: 10000,
      env: "SCHEMA_REGISTRY_REQUEST_TIMEOUT_MS",
    },
    cacheSize: {
      doc: "Compiled schemas kept in memory, by id (the least recently used beyond it are dropped and fetched again when needed).",
      format: integer(16, 1_000_000),
      default: 1000,
      env: "SCHEMA_REGISTRY_CACHE_SIZE",
    },
  },
  topicSettings: {
    doc: "Per-topic settings (JSON object in the environment): keys are exact topic names or /regular expressions/ (anchored, like kafka.topicPattern); values override, for those topics, any of valueFormat, keyFormat (\"json\", \"avro\", \"protobuf\", \"json-schema\", \"auto\"), indexTemplate (as index.template; index.prefix still applies), pipeline (\"\" = none), idStrategy and opType. Per setting, an exact name wins, then the first matching pattern that sets it, then the global value. E.g. {\"orders\": {\"opType\": \"update\", \"idStrategy\": \"key\"}, \"/logs-.*/\": {\"pipeline\": \"logs\"}}.",
    format: TOPIC_SETTINGS,
    default: {},
    env: "TOPIC_SETTINGS",
  },
  queue: {
    maxRecords: {
      doc: "Records held between Kafka and Elasticsearch (queued or in a bulk request) above which fetching pauses. A soft limit: the fetches already under way still land, so the worst case is this plus one fetch (kafka.maxBytes per concurrently consumed partition group).",
      format: POSITIVE,
      default: 10000,
      env: "QUEUE_MAX_RECORDS",
    },
    maxBytes: {
      doc: "Bytes held between Kafka and Elasticsearch before consumption pauses. A fetch response is capped at a quarter of this shared among the brokers, and at what the V8 heap leaves (kafka.maxBytes and kafka.maxBytesPerPartition are lowered to it; shared/memory-model.ts), since fetches are what the queue can overshoot by.",
      format: integer(1024),
      default: 33554432,
      env: "QUEUE_MAX_BYTES",
    },
    lowWatermarkRatio: {
      doc: "Consumption resumes when the queue falls below this fraction of both limits.",
      format: RATIO,
      default: 0.5,
      env: "QUEUE_LOW_WATERMARK_RATIO",
    },
  },
  bulk: {
    workers: {
      doc: "Most bulk requests in flight at once: the ceiling of the adaptive limit (bulk.adaptiveConcurrency), or the fixed count without it.",
      format: integer(1, 64),
      default: 2,
      env: "BULK_WORKERS",
    },
    adaptiveConcurrency: {
      doc: "Adjust the bulk requests in flight between 1 and bulk.workers: one more while latency stays flat and the limit is used, fewer on 429/503, timeouts or a clear latency rise (AIMD). false = always bulk.workers.",
      format: FLAG,
      default: true,
      env: "BULK_ADAPTIVE_CONCURRENCY",
    },
    maxDocuments: {
      doc: "Most documents per bulk request.",
      format: integer(1, 100000),
      default: 2000,
      env: "BULK_MAX_DOCUMENTS",
    },
    maxBytes: {
      doc: "Most bytes per bulk request body (Elasticsearch refuses bodies above http.max_content_length, 100 MB by default).",
      format: integer(1024, 104857600),
      default: 5242880,
      env: "BULK_MAX_BYTES",
    },
    lingerMs: {
      doc: "How long (ms) a partly filled bulk request waits for more documents while another request is in flight; with none in flight it goes at once.",
      format: integer(0, 60000),
      default: 100,
      env: "BULK_LINGER_MS",
    },
    retryInitialMs: {
      doc: "First back-off (ms) after a transient failure (429, 5xx, timeout); doubles up to bulk.retryMaxMs.",
      format: integer(1, HOUR_MS),
      default: 200,
      env: "BULK_RETRY_INITIAL_MS",
    },
    retryMaxMs: {
      doc: "Longest back-off (ms) between retries. Transient failures are retried without limit.",
      format: integer(1, HOUR_MS),
      default: 30000,
      env: "BULK_RETRY_MAX_MS",
    },
    holdMaxMs: {
      doc: "How long (ms) a partition stays held while Elasticsearch refuses its records for a reason an operator must fix (closed or missing index, write block, missing privilege): after that its refused records take the failure policy (bulk.onPermanentError). 0 = hold until the operator fixes it.",
      format: integer(0, 365 * 24 * HOUR_MS),
      default: 0,
      env: "HOLD_MAX_MS",
    },
    onPermanentError: {
      doc: "A record Elasticsearch permanently rejects (mapping error, document too large...) or that cannot be decoded or routed: \"dlq\" = write it to deadLetter.topic and commit past it only once Kafka acknowledged that write; \"skip\" = log it, count it and move on (its data is lost); \"stop\" = stop the worker without committing it. Unset (\"\"): \"dlq\" when deadLetter.topic is set, else \"skip\".",
      format: PERMANENT_ERROR_SETTINGS,
      default: "",
      env: "ON_PERMANENT_ERROR",
    },
  },
  deadLetter: {
    topic: {
      doc: "Dead-letter topic (must exist; never one the worker consumes): rejected records are appended with their key, value, headers and timestamp plus source.* and error.* headers (see README). `kafka-es-transfer redrive` reads it back under the consumer group <kafka.groupId>-redrive. \"\" = none.",
      format: OPTIONAL_TOPIC,
      default: "",
      env: "DLQ_TOPIC",
    },
  },
  telemetry: {
    metricsHost: {
      doc: "Address the /metrics, /healthz and /readyz HTTP server listens on (0.0.0.0 in containers).",
      format: REQUIRED_TEXT,
      default: "127.0.0.1",
      env: "METRICS_HOST",
    },
    metricsPort: {
      doc: "Port of that server; 0 = any free port.",
      format: integer(0, 65535),
      default: 9464,
      env: "METRICS_PORT",
    },
    logLevel: {
      doc: "Log level: fatal, error, warn, info, debug, trace or silent.",
      format: ["fatal", "error", "warn", "info", "debug", "trace", "silent"],
      default: "info",
      env: "LOG_LEVEL",
    },
  },
  shutdown: {
    drainTimeoutMs: {
      doc: "On SIGTERM/SIGINT, how long (ms) the whole stop may take: draining in-flight records (to Elasticsearch and the dead-letter topic) gets all but the last min(5 s, a third), which the final commit, the group leave and closing the clients keep; each step is cut at the deadline, and what was not settled is redelivered. Keep the pod's grace period above it.",
      format: integer(0, HOUR_MS),
      default: 30000,
      env: "SHUTDOWN_TIMEOUT_MS",
    },
  },
};

/** One configuration key: its dotted path and schema entry. */
export interface SchemaLeaf {
  readonly path: string;
  readonly item: convict.SchemaObj;
}

function isNode(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function collectLeaves(node: Record<string, unknown>, prefix: string, out: SchemaLeaf[]): void {
  for (const [name, child] of Object.entries(node)) {
    if (!isNode(child)) continue;
    const path = prefix === "" ? name : `${prefix}.${name}`;
    // convict's rule: a node with a "default" is a setting, anything else a group.
    if ("default" in child) out.push({ path, item: child as convict.SchemaObj });
    else collectLeaves(child, path, out);
  }
}

const leaves: SchemaLeaf[] = [];
collectLeaves(configSchema, "", leaves);

/** Every key of the schema, in declaration order. */
export const schemaLeaves: readonly SchemaLeaf[] = leaves;
