/**
 * Rules that involve more than one key, checked after every key passed its own format.
 * Each returns a message naming the key(s) and value(s) involved.
 */
import { accessSync, constants } from "node:fs";
import { indexTemplateProblem } from "../pipeline/index-name.ts";
import type { Config } from "./schema.ts";

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
  const { mechanism, username, password } = kafka.sasl;
  if (mechanism !== "") {
    if (username === "") problems.push(`kafka.sasl.username = "": required when kafka.sasl.mechanism is "${mechanism}"`);
    if (password === "") problems.push(`kafka.sasl.password: required when kafka.sasl.mechanism is "${mechanism}"`);
  } else if (username !== "" || password !== "") {
    problems.push(`kafka.sasl.mechanism = "": set it (plain, scram-sha-256 or scram-sha-512) when a SASL username or password is given`);
  }
  return problems;
}

function elasticsearchProblems(es: Config["elasticsearch"], show: Show): string[] {
  const problems: string[] = [];
  if (es.apiKey !== "" && (es.username !== "" || es.password !== "")) {
    problems.push("elasticsearch.apiKey: give either apiKey or username/password, not both");
  }
  if (es.username !== "" && es.password === "") {
    problems.push(`elasticsearch.password: required when elasticsearch.username is set (${show("elasticsearch.username", es.username)})`);
  }
  if (es.username === "" && es.password !== "") {
    problems.push("elasticsearch.username: required when elasticsearch.password is set");
  }
  if (es.caFile !== "") {
    try {
      accessSync(es.caFile, constants.R_OK);
    } catch {
      problems.push(`elasticsearch.caFile = ${show("elasticsearch.caFile", es.caFile)}: cannot read that file`);
    }
  }
  return problems;
}

/** The prefix is literal, so prefix + template must itself be a valid template (length, leading characters). */
function indexProblems(index: Config["index"], show: Show): string[] {
  if (index.prefix === "") return [];
  const problems: string[] = [];
  const withPrefix = ` with index.prefix ${show("index.prefix", index.prefix)}`;
  const problem = indexTemplateProblem(index.prefix + index.template);
  if (problem !== undefined) problems.push(`index.template = ${show("index.template", index.template)}${withPrefix}: ${problem}`);
  for (const [topic, template] of Object.entries(index.topicMap)) {
    const mapped = indexTemplateProblem(index.prefix + template);
    if (mapped !== undefined) {
      problems.push(`index.topicMap[${JSON.stringify(topic)}] = ${JSON.stringify(template)}${withPrefix}: ${mapped}`);
    }
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
  if (doc.opType === "create" && doc.idStrategy === "key") {
    problems.push(
      `document.opType = "create": cannot be used with document.idStrategy = "key" (a key's later records would be refused as already there); use opType "index"`,
    );
  }
  if (doc.addTimestamp) claim("document.timestampField", doc.timestampField);
  if (doc.metadataField !== "") claim("document.metadataField", doc.metadataField);
  return problems;
}

function bulkProblems(bulk: Config["bulk"]): string[] {
  return bulk.retryInitialMs > bulk.retryMaxMs
    ? [`bulk.retryInitialMs = ${bulk.retryInitialMs}: must not exceed bulk.retryMaxMs (${bulk.retryMaxMs})`]
    : [];
}

/** `needsTopics` false for commands that name their topics themselves (replay) or read none. */
export function crossKeyProblems(config: Config, show: Show, needsTopics = true): string[] {
  return [
    ...kafkaProblems(config.kafka, needsTopics),
    ...elasticsearchProblems(config.elasticsearch, show),
    ...indexProblems(config.index, show),
    ...documentProblems(config.document, show),
    ...bulkProblems(config.bulk),
  ];
}
