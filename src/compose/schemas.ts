/**
 * The record formats as configured: the topic -> formats lookup the decoder and the
 * schema gate share, and, when a format needs the registry, its client and the gate
 * that loads schemas before records are decoded. Per-topic formats plug in here, as a
 * different lookup.
 */
import type { Config } from "../config/schema.ts";
import type { KafkaRecord, QueuedRecord } from "../pipeline/record.ts";
import { schemaLoader } from "../pipeline/schemas/compile.ts";
import { fixedFormats, usesRegistry, type FormatLookup } from "../pipeline/schemas/record-format.ts";
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

/** The formats of `topic`: today the global keys; per-topic sections override them here. */
export function composeFormats(config: Config): FormatLookup {
  return fixedFormats({ value: config.format.value, key: config.format.key });
}

export function composeSchemas(config: Config, logger: SchemaLogger, observer?: SchemaObserver): SchemaParts {
  const formats = composeFormats(config);
  const needsRegistry = usesRegistry(config.format.value) || usesRegistry(config.format.key);
  if (!needsRegistry) return { formats, gate: undefined, close: () => undefined };
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
