/**
 * The record formats as configured: the topic -> formats lookup the decoder and the
 * schema gate share (the per-topic settings: format.value / format.key, overridden by
 * topicSettings entries), and, when a format needs the registry, its client and the
 * gate that loads schemas before records are decoded.
 */
import type { Config } from "../config/schema.ts";
import type { KafkaRecord, QueuedRecord } from "../pipeline/record.ts";
import { schemaLoader } from "../pipeline/schemas/compile.ts";
import { topicSettingsLookup } from "../config/effective.ts";
import { usesRegistry, type FormatLookup } from "../pipeline/schemas/record-format.ts";
import { createRegistryClient } from "../pipeline/schemas/registry-client.ts";
import { SchemaGate, type SchemaLogger, type SchemaObserver } from "../pipeline/schemas/schema-gate.ts";
import { backoffDelay } from "../sink/retry-policy.ts";

export interface SchemaParts {
  readonly formats: FormatLookup;
  /** Present when some format reads from the registry. */
  readonly gate: SchemaGate<QueuedRecord> | undefined;
  /** Stops retries and closes the registry's connections. */
  close(): void;
}

/** Whether any topic's key or value is read through the registry (the global formats or a topicSettings entry). */
function needsRegistry(config: Config): boolean {
  const formats = [config.format.value, config.format.key, ...Object.values(config.topicSettings).flatMap((o) => [o.valueFormat, o.keyFormat])];
  return formats.some((format) => format !== undefined && usesRegistry(format));
}

export function composeSchemas(config: Config, logger: SchemaLogger, observer?: SchemaObserver): SchemaParts {
  // The per-topic settings lookup (format.value / format.key, overridden per topic): the same one the decoder reads.
  const formats: FormatLookup = topicSettingsLookup(config);
  if (!needsRegistry(config)) return { formats, gate: undefined, close: () => undefined };
  const client = createRegistryClient(config.schemaRegistry);
  const retry = { retryInitialMs: config.bulk.retryInitialMs, retryMaxMs: config.bulk.retryMaxMs };
  const gate = new SchemaGate<QueuedRecord>({
    formats,
    load: schemaLoader(client),
    recordOf: (item): KafkaRecord => item.record,
    cacheSize: config.schemaRegistry.cacheSize,
    retryDelayMs: (attempt) => Math.max(1, backoffDelay(attempt, retry)),
    logger,
    ...(observer === undefined ? {} : { observer }),
  });
  return {
    formats,
    gate,
    close() {
      gate.close();
      client.close();
    },
  };
}
