/**
 * The memory model (shared/memory-model.ts) for this process: the configuration, the
 * brokers preflight counted and the heap limit the process was started with.
 */
import { getHeapStatistics, setFlagsFromString } from "node:v8";
import type { Logger } from "pino";
import { schemaLeaves, type Config } from "../config/schema.ts";
import { ConfigError } from "../errors.ts";
import { describeMemoryPlan, fetchLoweredWarning, memoryPlan, memoryRefusal, type MemoryPlan, type MemorySettings } from "../shared/memory-model.ts";

/**
 * Brokers assumed when Kafka did not answer at start: production clusters have three
 * or more, and a fetch per broker planned for too few would overrun the heap.
 */
export const ASSUMED_BROKERS = 3;

/**
 * How far (percent) V8 lets the old generation grow past what the last full collection
 * kept before it starts the next one. Under a small old space V8 chooses about 40 %
 * itself: with the worker's 27-31 MiB live and records promoted at its rate, a full
 * collection started every 0.3 s, some 300 per million records, a third of the worker's
 * CPU. At 100 % they are 2.4 times fewer and the worker's CPU per record a quarter
 * lower (bench-ab and the pinned 1M bench, stop 24's note): the old-space limit is
 * unchanged, so the memory model's bound holds. The price is RSS: Buffers that died
 * (fetch responses, bulk bodies) wait longer for the full collection that frees them
 * (1M-record backlog: peak RSS 173 -> 200 MiB for json records, 178 -> 189 for text).
 */
export const HEAP_GROWING_PERCENT = 100;

/**
 * Sets V8's heap growing factor for this process (read at every collection, so it
 * applies from the next one), unless node was started with its own. Not a launcher
 * flag: node refuses it in NODE_OPTIONS, which the image uses.
 */
export function paceCollector(execArgv: readonly string[] = process.execArgv): number | undefined {
  if (execArgv.some((arg) => /^--heap[-_]growing[-_]percent\b/.test(arg))) return undefined;
  setFlagsFromString(`--heap-growing-percent=${String(HEAP_GROWING_PERCENT)}`);
  return HEAP_GROWING_PERCENT;
}

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
  const heapGrowingPercent = paceCollector();
  logger.info({ heapGrowingPercent, brokers: plan.brokers, brokersCounted: brokers !== undefined, fetchMaxBytes: plan.fetch.maxBytes, heapLimitBytes: plan.limitBytes, heapPlannedBytes: plan.heap.total }, `memory model: ${describeMemoryPlan(plan)}`);
  return plan;
}
