/**
 * Does the V8 heap limit the process was started with fit the queue it is configured
 * for? The shipped launchers cap the old space (--max-old-space-size=64, issue 12): that
 * bounds the collector's slack, but a worker whose queue holds far more records than
 * the default would die of a heap OOM under load rather than at start. Record bytes live
 * outside the heap (Buffers); what the heap holds per queued record is its metadata,
 * decoded action, serialized action line and ack closure: about 1.7 KiB measured (heap
 * 24 MiB idle, 41 MiB with 10,000 records held through a 429 storm), rounded up.
 */
const BASE_HEAP_BYTES = 40 * 2 ** 20;
const HEAP_BYTES_PER_QUEUED_RECORD = 2 * 1024;

export interface HeapBudget {
  /** What the queue may need at most, for the warning line. */
  readonly neededBytes: number;
  readonly limitBytes: number;
  readonly fits: boolean;
}

/** `limitBytes` is v8.getHeapStatistics().heap_size_limit (old space plus young generation). */
export function heapBudget(limitBytes: number, queueMaxRecords: number): HeapBudget {
  const neededBytes = BASE_HEAP_BYTES + queueMaxRecords * HEAP_BYTES_PER_QUEUED_RECORD;
  return { neededBytes, limitBytes, fits: neededBytes <= limitBytes };
}

/** The warning for a budget that does not fit, naming the setting and the flag to raise. */
export function heapBudgetWarning(budget: HeapBudget, queueMaxRecords: number): string | undefined {
  if (budget.fits) return undefined;
  const mib = (bytes: number): string => String(Math.ceil(bytes / 2 ** 20));
  return `the V8 heap limit (${mib(budget.limitBytes)} MiB) is below what queue.maxRecords=${String(queueMaxRecords)} may need (about ${mib(budget.neededBytes)} MiB): ` +
    `start node with a larger --max-old-space-size (the image reads NODE_OPTIONS) or lower QUEUE_MAX_RECORDS, or the worker may die of a heap OOM under load`;
}
