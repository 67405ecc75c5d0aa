/**
 * Index templates as configured: the options derived from the configuration (the
 * index patterns from the routing unless given), the data-stream mode's effect on
 * routing and op type, and the install at start when INDEX_TEMPLATE_INSTALL is on.
 */
import type { Client } from "@elastic/elasticsearch";
import type { Config } from "../config/schema.ts";
import { ConfigError } from "../errors.ts";
import type { OpType } from "../pipeline/decoder.ts";
import { buildTemplateRequests, derivePatterns, type TemplateRequest } from "../sink/index-templates.ts";
import type { SinkLogger } from "../sink/observer.ts";
import { installTemplates, type InstallResult } from "../sink/template-installer.ts";

/** The schema's default index template, which data-stream mode replaces. */
const DEFAULT_INDEX_TEMPLATE = "{topic}";
export const DATA_STREAM_INDEX_TEMPLATE = "logs-{topic}-default";

/** index.template, or logs-{topic}-default in data-stream mode when it was left at its default. */
export function effectiveIndexTemplate(config: Config): string {
  const { template } = config.index;
  return config.indexTemplates.dataStream && template === DEFAULT_INDEX_TEMPLATE ? DATA_STREAM_INDEX_TEMPLATE : template;
}

/** Data streams accept only op_type create. */
export function effectiveOpType(config: Config): OpType {
  return config.indexTemplates.dataStream ? "create" : config.document.opType;
}

/** The configured patterns, or those of the routing; a reason when neither gives a safe set. */
export function templatePatterns(config: Config): string[] | string {
  const t = config.indexTemplates;
  if (t.patterns.length > 0) return t.patterns;
  const prefix = config.index.prefix;
  const topicMap: Record<string, string> = {};
  for (const [topic, template] of Object.entries(config.index.topicMap)) topicMap[topic] = prefix + template;
  return derivePatterns({
    template: prefix + effectiveIndexTemplate(config),
    topicMap,
    topics: config.kafka.topics,
    topicPattern: config.kafka.topicPattern !== "",
  });
}

/** The requests `templates` prints and the install sends. */
export function templateRequests(config: Config): TemplateRequest[] {
  const patterns = templatePatterns(config);
  if (typeof patterns === "string") throw new ConfigError(`config: indexTemplates.patterns: ${patterns}`);
  const t = config.indexTemplates;
  return buildTemplateRequests({
    name: t.name,
    patterns,
    priority: t.priority,
    shards: t.shards,
    replicas: t.replicas,
    totalFieldsLimit: t.totalFieldsLimit,
    dataStream: t.dataStream,
    timestampField: config.document.timestampField,
    messageField: config.document.messageField,
    metadataField: config.document.metadataField,
  });
}

/** Installs (or updates) the templates when INDEX_TEMPLATE_INSTALL is on; throws when that fails. */
export async function installConfiguredTemplates(config: Config, es: Client, logger: SinkLogger): Promise<InstallResult[]> {
  if (!config.indexTemplates.install) return [];
  return installTemplates(es, templateRequests(config), config.indexTemplates.overwrite, logger);
}
