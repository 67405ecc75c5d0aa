/**
 * Per-topic settings: what each topic's records are read as and written with. The
 * decoder and the router get every per-topic choice through one lookup, topic ->
 * effective settings, built once in the composition root from the global settings
 * (the defaults) and the configuration's `topicSettings` section, keyed by exact topic
 * name or by `/regex/` (matched against whole names, as kafka.topicPattern is).
 *
 * Resolution, per setting: the exact name's entry, else the first pattern (in the
 * section's order) that matches and sets it, else the global value.
 */
import { indexTemplateProblem } from "./index-name.ts";
import { VALUE_FORMATS, type ValueFormat } from "./value-format.ts";

/** Bulk operation: index (overwrite), create (data streams: an existing id counts as done), update (merge into the document, doc_as_upsert). */
export type OpType = "index" | "create" | "update";
export const OP_TYPES: readonly OpType[] = ["index", "create", "update"];

/**
 * coordinates: `<topic>-<partition>-<offset>`, redelivery overwrites (no duplicates).
 * key: the record key (UTF-8, or base64 when not valid UTF-8); keyless records fall
 *   back to coordinates. The latest record per key wins, by offset.
 * none: Elasticsearch picks ids; a redelivered record is indexed twice.
 */
export type IdStrategy = "coordinates" | "key" | "none";
export const ID_STRATEGIES: readonly IdStrategy[] = ["coordinates", "key", "none"];

export interface TopicSettings {
  readonly valueFormat: ValueFormat;
  readonly keyFormat: ValueFormat;
  /** Index name template, without index.prefix (the router adds it). */
  readonly indexTemplate: string;
  /** Ingest pipeline; "" = none. */
  readonly pipeline: string;
  readonly idStrategy: IdStrategy;
  readonly opType: OpType;
}

export type TopicOverrides = Partial<TopicSettings>;

export const TOPIC_SETTING_NAMES: readonly (keyof TopicSettings)[] = ["valueFormat", "keyFormat", "indexTemplate", "pipeline", "idStrategy", "opType"];

export type TopicSettingsLookup = (topic: string) => TopicSettings;

const KAFKA_TOPIC = /^[A-Za-z0-9._-]{1,249}$/;
const MAX_PIPELINE_BYTES = 512;
/** Topics come and go with pattern subscriptions: bound the cache. */
const MAX_CACHED_TOPICS = 10_000;

/** An entry's key: an exact topic name, or a `/regex/` over whole names. */
export type TopicSelector = { readonly exact: string } | { readonly pattern: RegExp };

/** Why `key` selects no topic, or undefined. */
export function topicSelectorProblem(key: string): string | undefined {
  if (key.length >= 2 && key.startsWith("/") && key.endsWith("/")) {
    try {
      new RegExp(`^(?:${key.slice(1, -1)})$`);
      return undefined;
    } catch (error) {
      return `is not a valid regular expression (${error instanceof Error ? error.message : String(error)})`;
    }
  }
  if (!KAFKA_TOPIC.test(key) || key === "." || key === "..") {
    return "is neither a Kafka topic name (1-249 of a-z A-Z 0-9 . _ -) nor a /regular expression/";
  }
  return undefined;
}

export function topicSelector(key: string): TopicSelector {
  return key.length >= 2 && key.startsWith("/") && key.endsWith("/") ? { pattern: new RegExp(`^(?:${key.slice(1, -1)})$`) } : { exact: key };
}

/** Why `pipeline` is no usable ingest pipeline name ("" = none), or undefined. */
export function pipelineProblem(pipeline: string): string | undefined {
  if (pipeline.trim() !== pipeline) return "must not start or end with spaces";
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f]/.test(pipeline)) return "must not contain control characters";
  if (Buffer.byteLength(pipeline) > MAX_PIPELINE_BYTES) return `must be at most ${String(MAX_PIPELINE_BYTES)} bytes`;
  return undefined;
}

