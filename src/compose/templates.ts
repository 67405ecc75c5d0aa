/**
 * Index templates as configured: the options derived from the configuration (the
 * index patterns from the routing unless given), the data-stream mode's effect on
 * routing and op type, and the install at start when INDEX_TEMPLATE_INSTALL is on.
 */
import type { Client } from "@elastic/elasticsearch";
import { effectiveIndexTemplate, topicSections, topicSettingsLookup } from "../config/effective.ts";
import type { Config } from "../config/schema.ts";
import { ConfigError } from "../errors.ts";
import { topicSelector } from "../pipeline/topic-settings.ts";
import { buildTemplateRequests, derivePatterns, type TemplateRequest } from "../sink/index-templates.ts";
import type { SinkLogger } from "../sink/observer.ts";
import { installTemplates, type InstallResult } from "../sink/template-installer.ts";

/** The configured patterns, or those of the routing; a reason when neither gives a safe set. */
export function templatePatterns(config: Config): string[] | string {
  const t = config.indexTemplates;
  if (t.patterns.length > 0) return t.patterns;
  const prefix = config.index.prefix;
  const lookup = topicSettingsLookup(config);
  const topicMap: Record<string, string> = {};
  const patternTemplates: string[] = [];
  for (const [key, overrides] of Object.entries(topicSections(config))) {
    if (overrides.indexTemplate === undefined) continue;
    const selector = topicSelector(key);
    if ("exact" in selector) topicMap[key] = prefix + lookup(key).indexTemplate;
    else patternTemplates.push(prefix + overrides.indexTemplate);
  }
  for (const topic of config.kafka.topics) topicMap[topic] = prefix + lookup(topic).indexTemplate;
  return derivePatterns({
    template: prefix + effectiveIndexTemplate(config),
    topicMap,
    patternTemplates,
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
