import type { BulkAction, PendingDocument } from "../pipeline/document.ts";
import type { QueuedRecord } from "../pipeline/record.ts";

/** What settling a queued record does besides its ack: the pool frees its queue budget and reports it. */
export interface RecordSettler {
  /** The record was settled (indexed, skipped, dead-lettered): ack it, free its budget, report it. */
  acked(item: QueuedRecord): void;
  /** The record was handed back unacked (its partition is held): free its budget only. */
  givenBack(item: QueuedRecord): void;
}

/**
 * A decoded record on its way to Elasticsearch, as the bulk workers batch it, with its
 * idempotent ack and (`holdable`: the workers run with partition holds) give-back:
 * whichever comes first wins, the other is then a no-op. The sender reads an absent
 * `giveBack` as "retry in place".
 */
export function queuedDocument(item: QueuedRecord, action: BulkAction, actionLine: string, settler: RecordSettler, holdable: boolean): PendingDocument {
  let settled = false;
  const ack = (): void => {
    if (settled) return;
    settled = true;
    settler.acked(item);
  };
  const giveBack = (): void => {
    if (settled) return;
    settled = true;
    settler.givenBack(item);
  };
  return { action, origin: item.record, ack, actionLine, ...(holdable ? { giveBack } : {}) };
}
