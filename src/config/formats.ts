/**
 * Value formats for the configuration schema, registered with convict by name.
 *
 * Why not convict's built-ins: "nat"/"int" turn "12abc" into 12 and "abc" into NaN
 * (the error then shows NaN, not what the user typed), booleans treat any string but
 * "false" as true, and arrays cannot trim "a, b". Each format here coerces strings
 * (environment variables, string values in files) strictly, and when coercion fails
 * returns the input unchanged so that validation reports the value as the user wrote it.
 */
import convict from "convict";
import { indexPrefixProblem, indexTemplateProblem, parseUtcOffset } from "../pipeline/index-name.ts";
import { pipelineProblem, topicEntryProblems } from "../pipeline/topic-settings.ts";
import { SASL_MECHANISM_NAMES, SASL_MECHANISM_TABLE } from "../source/auth/sasl-mechanisms.ts";

export interface FormatSpec {
  readonly name: string;
  /** Throws an Error whose message says what the value must be. */
  readonly validate: (value: unknown) => void;
  /** Converts a string (env var or file); returns it unchanged when it cannot. */
  readonly coerce?: (raw: string) => unknown;
  /** How a bad value is shown in an error message (default JSON). */
  readonly display?: (value: unknown) => string;
}

const registry = new Map<string, FormatSpec>();

function define(spec: FormatSpec): string {
  registry.set(spec.name, spec);
  const coerce = spec.coerce;
  convict.addFormat({
    name: spec.name,
    validate: (value: unknown) => {
      spec.validate(value);
    },
    ...(coerce === undefined ? {} : { coerce: (raw: unknown) => (typeof raw === "string" ? coerce(raw) : raw) }),
  });
  return spec.name;
}

/** The spec registered under `name` (every named format in the schema is one of these). */
export function formatSpec(name: string): FormatSpec | undefined {
  return registry.get(name);
}

function fail(message: string): never {
  throw new Error(message);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function coerceInteger(raw: string): unknown {
  const trimmed = raw.trim();
  return /^-?\d+$/.test(trimmed) ? Number(trimmed) : raw;
}

/** A named integer format accepting [min, max]. */
export function integer(min: number, max: number = Number.MAX_SAFE_INTEGER): string {
  const rule =
    max === Number.MAX_SAFE_INTEGER
      ? min === 1
        ? "must be a positive integer"
        : min === 0
          ? "must be a non-negative integer"
          : `must be an integer >= ${min}`
      : `must be an integer from ${min} to ${max}`;
  const name = `integer[${min},${max}]`;
  if (registry.has(name)) return name;
  return define({
    name,
    coerce: coerceInteger,
    validate(value) {
      if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min || value > max) fail(rule);
    },
  });
}

export const FLAG = define({
  name: "flag",
  coerce(raw) {
    const v = raw.trim().toLowerCase();
    if (["true", "1", "yes", "on"].includes(v)) return true;
    if (["false", "0", "no", "off"].includes(v)) return false;
    return raw;
  },
  validate(value) {
    if (typeof value !== "boolean") fail("must be true or false");
  },
});

export const RATIO = define({
  name: "ratio",
  coerce(raw) {
    const n = Number(raw);
    return raw.trim() === "" || !Number.isFinite(n) ? raw : n;
  },
  validate(value) {
    if (typeof value !== "number" || !(value >= 0 && value < 1)) fail("must be a number from 0 to below 1");
  },
});

export const TEXT = define({
  name: "text",
  validate(value) {
    if (typeof value !== "string") fail("must be a string");
  },
});

export const REQUIRED_TEXT = define({
  name: "required-text",
  validate(value) {
    if (typeof value !== "string" || value.trim() === "") fail("must be a non-empty string");
  },
});

function fieldNameProblem(value: string): string | undefined {
  if (value.trim() !== value || value === "") return "must be a non-empty field name without surrounding spaces";
  if (value.startsWith(".") || value.endsWith(".") || value.includes("..")) return "must not start or end with '.' or contain '..'";
  return undefined;
}

export const FIELD_NAME = define({
  name: "field-name",
  validate(value) {
    if (typeof value !== "string") fail("must be a string");
    const problem = fieldNameProblem(value);
    if (problem !== undefined) fail(problem);
  },
});

export const OPTIONAL_FIELD_NAME = define({
  name: "optional-field-name",
  validate(value) {
    if (typeof value !== "string") fail("must be a string");
    const problem = value === "" ? undefined : fieldNameProblem(value);
    if (problem !== undefined) fail(problem);
  },
});