function oneOf(options: readonly string[], value: unknown): string | undefined {
  return typeof value === "string" && options.includes(value) ? undefined : `must be one of ${options.map((o) => JSON.stringify(o)).join(", ")}`;
}

function settingProblem(name: keyof TopicSettings, value: unknown): string | undefined {
  switch (name) {
    case "valueFormat":
    case "keyFormat":
      return oneOf(VALUE_FORMATS, value);
    case "idStrategy":
      return oneOf(ID_STRATEGIES, value);
    case "opType":
      return oneOf(OP_TYPES, value);
    case "indexTemplate":
      return typeof value === "string" ? indexTemplateProblem(value) : "must be a string";
    case "pipeline":
      return typeof value === "string" ? pipelineProblem(value) : "must be a string";
  }
}

function isSettingName(name: string): name is keyof TopicSettings {
  return (TOPIC_SETTING_NAMES as readonly string[]).includes(name);
}

/**
 * Problems of one entry of the section, each naming the entry and the setting:
 * `["orders"].opType = "upsert": must be one of "index", "create", "update"`.
 */
export function topicEntryProblems(key: string, entry: unknown): string[] {
  const where = `[${JSON.stringify(key)}]`;
  const keyProblem = topicSelectorProblem(key);
  if (keyProblem !== undefined) return [`${where}: the key ${keyProblem}`];
  if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
    return [`${where} = ${JSON.stringify(entry)}: must be an object of settings (${TOPIC_SETTING_NAMES.join(", ")})`];
  }
  const problems: string[] = [];
  for (const [name, value] of Object.entries(entry as Record<string, unknown>)) {
    if (!isSettingName(name)) {
      problems.push(`${where}: unknown setting "${name}" (one of ${TOPIC_SETTING_NAMES.join(", ")})`);
      continue;
    }
    const problem = settingProblem(name, value);
    if (problem !== undefined) problems.push(`${where}.${name} = ${JSON.stringify(value)}: ${problem}`);
  }
  return problems;
}

interface PatternEntry {
  readonly pattern: RegExp;
  readonly overrides: TopicOverrides;
}

/** One setting for `topic`: exact entry, first matching pattern that sets it, global. */
function resolve<K extends keyof TopicSettings>(name: K, topic: string, exact: TopicOverrides | undefined, patterns: readonly PatternEntry[], defaults: TopicSettings): TopicSettings[K] {
  const own = exact?.[name];
  if (own !== undefined) return own;
  for (const { pattern, overrides } of patterns) {
    const value = overrides[name];
    if (value !== undefined && pattern.test(topic)) return value;
  }
  return defaults[name];
}

/** The lookup, topic -> effective settings, cached per topic. `sections` must be valid (`topicEntryProblems`). */
export function createTopicSettingsLookup(defaults: TopicSettings, sections: Readonly<Record<string, TopicOverrides>>): TopicSettingsLookup {
  const exact = new Map<string, TopicOverrides>();
  const patterns: PatternEntry[] = [];
  for (const [key, overrides] of Object.entries(sections)) {
    const selector = topicSelector(key);
    if ("exact" in selector) exact.set(selector.exact, overrides);
    else patterns.push({ pattern: selector.pattern, overrides });
  }
  const cache = new Map<string, TopicSettings>();
  return (topic) => {
    let settings = cache.get(topic);
    if (settings === undefined) {
      if (cache.size >= MAX_CACHED_TOPICS) cache.clear();
      const own = exact.get(topic);
      const pick = <K extends keyof TopicSettings>(name: K): TopicSettings[K] => resolve(name, topic, own, patterns, defaults);
      settings = {
        valueFormat: pick("valueFormat"),
        keyFormat: pick("keyFormat"),
        indexTemplate: pick("indexTemplate"),
        pipeline: pick("pipeline"),
        idStrategy: pick("idStrategy"),
        opType: pick("opType"),
      };
      cache.set(topic, settings);
    }
    return settings;
  };
}
