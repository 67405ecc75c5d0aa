/**
 * Settings derived from several keys, resolved in one place for every command: the
 * data-stream mode's effect on routing and op type, and each topic's settings (the
 * global ones, the per-topic section, index.topicMap).
 */
import { createTopicSettingsLookup, type TopicOverrides, type TopicSettings, type TopicSettingsLookup, type OpType } from "../pipeline/topic-settings.ts";
import type { Config } from "./schema.ts";

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

/** What a topic no entry of `topicSettings` selects is read and written with. */
export function globalTopicSettings(config: Config): TopicSettings {
  return {
    valueFormat: config.format.value,
    keyFormat: config.format.key,
    indexTemplate: effectiveIndexTemplate(config),
    pipeline: config.document.pipeline,
    idStrategy: config.document.idStrategy,
    opType: effectiveOpType(config),
  };
}

/** `topicSettings` with index.topicMap folded in as exact entries' index templates (check-config refuses a topic in both). */
export function topicSections(config: Config): Record<string, TopicOverrides> {
  const sections: Record<string, TopicOverrides> = { ...config.topicSettings };
  for (const [topic, indexTemplate] of Object.entries(config.index.topicMap)) {
    sections[topic] = { ...sections[topic], indexTemplate };
  }
  return sections;
}

/** topic -> effective settings, as configured: the one lookup the decoder and router use. */
export function topicSettingsLookup(config: Config): TopicSettingsLookup {
  return createTopicSettingsLookup(globalTopicSettings(config), topicSections(config));
}
