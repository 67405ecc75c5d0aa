/**
 * Kafka record timestamps are not always usable: old message formats and some
 * producers send -1 ("no timestamp"), and a buggy producer can send anything. Dates
 * outside [1970, 9999] would give index names and ISO strings Elasticsearch rejects
 * (and `toISOString` throws on non-finite values), so such records use the clock.
 */
const MAX_TIMESTAMP_MS = Date.UTC(9999, 0, 1);

/** True when `ms` can be used as a record date (1970-01-01 <= ms < 9999-01-01). */
export function isValidTimestamp(ms: number): boolean {
  return ms >= 0 && ms < MAX_TIMESTAMP_MS;
}

/** The record's own timestamp when usable, else the clock's current time. */
export function effectiveTimestamp(ms: number, now: () => number): number {
  return isValidTimestamp(ms) ? ms : now();
}