function splitList(raw: string): string[] {
  return raw
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

function listFormat(name: string, itemProblem: (item: string) => string | undefined, options: { nonEmpty: boolean }, display?: (value: unknown) => string): string {
  return define({
    name,
    coerce: splitList,
    validate(value) {
      if (!Array.isArray(value)) fail("must be a list (comma-separated in environment variables)");
      if (options.nonEmpty && value.length === 0) fail("must not be empty");
      for (const item of value as unknown[]) {
        if (typeof item !== "string") fail(`item ${JSON.stringify(item)} must be a string`);
        const problem = itemProblem(item);
        if (problem !== undefined) fail(problem);
      }
    },
    ...(display === undefined ? {} : { display }),
  });
}

const BROKER = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?):(\d{1,5})$/;

export const BROKER_LIST = listFormat(
  "broker-list",
  (item) => {
    const match = BROKER.exec(item);
    return match === null || Number(match[1]) > 65535 ? `broker ${JSON.stringify(item)} must be host:port` : undefined;
  },
  { nonEmpty: true },
);

const KAFKA_TOPIC = /^[A-Za-z0-9._-]{1,249}$/;

export function kafkaTopicProblem(topic: string): string | undefined {
  if (!KAFKA_TOPIC.test(topic) || topic === "." || topic === "..") {
    return `topic ${JSON.stringify(topic)} is not a valid Kafka topic name (1-249 of a-z A-Z 0-9 . _ -)`;
  }
  return undefined;
}

export const TOPIC_LIST = listFormat("topic-list", kafkaTopicProblem, { nonEmpty: false });

export const OPTIONAL_TOPIC = define({
  name: "optional-topic",
  validate(value) {
    if (typeof value !== "string") fail("must be a string");
    const problem = value === "" ? undefined : kafkaTopicProblem(value);
    if (problem !== undefined) fail(problem);
  },
});

/** An index pattern of a composable template: an index name that may hold "*" wildcards. */
export const INDEX_PATTERN_LIST = listFormat(
  "index-pattern-list",
  (item) => {
    if (item === "*") return `index pattern "*" would apply the template to every index, system ones included`;
    if (!/^[a-z0-9*][a-z0-9*._+-]*$/.test(item)) return `index pattern ${JSON.stringify(item)} must be a lowercase index name, "*" as wildcard`;
    return undefined;
  },
  { nonEmpty: false },
);

/** Hides `user:password@` in URLs so that error messages and logs never show them. */
export function maskUrlCredentials(url: string): string {
  return url.replace(/\/\/[^/@]*@/, "//[redacted]@");
}

export const URL_LIST = listFormat(
  "url-list",
  (item) => {
    const shown = JSON.stringify(maskUrlCredentials(item));
    if (!URL.canParse(item)) return `${shown} is not a URL`;
    const url = new URL(item);
    if (url.protocol !== "http:" && url.protocol !== "https:") return `${shown} must be an http:// or https:// URL`;
    if (url.username !== "" || url.password !== "") {
      return `${shown} must not carry credentials: use elasticsearch.username/password or apiKey`;
    }
    return undefined;
  },
  { nonEmpty: true },
  (value) =>
    JSON.stringify(Array.isArray(value) ? (value as unknown[]).map((v) => (typeof v === "string" ? maskUrlCredentials(v) : v)) : value),
);

export const REGEX_SOURCE = define({
  name: "regex-source",
  validate(value) {
    if (typeof value !== "string") fail("must be a string");
    try {
      // The reader anchors it (^(?:...)$): both forms must compile.
      new RegExp(value);
      new RegExp(`^(?:${value})$`);
    } catch (error) {
      fail(`is not a valid regular expression (${error instanceof Error ? error.message : String(error)})`);
    }
  },
});

export const INDEX_TEMPLATE = define({
  name: "index-template",
  validate(value) {
    if (typeof value !== "string") fail("must be a string");
    const problem = indexTemplateProblem(value);
    if (problem !== undefined) fail(problem);
  },
});

export const INDEX_PREFIX = define({
  name: "index-prefix",
  validate(value) {
    if (typeof value !== "string") fail("must be a string");
    const problem = indexPrefixProblem(value);
    if (problem !== undefined) fail(problem);
  },
});

