/**
 * Kafka record timestamps are not always usable: old message formats and some
 * producers send -1 ("no timestamp"), and a buggy producer can send anything. Dates
 * outside [1970, 9999] would give index names and ISO strings Elasticsearch rejects
 * (and `toISOString` throws on non-finite values).
 *
 * Such records are dated NO_TIMESTAMP_MS, the Unix epoch (1970-01-01T00:00:00Z), in
 * the index name and in the added timestamp field alike: never the clock, so that a
 * redelivery (after a crash, a rebalance, or past midnight) lands in the same index
 * and overwrites the same document instead of creating a second one.
 */
const MAX_TIMESTAMP_MS = Date.UTC(9999, 0, 1);

/** The date given to a record without a usable timestamp: deterministic, never the clock. */
export const NO_TIMESTAMP_MS = 0;

/** True when `ms` can be used as a record date (1970-01-01 <= ms < 9999-01-01). */
export function isValidTimestamp(ms: number): boolean {
  return ms >= 0 && ms < MAX_TIMESTAMP_MS;
}

/** The record's own timestamp when usable, else NO_TIMESTAMP_MS. */
export function effectiveTimestamp(ms: number): number {
  return isValidTimestamp(ms) ? ms : NO_TIMESTAMP_MS;
}
