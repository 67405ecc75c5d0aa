/**
 * What the worker holds in memory, from its configuration (issue 17): the fetch
 * responses in flight (kafkajs runs one fetch per broker at once), the queue, and the
 * bulk bodies in flight. Pure: the start-up check (compose), the fetch sizes the reader
 * asks for and the bench's "what bounds it" all read this one model.
 *
 * Two kinds of memory:
 * - the V8 heap, bounded by the limit the process was started with (the launchers pass
 *   --max-old-space-size=96, oldSpaceFor the default configuration): a decoded fetch response is one object per record plus its
 *   offset and timestamp strings and slices, about 350 heap bytes per record of ~100
 *   bytes whatever the response's bytes; the queue holds per record its decoded action,
 *   serialized action line and ack closure. Running out of it is a crash ("JavaScript
 *   heap out of memory", exit 134) that every restart repeats on the same backlog.
 * - Buffers outside the heap (fetch responses, record bytes, bulk bodies): resident
 *   memory, reported beside the heap.
 *
 * So the fetch size per broker is derived (never above what was configured): a quarter
 * of the queue's byte budget shared among the brokers, and no more than the heap left
 * once the base and the queue are counted. A configuration whose base and queue alone do
 * not fit the heap is refused at start.
 */

const MIB = 2 ** 20;

/*
 * Calibrated (issue 17, /work/notes/heap-ab.md) with --trace-gc in the worst case the
 * model must bound: a backlog read with full fetches (test/faults/memory-backlog.test.ts,
 * 12 partitions, 10,000 queued records). Per fetch size: the peak heap used (when a
 * collection starts) and the most a full collection left (live):
 *   2.8 MiB: 54.4 / 42.4 MiB;  10.9 MiB: 88.0 / 75.8;  11.5 MiB: 87.6 / 74.8;
 *   13 MiB: 90.4 / 79.5;  27 MiB: 126.1 / 123.4;  8.6 MiB in a 64 MiB old space: out of memory.
 * The model plans 60.5, 86.4, 88.3, 93.1 and 137.9 MiB: above every live figure, and
 * within 15 % of the peaks (0.98-1.11: when the plan fills the old space, V8 lets
 * collectable garbage grow to about the same figure before it collects). The bench's
 * backlog, whose fetches are far from full (6 partitions, paused while the queue is
 * full), peaks lower; `make bench` prints the check ("Memory model: planned heap vs
 * measured peak heap").
 */
/** Heap of the worker without records: modules, clients, metrics (25 MiB used at the partition assignment), and the collector's lag behind it. */
export const BASE_HEAP_BYTES = 32 * MIB;
/** Heap per record held in the queue or a bulk request (decoded action, action line, ack): about 1.7 KiB measured through a 429 storm (issue 12), rounded up. */
export const HEAP_BYTES_PER_QUEUED_RECORD = 2 * 1024;
/**
 * Heap per fetched record as kafkajs decodes it: 344 bytes measured per 100-byte record
 * (the worker's peak heap with 50 MiB against 8 MiB fetches: 205.6 - 74.1 MiB for 42 MiB
 * of fetch, i.e. 3.13 heap bytes per fetched byte), rounded up. The worst case: a whole
 * response decoded at once, which a backlog read with large fetches reaches.
 */
export const HEAP_BYTES_PER_FETCHED_RECORD = 352;
/**
 * The record size the model assumes: a 100-byte value with its framing in a record
 * batch. Smaller records cost more heap per fetched byte; larger ones less.
 */
export const MODELED_RECORD_WIRE_BYTES = 110;
/** Heap bytes a fetched byte costs once decoded (3.2). */
export const HEAP_PER_FETCHED_BYTE = HEAP_BYTES_PER_FETCHED_RECORD / MODELED_RECORD_WIRE_BYTES;
/** The share of the old space the model plans for: the collector needs room to work. */
export const HEAP_SHARE = 0.9;
/**
 * The young generation inside V8's heap_size_limit: three semi-spaces of the launchers'
 * --max-semi-space-size=4. Held data ends up in the old space, so the plan is against
 * the old space alone (a 64 MiB old space ran out at 63.8 MiB of heap used, not at its
 * heap_size_limit of 76 MiB).
 */
