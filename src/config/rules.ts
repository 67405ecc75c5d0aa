/**
 * Rules that involve more than one key, checked after every key passed its own format.
 * Each returns a message naming the key(s) and value(s) involved.
 */
import { compileIndexTemplate, indexTemplateProblem } from "../pipeline/index-name.ts";
import { topicSelector, type TopicOverrides, type TopicSettings } from "../pipeline/topic-settings.ts";
import { globalTopicSettings, topicSections } from "./effective.ts";
import { usesRegistry } from "../pipeline/schemas/record-format.ts";
import { effectiveFailurePolicy, type FailurePolicyName } from "../shared/failure-policy-names.ts";
import { SASL_MECHANISM_TABLE, saslMechanism, type RequiredSaslSetting } from "../source/auth/sasl-mechanisms.ts";
import { orList } from "./formats.ts";
import type { Config } from "./schema.ts";
import { tlsFilesProblems } from "./tls-files.ts";

type Show = (path: string, value: unknown) => string;

function kafkaProblems(kafka: Config["kafka"], needsTopics: boolean): string[] {
  const problems: string[] = [];
  if (needsTopics && kafka.topics.length === 0 && kafka.topicPattern === "") {
    problems.push(
      "kafka.topics / kafka.topicPattern: no topic to consume; set kafka.topics (KAFKA_TOPICS=a,b) or kafka.topicPattern (KAFKA_TOPIC_PATTERN=regex)",
    );
  }
  if (kafka.heartbeatIntervalMs >= kafka.sessionTimeoutMs) {
    problems.push(
      `kafka.heartbeatIntervalMs = ${kafka.heartbeatIntervalMs}: must be lower than kafka.sessionTimeoutMs (${kafka.sessionTimeoutMs})`,
    );
  }
  return [...problems, ...kafkaSaslProblems(kafka.sasl), ...kafkaTlsProblems(kafka)];
}

function isHttpUrl(text: string): boolean {
  return URL.canParse(text) && ["http:", "https:"].includes(new URL(text).protocol);
}

/** The mechanisms that take a username and password (sasl-mechanisms.ts). */
const PASSWORD_MECHANISMS: readonly string[] = SASL_MECHANISM_TABLE.filter((m) => m.requires.some((r) => r.key === "username")).map((m) => m.name);

/** A mechanism's required settings (its row in sasl-mechanisms.ts), and a username or password it would ignore. */
function kafkaSaslProblems(sasl: Config["kafka"]["sasl"]): string[] {
  const problems: string[] = [];
  const mechanism = sasl.mechanism.toLowerCase();
  const spec = saslMechanism(mechanism);
  const usesPassword = spec !== undefined && PASSWORD_MECHANISMS.includes(spec.name);
  if (!usesPassword && (sasl.username !== "" || sasl.password !== "")) {
    problems.push(`kafka.sasl.mechanism = "${mechanism}": set it to ${orList(PASSWORD_MECHANISMS)} when a SASL username or password is given`);
  }
  for (const setting of spec?.requires ?? []) {
    const problem = requiredSettingProblem(setting, setting.value(sasl));
    if (problem !== undefined) problems.push(`kafka.sasl.${problem} when kafka.sasl.mechanism is "${mechanism}"`);
  }
  return problems;
}

function requiredSettingProblem(setting: RequiredSaslSetting, value: string): string | undefined {
  const shown = setting.secret ? setting.key : `${setting.key} = ${JSON.stringify(value)}`;
  if (setting.check === "http-url") return isHttpUrl(value) ? undefined : `${shown}: an http(s) URL is required`;
  return value === "" ? `${shown}: required` : undefined;
}

function kafkaTlsProblems(kafka: Config["kafka"]): string[] {
  const { tls } = kafka;
  const set = (["caFile", "certFile", "keyFile", "servername"] as const).filter((k) => tls[k] !== "");
  if (!kafka.ssl) {
    return set.length === 0 ? [] : [`kafka.ssl = false: set it to true (KAFKA_SSL=true) to use ${set.map((k) => `kafka.tls.${k}`).join(", ")}`];
  }
  return tlsFilesProblems("kafka.tls.", tls);
}

/** "name:base64(host$es-id$kibana-id)", as Elastic Cloud shows it: undefined when it decodes. */
export function cloudIdProblem(cloudId: string): string | undefined {
  const [, encoded] = cloudId.split(":");
  const parts = encoded === undefined ? [] : Buffer.from(encoded, "base64").toString("utf8").split("$");
  return parts.length >= 2 && parts.every((p) => /^[\w.:-]+$/.test(p))
    ? undefined
    : "is not an Elastic Cloud id (name:base64 of host$elasticsearch-id$kibana-id)";
}

