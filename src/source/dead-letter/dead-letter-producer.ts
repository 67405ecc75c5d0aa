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
 *   fails with OUT_OF_ORDER_SEQUENCE_NUMBER. A new producer gets a new producer id;
 * - on shutdown (`signal`), what waits or is in flight is failed at once: a kafkajs send
 *   (its retries, a throttled or unanswered request) can outlast the pod's grace period,
 *   and the records stay unacked, to be redelivered. A send that still lands afterwards
 *   is a second copy, absorbed like the one above;
 * - every send's answer is checked for each message's partition (partition-check.ts):
 *   kafkajs 2.2.4 can resolve a retried send without writing a partition whose leader moved.
 */
import { type IHeaders, type Kafka, type Message, type Producer } from "kafkajs";
import { describeError, TransferError } from "../../errors.ts";
import { stickyPartitioner, unwrittenMessages, type PartitionChoices } from "./partition-check.ts";

/** One record to append (structurally the sink's `DeadLetterRecord`). */
export interface ProducedRecord {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  /** One value, or the values of a repeated name (kafkajs cannot write null values). */
  readonly headers: Readonly<Record<string, Buffer | string | readonly (Buffer | string)[]>>;
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
  /** Shutdown: fails every write waiting or in flight at once, and refuses new ones. */
  readonly signal?: AbortSignal;
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
  for (const [name, value] of Object.entries(record.headers)) {
    bytes += name.length;
    if (typeof value === "string" || Buffer.isBuffer(value)) bytes += value.length;
    else for (const v of value) bytes += v.length;
  }
  return bytes;
}

/** kafkajs' header shape (mutable arrays); `Object.fromEntries` keeps any name a header. */
function messageHeaders(headers: ProducedRecord["headers"]): IHeaders {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, typeof value === "string" || Buffer.isBuffer(value) ? value : [...value]]));
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
  /** The writes of the send in flight. */
  #inFlight: Waiting[] = [];
  readonly #signal: AbortSignal | undefined;
  #sending = false;
  #connected: Promise<void> | undefined;
  #closed = false;
  readonly #partitions: PartitionChoices = new WeakMap();

  constructor(kafka: Kafka, options: DeadLetterProducerOptions) {
    this.#topic = options.topic;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#maxBatch = options.maxBatchRecords ?? DEFAULT_MAX_BATCH;
    this.#maxBatchBytes = options.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES;
    this.#kafka = kafka;
    this.#signal = options.signal;
    this.#signal?.addEventListener("abort", () => {
      this.#abandon(new TransferError(`dead-letter write to topic "${this.#topic}" abandoned: stopping`, { retriable: true }));
    }, { once: true });
  }

  get topic(): string {
    return this.#topic;
  }

  /** Resolves once Kafka acknowledged the record from all in-sync replicas. */
  write(record: ProducedRecord): Promise<void> {
    if (this.#closed || this.#signal?.aborted === true) return Promise.reject(new TransferError("dead-letter producer is closed", { retriable: true }));
    const message: Message = {
      key: record.key,
      value: record.value,
      headers: messageHeaders(record.headers),
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
        this.#inFlight = batch;
        try {
          const unwritten = new Set(await this.#send(batch.map((w) => w.message)));
          for (const w of batch) if (!unwritten.has(w.message)) w.resolve();
          if (unwritten.size > 0) throw new TransferError(`${String(unwritten.size)} of ${String(batch.length)} records were not written: kafkajs skipped their partition on a retry after its leader moved`, { retriable: true });
        } catch (error) {
          const failure = new TransferError(`dead-letter write to topic "${this.#topic}" failed: ${describeError(error)}`, {
            retriable: true,
            cause: error,
          });
          for (const w of batch) w.reject(failure);
          await this.#discardProducer();
        } finally {
          this.#inFlight = [];
        }
      }
    } finally {
      this.#sending = false;
    }
  }

  /** Sends `messages`; returns those the answer shows were not written. */
  async #send(messages: Message[]): Promise<Message[]> {
    // Connect lazily, and again after a failure (brokers down at start, replaced producer).
    if (this.#producer === undefined) {
      const producer = this.#kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        // kafkajs' default (keys spread as the Java client's do), sticky per message so a send's answer can be checked.
        createPartitioner: stickyPartitioner(this.#partitions),
        // Few tries per write: the failure policy retries without limit, with backoff, and counts each failure.
        retry: { retries: 3, initialRetryTime: 300, maxRetryTime: 5_000 },
      });
      this.#producer = producer;
      this.#connected = producer.connect();
    }
    await this.#connected;
    const answer = await this.#producer.send({ topic: this.#topic, messages, acks: -1, timeout: this.#timeoutMs });
    return unwrittenMessages(messages, this.#partitions, this.#topic, answer);
  }

  async #discardProducer(): Promise<void> {
    const producer = this.#producer;
    this.#producer = undefined;
    this.#connected = undefined;
    await producer?.disconnect().catch(() => undefined);
  }

  /** Fails the writes waiting and in flight (a promise settles once: a late send result is ignored). */
  #abandon(error: TransferError): void {
    for (const w of [...this.#inFlight, ...this.#waiting.splice(0)]) w.reject(error);
  }

  /**
   * Fails what still waits or is in flight and disconnects. Call after the sink stopped.
   * kafkajs' disconnect waits for requests in flight: bound it by the caller's deadline.
   */
  async close(): Promise<void> {
    this.#closed = true;
    this.#abandon(new TransferError("dead-letter producer closed", { retriable: true }));
    await this.#discardProducer();
  }
}