export const YOUNG_GENERATION_BYTES = 3 * 4 * MIB;
/** --max-old-space-size values the model names are rounded up to this step (MiB). */
export const OLD_SPACE_STEP_MIB = 32;
/** A fetch response is capped at this share of the queue's byte budget, across all brokers. */
export const FETCH_SHARE_OF_QUEUE = 0.25;
/** kafkajs refuses nothing smaller, but a fetch below one large record only slows things down. */
export const MIN_FETCH_BYTES = 64 * 1024;

export interface MemorySettings {
  readonly queueMaxRecords: number;
  readonly queueMaxBytes: number;
  /** kafka.maxBytes and kafka.maxBytesPerPartition as configured. */
  readonly kafkaMaxBytes: number;
  readonly kafkaMaxBytesPerPartition: number;
  readonly bulkMaxBytes: number;
  readonly bulkWorkers: number;
  /** Brokers the assignment may span: one fetch in flight per broker. */
  readonly brokers: number;
}

export interface FetchSizes {
  /** Per fetch request, i.e. per broker. */
  readonly maxBytes: number;
  readonly maxBytesPerPartition: number;
}

export interface MemoryPlan {
  readonly brokers: number;
  /** What the reader asks each broker for. */
  readonly fetch: FetchSizes;
  /** True when the heap, not the queue's budget or the configuration, set the fetch size. */
  readonly fetchLoweredForHeap: boolean;
  readonly heap: { readonly base: number; readonly queue: number; readonly fetches: number; readonly total: number };
  /** Bytes outside the heap at most: fetch responses, record bytes queued, bulk bodies. */
  readonly buffers: { readonly fetches: number; readonly queue: number; readonly bulk: number; readonly total: number };
  /** V8's heap_size_limit, and the part of it the model plans for. */
  readonly limitBytes: number;
  readonly plannedBytes: number;
  /** False when even the smallest fetches do not fit: start refuses the configuration. */
  readonly fits: boolean;
}

/** The fetch sizes derived from the queue's budget and the heap left for fetches. */
function derivedFetch(s: MemorySettings, heapRoom: number): { fetch: FetchSizes; loweredForHeap: boolean } {
  const brokers = Math.max(1, s.brokers);
  const byQueue = Math.max(MIN_FETCH_BYTES, Math.floor((s.queueMaxBytes * FETCH_SHARE_OF_QUEUE) / brokers));
  const byHeap = Math.max(MIN_FETCH_BYTES, Math.floor(heapRoom / (brokers * HEAP_PER_FETCHED_BYTE)));
  const maxBytes = Math.min(s.kafkaMaxBytes, byQueue, byHeap);
  const loweredForHeap = byHeap < Math.min(s.kafkaMaxBytes, byQueue);
  return { fetch: { maxBytes, maxBytesPerPartition: Math.min(s.kafkaMaxBytesPerPartition, maxBytes) }, loweredForHeap };
}

/** The plan for `settings` under a heap limit of `limitBytes` (v8.getHeapStatistics().heap_size_limit). */
export function memoryPlan(settings: MemorySettings, limitBytes: number): MemoryPlan {
  const brokers = Math.max(1, settings.brokers);
  const plannedBytes = Math.floor(Math.max(0, limitBytes - YOUNG_GENERATION_BYTES) * HEAP_SHARE);
  const queueHeap = settings.queueMaxRecords * HEAP_BYTES_PER_QUEUED_RECORD;
  const { fetch, loweredForHeap } = derivedFetch(settings, plannedBytes - BASE_HEAP_BYTES - queueHeap);
  const fetchHeap = Math.ceil(brokers * fetch.maxBytes * HEAP_PER_FETCHED_BYTE);
  const heapTotal = BASE_HEAP_BYTES + queueHeap + fetchHeap;
  const buffers = { fetches: brokers * fetch.maxBytes, queue: settings.queueMaxBytes, bulk: settings.bulkWorkers * settings.bulkMaxBytes };
  return {
    brokers,
    fetch,
    fetchLoweredForHeap: loweredForHeap,
    heap: { base: BASE_HEAP_BYTES, queue: queueHeap, fetches: fetchHeap, total: heapTotal },
    buffers: { ...buffers, total: buffers.fetches + buffers.queue + buffers.bulk },
    limitBytes,
    plannedBytes,
    fits: heapTotal <= plannedBytes,
  };
}