function elasticsearchProblems(es: Config["elasticsearch"], show: Show): string[] {
  const problems: string[] = [];
  const auth = [
    es.apiKey !== "" ? "apiKey" : undefined,
    es.bearerToken !== "" ? "bearerToken" : undefined,
    es.username !== "" || es.password !== "" ? "username/password" : undefined,
  ].filter((a) => a !== undefined);
  if (auth.length > 1) problems.push(`elasticsearch.${auth.join(", elasticsearch.")}: give only one way to authenticate`);
  if (es.username !== "" && es.password === "") {
    problems.push(`elasticsearch.password: required when elasticsearch.username is set (${show("elasticsearch.username", es.username)})`);
  }
  if (es.username === "" && es.password !== "") {
    problems.push("elasticsearch.username: required when elasticsearch.password is set");
  }
  problems.push(...tlsFilesProblems("elasticsearch.", es));
  if (es.cloudId !== "") {
    const problem = cloudIdProblem(es.cloudId);
    if (problem !== undefined) problems.push(`elasticsearch.cloudId = ${show("elasticsearch.cloudId", es.cloudId)}: ${problem}`);
  }
  return problems;
}

/** A topic both in index.topicMap and, with an index template, in topicSettings: which one wins would be a guess. */
function topicMapConflicts(config: Config): string[] {
  const problems: string[] = [];
  for (const topic of Object.keys(config.index.topicMap)) {
    if (config.topicSettings[topic]?.indexTemplate !== undefined) {
      problems.push(`index.topicMap[${JSON.stringify(topic)}] and topicSettings[${JSON.stringify(topic)}].indexTemplate: both set an index template for the topic; keep one`);
    }
  }
  return problems;
}

/** The prefix is literal, so prefix + template must itself be a valid template (length, leading characters). */
function indexProblems(config: Config, show: Show): string[] {
  const index = config.index;
  const problems: string[] = topicMapConflicts(config);
  if (index.prefix === "") return problems;
  const withPrefix = ` with index.prefix ${show("index.prefix", index.prefix)}`;
  const problem = indexTemplateProblem(index.prefix + index.template);
  if (problem !== undefined) problems.push(`index.template = ${show("index.template", index.template)}${withPrefix}: ${problem}`);
  for (const [topic, template] of Object.entries(index.topicMap)) {
    const mapped = indexTemplateProblem(index.prefix + template);
    if (mapped !== undefined) {
      problems.push(`index.topicMap[${JSON.stringify(topic)}] = ${JSON.stringify(template)}${withPrefix}: ${mapped}`);
    }
  }
  for (const [key, overrides] of Object.entries(config.topicSettings)) {
    const template = overrides.indexTemplate;
    const problem = template === undefined ? undefined : indexTemplateProblem(index.prefix + template);
    if (problem !== undefined) problems.push(`topicSettings[${JSON.stringify(key)}].indexTemplate = ${JSON.stringify(template)}${withPrefix}: ${problem}`);
  }
  return problems;
}

/** Whether a (valid) template names a {field:...}; invalid ones are reported by indexProblems. */
function routesByField(template: string): boolean {
  return indexTemplateProblem(template) === undefined && compileIndexTemplate(template).field !== undefined;
}

/** Where a combination of settings came from, for messages: the global keys or one topicSettings entry. */
interface WriteScope {
  readonly label: (setting: keyof TopicSettings) => string;
  /** The settings the scope sets itself: a problem is reported where one of its settings is. */
  readonly sets: (setting: keyof TopicSettings) => boolean;
}

const GLOBAL_KEYS: Readonly<Record<keyof TopicSettings, string>> = {
  valueFormat: "format.value",
  keyFormat: "format.key",
  indexTemplate: "index.template",
  pipeline: "document.pipeline",
  idStrategy: "document.idStrategy",
  opType: "document.opType",
};

