/**
 * The index templates the worker can install for the indices it writes: pure
 * builders of the request bodies, the index patterns derived from the routing, and
 * the decision whether an installed template may be (re)placed. No I/O here; see
 * template-installer.ts for the requests.
 *
 * Mappings that suit log data, chosen so that what used to be a mapping conflict
 * under dynamic mapping is indexed:
 * - `subobjects: false`: a dotted name stays a leaf field, so `host` (a string) and
 *   `host.name` coexist, and objects in documents are flattened to dotted names;
 * - `index.mapping.ignore_malformed`: a value that does not fit its field's type
 *   (`"status": "ok"` after `200`) is left unindexed (listed in `_ignored`), the
 *   document is kept;
 * - unknown strings become `keyword` (ignore_above 1024), those with message-like names
 *   also get a `.text` full-text sub-field; `message` itself is `text`, the timestamp
 *   field a `date`; a total-fields limit guards against field explosions.
 */
import { createHash } from "node:crypto";
import { compileIndexTemplate, sanitizeTopic } from "../pipeline/index-name.ts";

/** Bump when the bodies built here change: installed templates of a lower version are updated. */
export const TEMPLATE_VERSION = 1;
export const MANAGED_BY = "kafka-es-transfer";

export interface IndexTemplateOptions {
  readonly name: string;
  readonly patterns: readonly string[];
  readonly priority: number;
  readonly shards: number;
  readonly replicas: number;
  readonly totalFieldsLimit: number;
  readonly dataStream: boolean;
  readonly timestampField: string;
  readonly messageField: string;
  /** "" when the decoder adds no metadata object. */
  readonly metadataField: string;
}

export interface TemplateRequest {
  readonly kind: "component" | "index";
  readonly name: string;
  readonly body: Record<string, unknown>;
}

const MESSAGE_LIKE = "^(.*[._])?(message|msg|description|reason|error|text|summary)$";

function mappings(o: IndexTemplateOptions): Record<string, unknown> {
  const properties: Record<string, unknown> = {
    // A data stream refuses ignore_malformed on its timestamp: it must always be a date.
    [o.timestampField]: o.dataStream ? { type: "date", ignore_malformed: false } : { type: "date" },
    [o.messageField]: { type: "text" },
    [`${o.messageField}_base64`]: { type: "binary" },
  };
  if (o.metadataField !== "") {
    const m = o.metadataField;
    Object.assign(properties, {
      [`${m}.topic`]: { type: "keyword" },
      [`${m}.partition`]: { type: "integer" },
      [`${m}.offset`]: { type: "long" },
      [`${m}.timestamp`]: { type: "date" },
      [`${m}.key`]: { type: "keyword", ignore_above: 1024 },
      [`${m}.key_base64`]: { type: "binary" },
    });
  }
  return {
    subobjects: false,
    dynamic_templates: [
      {
        message_like_strings: {
          match_mapping_type: "string",
          match_pattern: "regex",
          match: MESSAGE_LIKE,
          mapping: { type: "keyword", ignore_above: 1024, fields: { text: { type: "text" } } },
        },
      },
      { strings_as_keywords: { match_mapping_type: "string", mapping: { type: "keyword", ignore_above: 1024 } } },
    ],
    properties,
  };
}

function meta(body: Record<string, unknown>): Record<string, unknown> {
  // The digest tells a configuration change (shards, patterns...) from the same version.
  const digest = createHash("sha256").update(JSON.stringify(body)).digest("hex").slice(0, 16);
  return { ...body, version: TEMPLATE_VERSION, _meta: { managed_by: MANAGED_BY, version: TEMPLATE_VERSION, digest } };
}

/** The component templates first (the index template refers to them), then the index template. */
export function buildTemplateRequests(o: IndexTemplateOptions): TemplateRequest[] {
  const settingsName = `${o.name}-settings`;
  const mappingsName = `${o.name}-mappings`;
  const settings = {
    index: {
      number_of_shards: o.shards,
      number_of_replicas: o.replicas,
      mapping: { total_fields: { limit: o.totalFieldsLimit }, ignore_malformed: true },
    },
  };
  const index: Record<string, unknown> = {
    index_patterns: [...o.patterns],
    composed_of: [settingsName, mappingsName],
    priority: o.priority,
    ...(o.dataStream ? { data_stream: {} } : {}),
  };
  return [
    { kind: "component", name: settingsName, body: meta({ template: { settings } }) },
    { kind: "component", name: mappingsName, body: meta({ template: { mappings: mappings(o) } }) },
    { kind: "index", name: o.name, body: meta(index) },
  ];
}

/** `template` with {topic} -> `topic` (sanitized) or "*", date groups -> "*". */
function glob(template: string, topic: string | undefined): string {
  const name = topic === undefined ? "*" : sanitizeTopic(topic, compileIndexTemplate(template));
  return template.replace(/\{topic\}/g, name).replace(/\{[^}]*\}/g, "*").replace(/\*+/g, "*");
}

export interface RoutingForPatterns {
  /** index.prefix + index.template. */
  readonly template: string;
  /** Topic -> index.prefix + its own template (index.topicMap, topicSettings). */
  readonly topicMap: Readonly<Record<string, string>>;
  /** index.prefix + the templates of topicSettings' /regex/ entries: for topics not known by name. */
  readonly patternTemplates?: readonly string[];
  /** Explicit topics (kafka.topics). */
  readonly topics: readonly string[];
  /** Whether topics also come from a pattern (kafka.topicPattern): names not known yet. */
  readonly topicPattern: boolean;
}

/**
 * The index patterns matching every index the routing can produce: per explicit topic
 * when topics are listed, with "*" for the topic when a topic pattern may bring more.
 * A reason instead when that would be a pattern of wildcards only (it would catch
 * other people's indices): then the patterns must be configured.
 */
export function derivePatterns(r: RoutingForPatterns): string[] | string {
  const patterns = new Set<string>();
  for (const topic of r.topics) patterns.add(glob(r.topicMap[topic] ?? r.template, topic));
  for (const [topic, template] of Object.entries(r.topicMap)) patterns.add(glob(template, topic));
  const wideTemplates = [...(r.topicPattern ? [r.template] : []), ...(r.patternTemplates ?? [])];
  for (const template of wideTemplates) {
    const wide = glob(template, undefined);
    if (/^[*.+_-]*$/.test(wide)) {
      return `the index template ${JSON.stringify(template)} gives the pattern ${JSON.stringify(wide)} for topics not known by name (kafka.topicPattern, topicSettings patterns), which would match every index: set indexTemplates.patterns`;
    }
    patterns.add(wide);
  }
  if (patterns.size === 0) return "no topics to derive index patterns from: set indexTemplates.patterns";
  return [...patterns].sort();
}

export type InstallAction = "create" | "update" | "keep" | "foreign";

/**
 * What to do about one template given what is installed under its name: create it
 * when absent; leave one we did not install alone unless `overwrite`; keep ours when
 * it has our version and digest, or a newer version (a newer worker owns it); else update.
 */
export function decideInstall(installed: Record<string, unknown> | undefined, wanted: Record<string, unknown>, overwrite: boolean): InstallAction {
  if (installed === undefined) return "create";
  const have = installed._meta as { managed_by?: unknown; version?: unknown; digest?: unknown } | undefined;
  const want = wanted._meta as { version: number; digest: string };
  if (have?.managed_by !== MANAGED_BY) return overwrite ? "update" : "foreign";
  const version = typeof have.version === "number" ? have.version : 0;
  if (version > want.version) return "keep";
  return version === want.version && have.digest === want.digest ? "keep" : "update";
}