export const mib = (bytes: number): string => (bytes >= 10 * MIB || bytes % MIB === 0 ? String(Math.ceil(bytes / MIB)) : (bytes / MIB).toFixed(1));

/**
 * The --max-old-space-size (MiB) that holds `settings` without lowering a fetch: the
 * model's heap with the fetches the configuration and the queue's budget allow, over
 * HEAP_SHARE, rounded up to OLD_SPACE_STEP_MIB. The launchers ship this value for the
 * default configuration (test/unit/docker/launch-flags.test.ts); a configuration that
 * needs more is told this number at start.
 */
export function oldSpaceFor(settings: MemorySettings): number {
  const unbounded = memoryPlan(settings, Number.MAX_SAFE_INTEGER);
  return Math.ceil(unbounded.heap.total / HEAP_SHARE / MIB / OLD_SPACE_STEP_MIB) * OLD_SPACE_STEP_MIB;
}

const HOW_TO_SET = "in the image through NODE_OPTIONS, outside it node --max-old-space-size=N dist/main.js start";

/** The one line start prints before exiting 2, naming the values; undefined when the plan fits. */
export function memoryRefusal(plan: MemoryPlan, settings: MemorySettings): string | undefined {
  if (plan.fits) return undefined;
  return `the V8 heap limit (${mib(plan.limitBytes)} MiB) cannot hold this configuration: QUEUE_MAX_RECORDS=${String(settings.queueMaxRecords)} needs about ` +
    `${mib(plan.heap.queue)} MiB of heap, plus ${mib(plan.heap.base)} MiB for the worker and ${mib(plan.heap.fetches)} MiB for the smallest fetches from ${String(plan.brokers)} broker(s) ` +
    `(${mib(plan.heap.total)} MiB, above ${String(HEAP_SHARE * 100)} % of the old space): lower QUEUE_MAX_RECORDS or start node with --max-old-space-size=${String(oldSpaceFor(settings))} (${HOW_TO_SET})`;
}

/** The line start logs when the heap, not the configuration, set the fetch size; undefined otherwise. */
export function fetchLoweredWarning(plan: MemoryPlan, settings: MemorySettings): string | undefined {
  if (!plan.fetchLoweredForHeap) return undefined;
  return `fetches lowered to ${mib(plan.fetch.maxBytes)} MiB per broker (KAFKA_MAX_BYTES=${String(settings.kafkaMaxBytes)}) so that ${String(plan.brokers)} broker(s) ` +
    `in flight fit the V8 heap limit of ${mib(plan.limitBytes)} MiB beside QUEUE_MAX_RECORDS=${String(settings.queueMaxRecords)}: ` +
    `--max-old-space-size=${String(oldSpaceFor(settings))} allows the configured fetches (${HOW_TO_SET})`;
}

/** The model in one line, for the start-up log and the bench's "what bounds it". */
export function describeMemoryPlan(plan: MemoryPlan): string {
  const { heap, buffers } = plan;
  return `heap: ${mib(heap.total)} of ${mib(plan.limitBytes)} MiB planned (worker ${mib(heap.base)}, queue ${mib(heap.queue)}, ` +
    `fetches ${mib(heap.fetches)}: ${String(plan.brokers)} broker(s) x ${mib(plan.fetch.maxBytes)} MiB at ${HEAP_PER_FETCHED_BYTE.toFixed(1)} heap bytes per fetched byte); ` +
    `buffers: at most ${mib(buffers.total)} MiB (fetches ${mib(buffers.fetches)}, queue ${mib(buffers.queue)}, bulk bodies ${mib(buffers.bulk)})`;
}

/**
 * V8's heap_size_limit for node flags that set both spaces: the old space plus three
 * semi-spaces (two, and the new large-object space): 108 MiB for the launchers' 96 and 4.
 * Undefined otherwise (V8 then sizes what is missing from the machine's memory).
 */
export function heapLimitFromFlags(flags: readonly string[]): number | undefined {
  const value = (name: string): number | undefined => {
    for (const flag of flags) {
      const found = new RegExp(`^--${name}=(\\d+)$`).exec(flag);
      if (found !== null) return Number(found[1]);
    }
    return undefined;
  };
  const old = value("max-old-space-size");
  const semi = value("max-semi-space-size");
  return old === undefined || semi === undefined ? undefined : (old + 3 * semi) * MIB;
}
