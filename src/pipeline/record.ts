/**
 * One header value as Kafka carries it: bytes, or null (Java and librdkafka producers
 * send null values; kcat's `-H name` without `=`). Strings appear only in records
 * built in-process (tests, dead letters).
 */
export type HeaderBytes = Buffer | string;

/**
 * A header as a record holds it: one value, or every value of a key that the record
 * repeats, in the record's order (Kafka allows repeated keys; kafkajs hands them over
 * as an array).
 */
export type HeaderValue = HeaderBytes | null | readonly (HeaderBytes | null)[];

export type RecordHeaders = Readonly<Record<string, HeaderValue>>;

/** True for the values of a repeated key (`Array.isArray` does not narrow readonly arrays). */
export function isRepeatedHeader(value: HeaderValue): value is readonly (HeaderBytes | null)[] {
  return Array.isArray(value);
}

/**
 * The unit that travels from the Kafka reader through the queue to a bulk worker.
 * Its acknowledgement travels with it: whoever settles the record (indexed, skipped
 * or dead-lettered) calls `ack()` exactly once, and only then may its offset be
 * committed.
 */
export interface KafkaRecord {
  readonly topic: string;
  readonly partition: number;
  /** Kafka offset as a decimal string (int64 does not fit a JS number). */
  readonly offset: string;
  /** Record timestamp in milliseconds since the epoch. */
  readonly timestamp: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  /** As the record carried them: null values and repeated keys kept (see HeaderValue). */
  readonly headers: RecordHeaders;
  /** Bytes this record holds in memory (key + value + headers, roughly). */
  readonly size: number;
}

/** Settles one record: called once when Elasticsearch acknowledged it or it was set aside. */
export type Ack = () => void;

export interface QueuedRecord {
  readonly record: KafkaRecord;
  readonly ack: Ack;
}

export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

export function partitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${String(partition)}`;
}

/**
 * `partitionKey` remembered for the last partition asked about, for lookups made once
 * per record: records come in runs of one partition, so the key string is neither
 * built nor hashed again for each (a string keeps its hash once computed).
 */
export class LastPartitionKey {
  #topic = "";
  #partition = -1;
  #key = "";

  of(topic: string, partition: number): string {
    if (topic !== this.#topic || partition !== this.#partition) {
      this.#topic = topic;
      this.#partition = partition;
      this.#key = partitionKey(topic, partition);
    }
    return this.#key;
  }
}
