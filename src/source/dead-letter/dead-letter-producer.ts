/**
 * The Kafka edge of the dead-letter path: appends records to the dead-letter topic
 * with a kafkajs producer made by the same client factory as the consumer (same
 * brokers, TLS and SASL). The sink sees only its `write` (the `DeadLetterWriter` shape),
 * wired by the composition root.
 *
 * - acks from all in-sync replicas, and `write` resolves only after them: the caller
 *   acks the rejected record (and so lets its offset be committed) only then;
 * - idempotent producer: kafkajs' own retries of a send cannot duplicate it. A record
 *   dead-lettered again after a crash (before its offset was committed) is a second
 *   copy with the same source.* headers, which redrive absorbs (same document id);
 * - no topic auto-creation: a missing topic is an error the caller retries and alerts
 *   on, not a topic with the cluster's defaults;
 * - writes that arrive while a send is in flight go out together in the next one, up
 *   to a size below the brokers' default message.max.bytes (1 MiB per partition batch);
 * - after a failed send the producer is replaced: kafkajs 2.2.4 may advance an idempotent
 *   producer's sequence numbers for a request the broker refused, after which every send
 *   fails with OUT_OF_ORDER_SEQUENCE_NUMBER. A new producer gets a new producer id.
 */
import kafkajs, { type Kafka, type Message, type Producer } from "kafkajs";
import { describeError, TransferError } from "../../errors.ts";

/** One record to append (structurally the sink's `DeadLetterRecord`). */
export interface ProducedRecord {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: Readonly<Record<string, Buffer | string>>;
  readonly timestamp: string | undefined;
}

export interface DeadLetterProducerOptions {
  readonly topic: string;
  /** How long one produce request may wait for the replicas' acknowledgement. */
  readonly timeoutMs?: number;
  /** Most records per produce request. */
  readonly maxBatchRecords?: number;
  /** Most bytes (keys, values, headers) per produce request; a larger record goes alone. */
  readonly maxBatchBytes?: number;
}

interface Waiting {
  readonly message: Message;
  readonly bytes: number;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_BATCH = 500;
const DEFAULT_MAX_BATCH_BYTES = 512 * 1024;

function recordBytes(record: ProducedRecord): number {
  let bytes = (record.key?.length ?? 0) + (record.value?.length ?? 0);
  for (const [name, value] of Object.entries(record.headers)) bytes += name.length + value.length;
  return bytes;
}

/** The first writes of `waiting` that fit one request (at least one). */
export function takeBatch<T extends { readonly bytes: number }>(waiting: T[], maxRecords: number, maxBytes: number): T[] {
  let count = 0;
  let bytes = 0;
  for (const w of waiting) {
    if (count > 0 && (count >= maxRecords || bytes + w.bytes > maxBytes)) break;
    count += 1;
    bytes += w.bytes;
  }
  return waiting.splice(0, count);
}

export class DeadLetterProducer {
  readonly #kafka: Kafka;
  #producer: Producer | undefined;
  readonly #topic: string;
  readonly #timeoutMs: number;
  readonly #maxBatch: number;
  readonly #maxBatchBytes: number;
  #waiting: Waiting[] = [];
  #sending = false;
  #connected: Promise<void> | undefined;
  #closed = false;

  constructor(kafka: Kafka, options: DeadLetterProducerOptions) {
    this.#topic = options.topic;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#maxBatch = options.maxBatchRecords ?? DEFAULT_MAX_BATCH;
    this.#maxBatchBytes = options.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES;
    this.#kafka = kafka;
  }

  get topic(): string {
    return this.#topic;
  }

  /** Resolves once Kafka acknowledged the record from all in-sync replicas. */
  write(record: ProducedRecord): Promise<void> {
    if (this.#closed) return Promise.reject(new TransferError("dead-letter producer is closed", { retriable: true }));
    const message: Message = {
      key: record.key,
      value: record.value,
      headers: { ...record.headers },
      ...(record.timestamp === undefined ? {} : { timestamp: record.timestamp }),
    };
    return new Promise((resolve, reject) => {
      this.#waiting.push({ message, bytes: recordBytes(record), resolve, reject });
      void this.#drain();
    });
  }

  async #drain(): Promise<void> {
    if (this.#sending) return;
    this.#sending = true;
    try {
      while (this.#waiting.length > 0) {
        const batch = takeBatch(this.#waiting, this.#maxBatch, this.#maxBatchBytes);
        try {
          await this.#send(batch.map((w) => w.message));
          for (const w of batch) w.resolve();
        } catch (error) {
          const failure = new TransferError(`dead-letter write to topic "${this.#topic}" failed: ${describeError(error)}`, {
            retriable: true,
            cause: error,
          });
          for (const w of batch) w.reject(failure);
          await this.#discardProducer();
        }
      }
    } finally {
      this.#sending = false;
    }
  }

  async #send(messages: Message[]): Promise<void> {
    // Connect lazily, and again after a failure (brokers down at start, replaced producer).
    if (this.#producer === undefined) {
      const producer = this.#kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        // Named, so kafkajs does not warn about its v2 default change; keys spread as the Java client's do.
        createPartitioner: kafkajs.Partitioners.DefaultPartitioner,
        // Few tries per write: the failure policy retries without limit, with backoff, and counts each failure.
        retry: { retries: 3, initialRetryTime: 300, maxRetryTime: 5_000 },
      });
      this.#producer = producer;
      this.#connected = producer.connect();
    }
    await this.#connected;
    await this.#producer.send({ topic: this.#topic, messages, acks: -1, timeout: this.#timeoutMs });
  }

  async #discardProducer(): Promise<void> {
    const producer = this.#producer;
    this.#producer = undefined;
    this.#connected = undefined;
    await producer?.disconnect().catch(() => undefined);
  }

  /** Fails what still waits and disconnects. Call after the sink stopped. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const w of this.#waiting.splice(0)) w.reject(new TransferError("dead-letter producer closed", { retriable: true }));
    await this.#discardProducer();
  }
}