/** Op type, id strategy, pipeline, template and tombstones that cannot work together, for one effective combination. */
function writeCombinationProblems(settings: TopicSettings, config: Config, scope: WriteScope): string[] {
  const problems: string[] = [];
  const at = (setting: keyof TopicSettings, value: string): string => `${scope.label(setting)} = ${JSON.stringify(value)}`;
  const either = (a: keyof TopicSettings, b: keyof TopicSettings): boolean => scope.sets(a) || scope.sets(b);
  const { opType, idStrategy, pipeline } = settings;
  if (opType === "create" && idStrategy === "key" && either("opType", "idStrategy")) {
    problems.push(`${at("opType", opType)}: cannot be used with ${at("idStrategy", idStrategy)} (a key's later records would be refused as already there); use opType "index"`);
  }
  if (opType === "update" && idStrategy !== "key" && either("opType", "idStrategy")) {
    problems.push(`${at("opType", opType)}: needs ${scope.label("idStrategy")} = "key" (an update merges into the document of the record's key), not ${JSON.stringify(idStrategy)}`);
  }
  if (opType === "update" && pipeline !== "" && either("opType", "pipeline")) {
    problems.push(`${at("opType", opType)}: Elasticsearch runs no ingest pipeline on updates (${at("pipeline", pipeline)} would be ignored); set the pipeline to "" or use opType "index" (or the index's index.default_pipeline, which runs when an upsert creates the document)`);
  }
  if (config.indexTemplates.dataStream && opType !== "create" && scope.sets("opType")) {
    problems.push(`${at("opType", opType)}: indexTemplates.dataStream is on, and data streams take only op type "create"`);
  }
  if (config.document.tombstones === "delete" && idStrategy === "key" && routesByField(config.index.prefix + settings.indexTemplate) && either("indexTemplate", "idStrategy")) {
    problems.push(`${at("indexTemplate", settings.indexTemplate)}: routes by a document field, and a tombstone has no document to read it from, so its delete could not find the document's index; with document.tombstones = "delete" use a template without {field:...}`);
  }
  return problems;
}

/** Every write combination: the global one, then each topicSettings entry over it (exact entries over their patterns too). */
function writeProblems(config: Config): string[] {
  const global = globalTopicSettings(config);
  const problems = writeCombinationProblems(global, config, { label: (s) => GLOBAL_KEYS[s], sets: (s) => s !== "valueFormat" && s !== "keyFormat" });
  const sections = topicSections(config);
  for (const [key, overrides] of Object.entries(config.topicSettings)) {
    const selector = topicSelector(key);
    // An exact topic also gets what the first matching patterns set.
    const inherited: TopicOverrides = {};
    if ("exact" in selector) {
      for (const [other, entry] of Object.entries(sections)) {
        const s = topicSelector(other);
        if ("pattern" in s && s.pattern.test(key)) for (const [k, v] of Object.entries(entry)) (inherited as Record<string, unknown>)[k] ??= v;
      }
    }
    const settings: TopicSettings = { ...global, ...inherited, ...sections[key], ...overrides };
    const label = (s: keyof TopicSettings): string => `topicSettings[${JSON.stringify(key)}].${s}`;
    problems.push(...writeCombinationProblems(settings, config, { label, sets: (s) => overrides[s] !== undefined }));
  }
  return problems;
}

/** The fields the decoder adds must not collide with each other. */
function documentProblems(doc: Config["document"], show: Show): string[] {
  const problems: string[] = [];
  const taken = new Map<string, string>([
    [doc.messageField, "document.messageField"],
    [`${doc.messageField}_base64`, "document.messageField + \"_base64\""],
  ]);
  const claim = (path: "document.timestampField" | "document.metadataField", name: string): void => {
    const owner = taken.get(name);
    if (owner !== undefined) problems.push(`${path} = ${show(path, name)}: collides with ${owner}`);
    taken.set(name, path);
  };
  if (doc.addTimestamp) claim("document.timestampField", doc.timestampField);
  if (doc.metadataField !== "") claim("document.metadataField", doc.metadataField);
  return problems;
}

/** A data stream needs op_type create (so no key ids) and an @timestamp in every document. */
function dataStreamProblems(config: Config): string[] {
  if (!config.indexTemplates.dataStream) return [];
  const problems: string[] = [];
  const doc = config.document;
  if (doc.idStrategy === "key") {
    problems.push(`indexTemplates.dataStream: cannot be used with document.idStrategy = "key" (data streams take only op_type create); use "coordinates" or "none"`);
  }
  if (!doc.addTimestamp || doc.timestampField !== "@timestamp") {
    problems.push(`indexTemplates.dataStream: needs document.addTimestamp = true and document.timestampField = "@timestamp" (every data-stream document has one)`);
  }
  return problems;
}

