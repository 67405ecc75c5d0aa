/**
 * Fetch sizes tied to the queue's byte budget. The reader never refuses a fetched
 * batch (kafkajs needs `eachBatch` back at once), so one fetch response is what the
 * queue can overshoot its budget by; and the records of a response are slices of it
 * (see record-conversion.ts), so a response stays in memory until its last record is
 * settled. Capping a response at a quarter of the budget keeps both within about
 * 1.5 x `queue.maxBytes`, whatever kafka.maxBytes says.
 */
export const FETCH_SHARE_OF_QUEUE = 0.25;

/** kafkajs refuses nothing smaller, but a fetch below one large record only slows things down. */
const MIN_FETCH_BYTES = 64 * 1024;

export interface FetchSizes {
  readonly maxBytes: number;
  readonly maxBytesPerPartition: number;
}

export function fetchSizes(configured: FetchSizes, queueMaxBytes: number): FetchSizes {
  const cap = Math.max(MIN_FETCH_BYTES, Math.floor(queueMaxBytes * FETCH_SHARE_OF_QUEUE));
  const maxBytes = Math.min(configured.maxBytes, cap);
  return { maxBytes, maxBytesPerPartition: Math.min(configured.maxBytesPerPartition, maxBytes) };
}
