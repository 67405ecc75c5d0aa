/**
 * The memory model (shared/memory-model.ts) for this process: the configuration, the
 * brokers preflight counted and the heap limit the process was started with.
 */
import { getHeapStatistics } from "node:v8";
import type { Logger } from "pino";
import { schemaLeaves, type Config } from "../config/schema.ts";
import { ConfigError } from "../errors.ts";
import { describeMemoryPlan, fetchLoweredWarning, memoryPlan, memoryRefusal, type MemoryPlan, type MemorySettings } from "../shared/memory-model.ts";

/**
 * Brokers assumed when Kafka did not answer at start: production clusters have three
 * or more, and a fetch per broker planned for too few would overrun the heap.
 */
export const ASSUMED_BROKERS = 3;

/** A configuration the heap cannot hold: start ends with its one line and exit 2. */
export class MemoryRefusedError extends ConfigError {}

export function memorySettings(config: Config, brokers: number): MemorySettings {
  return {
    queueMaxRecords: config.queue.maxRecords,
    queueMaxBytes: config.queue.maxBytes,
    kafkaMaxBytes: config.kafka.maxBytes,
    kafkaMaxBytesPerPartition: config.kafka.maxBytesPerPartition,
    bulkMaxBytes: config.bulk.maxBytes,
    bulkWorkers: config.bulk.workers,
    brokers,
  };
}

/** The plan under this process's heap limit (v8 heap_size_limit). */
export function processMemoryPlan(config: Config, brokers = ASSUMED_BROKERS): MemoryPlan {
  return memoryPlan(memorySettings(config, brokers), getHeapStatistics().heap_size_limit);
}

/** True when kafka.maxBytes is not the schema's default (someone chose it). */
function fetchSizeChosen(config: Config): boolean {
  return schemaLeaves.find((l) => l.path === "kafka.maxBytes")?.item.default !== config.kafka.maxBytes;
}

/**
 * The plan start runs with: refused (ConfigError, exit 2, one line naming the values)
 * when the base and the queue alone do not fit the heap; a warning when the heap, not
 * the configured KAFKA_MAX_BYTES, set the fetch size; the model in the start-up log either way.
 */
export function startMemoryPlan(config: Config, brokers: number | undefined, logger: Logger): MemoryPlan {
  const settings = memorySettings(config, brokers ?? ASSUMED_BROKERS);
  const plan = memoryPlan(settings, getHeapStatistics().heap_size_limit);
  const refusal = memoryRefusal(plan, settings);
  if (refusal !== undefined) throw new MemoryRefusedError(refusal);
  const lowered = fetchLoweredWarning(plan, settings);
  // A warning when the operator chose the fetch size; the default's lowering is the plan.
  if (lowered !== undefined) logger[fetchSizeChosen(config) ? "warn" : "info"](lowered);
  logger.info({ brokers: plan.brokers, brokersCounted: brokers !== undefined, fetchMaxBytes: plan.fetch.maxBytes, heapLimitBytes: plan.limitBytes, heapPlannedBytes: plan.heap.total }, `memory model: ${describeMemoryPlan(plan)}`);
  return plan;
}
