import type { BulkAction, PendingDocument } from "../pipeline/document.ts";
import type { KafkaRecord, QueuedRecord } from "../pipeline/record.ts";

/** What settling a queued record does besides its ack: the pool frees its queue budget and reports it. */
export interface RecordSettler {
  /** The record was settled (indexed, skipped, dead-lettered): ack it, free its budget, report it. */
  acked(item: QueuedRecord): void;
  /** The record was handed back unacked (its partition is held): free its budget only. */
  givenBack(item: QueuedRecord): void;
}

/**
 * A decoded record on its way to Elasticsearch, as the bulk workers batch it: one
 * object per record that is also its idempotent ack (and give-back), rather than a
 * document literal plus closures over a shared "settled" flag (issue 18: fewer
 * objects per record on the fetch -> bulk body path). Whichever of ack and give-back
 * comes first wins; the other is then a no-op.
 */
export class QueuedDocument implements PendingDocument {
  readonly action: BulkAction;
  readonly actionLine: string;
  readonly #item: QueuedRecord;
  readonly #settler: RecordSettler;
  #settled = false;

  constructor(item: QueuedRecord, action: BulkAction, actionLine: string, settler: RecordSettler) {
    this.action = action;
    this.actionLine = actionLine;
    this.#item = item;
    this.#settler = settler;
  }

  get origin(): KafkaRecord {
    return this.#item.record;
  }

  /** Acks the record once (later calls and a later give-back are no-ops). */
  ack(): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#settler.acked(this.#item);
  }

  /** Frees the record's budget without acking it, once (held partitions only: see HoldableDocument). */
  protected release(): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#settler.givenBack(this.#item);
  }
}

/**
 * A queued document whose partition may be held (the workers run with partition
 * holds): it can be given back. A separate class because the sender reads an absent
 * `giveBack` as "retry in place".
 */
export class HoldableDocument extends QueuedDocument {
  giveBack(): void {
    this.release();
  }
}

/** The document of a batched record (see QueuedDocument); `holdable`: the workers run with partition holds. */
export function queuedDocument(item: QueuedRecord, action: BulkAction, actionLine: string, settler: RecordSettler, holdable: boolean): PendingDocument {
  return holdable ? new HoldableDocument(item, action, actionLine, settler) : new QueuedDocument(item, action, actionLine, settler);
}