/** The settings (global, or per topic) that read a format through the schema registry, as `key = "value"`. */
function registryFormats(config: Config, show: Show): string[] {
  const found = (["value", "key"] as const).filter((part) => usesRegistry(config.format[part])).map((part) => `format.${part} = ${show(`format.${part}`, config.format[part])}`);
  for (const [topic, overrides] of Object.entries(config.topicSettings)) {
    for (const setting of ["valueFormat", "keyFormat"] as const) {
      const format = overrides[setting];
      if (format !== undefined && usesRegistry(format)) found.push(`topicSettings[${JSON.stringify(topic)}].${setting} = ${JSON.stringify(format)}`);
    }
  }
  return found;
}

/** The registry: needed by the registry formats, reachable over http(s), one way to authenticate, TLS files that open. */
function schemaRegistryProblems(config: Config, show: Show): string[] {
  const registry = config.schemaRegistry;
  if (registry.url === "") return registryFormats(config, show).map((setting) => `${setting}: needs the schema registry; set schemaRegistry.url (SCHEMA_REGISTRY_URL)`);
  const problems: string[] = [];
  if (!isHttpUrl(registry.url)) problems.push(`schemaRegistry.url = ${show("schemaRegistry.url", registry.url)}: must be an http(s) URL`);
  else if (new URL(registry.url).username !== "") problems.push("schemaRegistry.url: put credentials in schemaRegistry.username / password, not in the URL");
  if (registry.bearerToken !== "" && (registry.username !== "" || registry.password !== "")) {
    problems.push("schemaRegistry.bearerToken, schemaRegistry.username/password: give only one way to authenticate");
  }
  if (registry.username !== "" && registry.password === "") problems.push("schemaRegistry.password: required when schemaRegistry.username is set");
  if (registry.username === "" && registry.password !== "") problems.push("schemaRegistry.username: required when schemaRegistry.password is set");
  const https = isHttpUrl(registry.url) && new URL(registry.url).protocol === "https:";
  const tlsSet = (["caFile", "certFile", "keyFile"] as const).filter((k) => registry[k] !== "");
  if (!https && tlsSet.length > 0) problems.push(`schemaRegistry.url: use https:// to use ${tlsSet.map((k) => `schemaRegistry.${k}`).join(", ")}`);
  return [...problems, ...tlsFilesProblems("schemaRegistry.", registry)];
}

function bulkProblems(bulk: Config["bulk"]): string[] {
  return bulk.retryInitialMs > bulk.retryMaxMs
    ? [`bulk.retryInitialMs = ${bulk.retryInitialMs}: must not exceed bulk.retryMaxMs (${bulk.retryMaxMs})`]
    : [];
}

/** The failure policy in force: an unset bulk.onPermanentError means "dlq" when a dead-letter topic is set. */
export function effectivePermanentErrorPolicy(config: Pick<Config, "bulk" | "deadLetter">): FailurePolicyName {
  return effectiveFailurePolicy(config.bulk.onPermanentError, config.deadLetter.topic);
}

/** A dead-letter topic the worker also consumes would feed its own rejects back to itself. */
function deadLetterProblems(config: Config, show: Show): string[] {
  const topic = config.deadLetter.topic;
  const policy = effectivePermanentErrorPolicy(config);
  if (topic === "") {
    return policy === "dlq" ? ['bulk.onPermanentError = "dlq": needs a dead-letter topic; set deadLetter.topic (DLQ_TOPIC)'] : [];
  }
  const shown = `deadLetter.topic = ${show("deadLetter.topic", topic)}`;
  if (config.kafka.topics.includes(topic)) return [`${shown}: is also in kafka.topics; the worker would consume its own dead letters`];
  const pattern = config.kafka.topicPattern;
  if (pattern !== "" && new RegExp(`^(?:${pattern})$`).test(topic)) {
    return [`${shown}: matches kafka.topicPattern ${show("kafka.topicPattern", pattern)}; the worker would consume its own dead letters`];
  }
  return [];
}

/** `needsTopics` false for commands that name their topics themselves (replay) or read none. */
export function crossKeyProblems(config: Config, show: Show, needsTopics = true): string[] {
  return [
    ...kafkaProblems(config.kafka, needsTopics),
    ...elasticsearchProblems(config.elasticsearch, show),
    ...indexProblems(config, show),
    ...documentProblems(config.document, show),
    ...writeProblems(config),
    ...bulkProblems(config.bulk),
    ...schemaRegistryProblems(config, show),
    ...deadLetterProblems(config, show),
    ...dataStreamProblems(config),
  ];
}
