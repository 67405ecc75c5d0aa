import type { Ack, KafkaRecord } from "./record.ts";

/** One line pair of a bulk request, already serialized: the sink never re-encodes a source. */
export interface BulkAction {
  readonly op: "index" | "create" | "delete";
  readonly index: string;
  /** Undefined lets Elasticsearch choose the id (duplicates possible on redelivery). */
  readonly id: string | undefined;
  /**
   * External version (a decimal int64, the record's Kafka offset), set with key ids: a
   * write carrying an older offset than the document's is refused with 409, so a stale
   * record retried after a newer one succeeded never overwrites it.
   */
  readonly version?: string;
  /**
   * The document as JSON, absent for `delete`: UTF-8 bytes (the decoder's fast path
   * hands on the record's own bytes, never decoded to a string) or text.
   */
  readonly source: string | Buffer | undefined;
}

/** A decoded record on its way to Elasticsearch, with the ack of the Kafka record it came from. */
export interface PendingDocument {
  readonly action: BulkAction;
  readonly origin: KafkaRecord;
  readonly ack: Ack;
  /**
   * The action's bulk metadata line (`actionLine`), serialized once when the document
   * is batched and reused by every request that carries it; computed when absent.
   */
  readonly actionLine?: string;
}