export const TOPIC_MAP = define({
  name: "topic-map",
  coerce: coerceJson,
  validate(value) {
    if (!isPlainObject(value)) fail('must be a JSON object of topic -> index template, e.g. {"orders":"orders-{yyyy.MM}"}');
    for (const [topic, template] of Object.entries(value)) {
      const topicProblem = kafkaTopicProblem(topic);
      if (topicProblem !== undefined) fail(topicProblem);
      if (typeof template !== "string") fail(`the template for topic ${JSON.stringify(topic)} must be a string`);
      const problem = indexTemplateProblem(template);
      if (problem !== undefined) fail(`template ${JSON.stringify(template)} for topic ${JSON.stringify(topic)}: ${problem}`);
    }
  },
});

/** A JSON object in the environment; the raw text when it is no JSON (validation then says so). */
function coerceJson(raw: string): unknown {
  try {
    const parsed: unknown = JSON.parse(raw);
    return parsed;
  } catch {
    return raw;
  }
}

export const TOPIC_SETTINGS = define({
  name: "topic-settings",
  coerce: coerceJson,
  validate(value) {
    if (!isPlainObject(value)) {
      fail('must be a JSON object of topic name or /regex/ -> settings, e.g. {"orders":{"opType":"update","idStrategy":"key"}}');
    }
    const problems = Object.entries(value).flatMap(([key, entry]) => topicEntryProblems(key, entry));
    if (problems.length > 0) fail(problems.join("; "));
  },
  // The section can be long; the problems name the entries: show only which keys it has.
  display: (value) => (isPlainObject(value) ? `{${Object.keys(value).map((k) => `${JSON.stringify(k)}:{...}`).join(",")}}` : JSON.stringify(value)),
});

export const PIPELINE = define({
  name: "pipeline",
  validate(value) {
    if (typeof value !== "string") fail("must be a string");
    const problem = pipelineProblem(value);
    if (problem !== undefined) fail(problem);
  },
});

export const UTC_OFFSET = define({
  name: "utc-offset",
  validate(value) {
    if (typeof value !== "string" || parseUtcOffset(value) === undefined) {
      fail('must be "UTC" or a fixed offset from -12:00 to +14:00 like "+02:00"');
    }
  },
});

/** Checks a value against an enumeration (convict's array formats), with a readable message. */
export function checkOneOf(options: readonly unknown[], value: unknown): void {
  if (!options.includes(value)) fail(`must be one of ${options.map((o) => JSON.stringify(o)).join(", ")}`);
}

/** SASL mechanisms, in Kafka's spelling or lower case: "SCRAM-SHA-512" and "scram-sha-512" alike; "" = none. */
export const SASL_MECHANISMS: readonly string[] = ["", ...SASL_MECHANISM_NAMES];

/** "" (none), "plain", "scram-sha-256", "scram-sha-512" (username and password), ... or "aws" (...): from the table. */
export const SASL_MECHANISMS_DOC: string = orList(groupBy(SASL_MECHANISM_TABLE, (m) => m.takes).map(
  ([takes, group]) => `${group.map((m) => JSON.stringify(m.name)).join(", ")} (${takes})`,
), '"" (none)');

/** Consecutive items with the same key, together: [key, items] in order. */
function groupBy<T>(items: readonly T[], key: (item: T) => string): [string, T[]][] {
  const groups: [string, T[]][] = [];
  for (const item of items) {
    const last = groups.at(-1);
    if (last?.[0] === key(item)) last[1].push(item);
    else groups.push([key(item), [item]]);
  }
  return groups;
}

/** "a, b or c" (after any `first` items). */
export function orList(items: readonly string[], ...first: string[]): string {
  const all = [...first, ...items];
  return all.length <= 1 ? all.join("") : `${all.slice(0, -1).join(", ")} or ${all.at(-1) ?? ""}`;
}

export const SASL_MECHANISM = define({
  name: "sasl-mechanism",
  coerce: (raw) => raw.trim().toLowerCase(),
  validate(value) {
    if (typeof value !== "string" || !SASL_MECHANISMS.includes(value.trim().toLowerCase())) {
      fail(`must be one of ${SASL_MECHANISMS.map((m) => JSON.stringify(m)).join(", ")} (any case)`);
    }
  },
});

/** A SHA-256 fingerprint: 64 hex digits, with or without colons ("" = none). */
export const SHA256_FINGERPRINT = define({
  name: "sha256-fingerprint",
  validate(value) {
    if (typeof value !== "string") fail("must be a string");
    if (value !== "" && !/^[0-9A-Fa-f]{64}$/.test(value.replace(/:/g, ""))) {
      fail("must be a SHA-256 fingerprint: 64 hex digits, colons allowed (openssl x509 -fingerprint -sha256)");
    }
  },
});
