import type { Client } from "@elastic/elasticsearch";
import PQueue from "p-queue";
import { ConfigError, describeError, RecordDecodeError, TransferError } from "../errors.ts";
import type { BulkAction, PendingDocument } from "../pipeline/document.ts";
import type { Ack, KafkaRecord, QueuedRecord } from "../pipeline/record.ts";
import { withAdaptiveConcurrency } from "./adaptive-bulk.ts";
import { AdaptiveConcurrency } from "./adaptive-concurrency.ts";
import { Batcher, type BatcherOptions } from "./batcher.ts";
import { createBulkFunction, type BulkFunction } from "./bulk-client.ts";
import { actionLine, estimateActionBytes } from "./bulk-request.ts";
import { KeySequencer } from "./key-sequencer.ts";
import { queuedDocument, type RecordSettler } from "./queued-document.ts";
import { createBulkSender, type BulkSend, type HoldGate } from "./bulk-sender.ts";
import { createFailurePolicy, type FailurePolicy, type FailurePolicyName } from "./failure-policy.ts";
import { noopLogger, noopObserver, type SinkLogger, type SinkObserver } from "./observer.ts";
import type { RetryPolicyOptions } from "./retry-policy.ts";

/**
 * What the workers need from the bounded queue (src/pipeline/bounded-queue.ts fits).
 * Items count against the queue's budget until `release`d: the workers release each
 * record when it is acked, so records in retried requests keep holding budget and
 * intake stays paused while Elasticsearch refuses work; a record of a held partition
 * gives its budget back without an ack (it is read from Kafka again).
 */
export interface DocumentSource<T> {
  /** Items not yet taken. */
  readonly waiting: number;
  /** Up to `maxItems` items within `maxBytes`; at least one when any is waiting. */
  take(maxItems: number, maxBytes: number): T[];
  /** Resolves when an item is waiting, after `timeoutMs`, or on abort; never rejects. */
  waitForItems(timeoutMs: number, signal?: AbortSignal): Promise<void>;
  release(bytes: number, count?: number): void;
}

/**
 * A step before decoding that may make a record wait (schemas/schema-gate.ts: a schema
 * not fetched yet). A held record is neither acked nor released: it keeps its queue
 * budget and holds its partition's commit, and comes back through `onResume` to be
 * accepted again. It must never drop one.
 */
export interface RecordGate<T> {
  /** True when the record can be decoded now; false when the gate holds it. */
  admit(item: T): boolean;
  /** Where the gate hands held records back (set once, by the workers). */
  onResume(resume: (items: T[]) => void): void;
}

/** The decoder's verdict on one record: a bulk action to send, or nothing to send. */
export type DecodeResult =
  | { readonly kind: "document"; readonly action: BulkAction }
  | { readonly kind: "skip"; readonly reason: string };

export interface BulkWorkersOptions extends BatcherOptions, RetryPolicyOptions {
  /** Most bulk requests in flight at once (each retried until settled): the adaptive limit's ceiling. */
  readonly workers: number;
  /**
   * Adjust the requests in flight between 1 and `workers` on latency and 429s (AIMD,
   * see adaptive-concurrency.ts); false = always `workers`. Default true.
   */
  readonly adaptiveConcurrency?: boolean;
  readonly failurePolicy: FailurePolicyName;
  /** Per-request timeout, used when `client` is a Client (default: the client's). */
  readonly requestTimeoutMs?: number;
  /** Bytes of a rejected record's value shown in logs (default 256). */
  readonly excerptBytes?: number;
  /**
   * Query parameters of every bulk request, used when `client` is a Client; one the
   * server does not know (an older version) is dropped with a warning.
   */
  readonly bulkParameters?: Readonly<Record<string, string>>;
}

export interface StartBulkWorkersParams {
  readonly queue: DocumentSource<QueuedRecord>;
  readonly decode: (record: KafkaRecord) => DecodeResult;
  /** The Elasticsearch client, or a ready bulk function (tests, wrappers). */
  readonly client: Client | BulkFunction;
  readonly options: BulkWorkersOptions;
  readonly observer?: SinkObserver;
  readonly logger?: SinkLogger;
  /** Aborts in-flight requests and backoff sleeps: unsettled records stay unacked. */
  readonly signal: AbortSignal;
  /** Bytes the queue counted for an item when it was pushed (default `record.size`). */
  readonly sizeOf?: (item: QueuedRecord) => number;
  /** Overrides `options.failurePolicy` (e.g. a dead-letter policy built by the caller). */
  readonly failurePolicy?: FailurePolicy;
  /** Holds records that cannot be decoded yet (default: none, every record is decoded at once). */
  readonly gate?: RecordGate<QueuedRecord>;
  /**
   * Partitions held for an operator error (partition-holds.ts): their refused records
   * are given back (budget freed, not acked) instead of retried in a slot. Absent:
   * retried in the slot until taken.
   */
  readonly holds?: HoldGate;
}

export interface BulkWorkers {
  /**
   * Stops taking records, sends the partly filled batch, and resolves when every
   * request finished (or was cut short by `signal`). Records still in the queue are
   * left there. Idempotent.
   */
  stop(): Promise<void>;
  /** Resolves (never rejects) with the error that stopped the workers: a "stop" policy verdict or a bug. */
  readonly fatal: Promise<TransferError>;
  /** Bulk requests in flight now. */
  readonly inFlight: number;
  /** Bulk requests allowed in flight now (the adaptive limit, or `workers`). */
  readonly concurrencyLimit: number;
}

/** How long an idle loop waits for records before looking around again. */
const IDLE_WAIT_MS = 5_000;

/** A one-shot signal a loop can wait on, re-armed after each wake. */
class Wakeup {
  #resolve: (() => void) | undefined;
  #promise: Promise<void> | undefined;

  wait(): Promise<void> {
    this.#promise ??= new Promise<void>((resolve) => {
      this.#resolve = resolve;
    });
    return this.#promise;
  }

  wake(): void {
    this.#resolve?.();
    this.#resolve = undefined;
    this.#promise = undefined;
  }
}

function isBulkFunction(client: Client | BulkFunction): client is BulkFunction {
  return typeof client === "function";
}

function abortable(promise: Promise<void>, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      signal.removeEventListener("abort", done);
      resolve();
    };
    signal.addEventListener("abort", done, { once: true });
    promise.then(done, done);
  });
}

/** The bulk function wrapped by the adaptive limit (when on), and the p-queue it steers. */
function createRequestQueue(params: StartBulkWorkersParams, observer: SinkObserver, logger: SinkLogger): { requests: PQueue; bulk: BulkFunction } {
  const { options } = params;
  const rawBulk = isBulkFunction(params.client)
    ? params.client
    : createBulkFunction(params.client, {
        requestTimeoutMs: options.requestTimeoutMs,
        parameters: options.bulkParameters ?? {},
        onParameterUnsupported: (name) => {
          logger.warn({ parameter: name }, `Elasticsearch does not know the bulk parameter ${name} (a version before it was added): sending bulk requests without it`);
        },
      });
  const controller = options.adaptiveConcurrency === false ? undefined : new AdaptiveConcurrency({ max: options.workers });
  const requests = new PQueue({ concurrency: controller?.limit ?? options.workers });
  observer.concurrencyLimit(requests.concurrency);
  if (controller === undefined) return { requests, bulk: rawBulk };
  const bulk = withAdaptiveConcurrency(rawBulk, controller, {
    onLimit: (limit) => {
      if (limit === requests.concurrency) return;
      logger.debug({ limit, change: controller.lastChange }, "bulk concurrency limit changed");
      requests.concurrency = limit;
      observer.concurrencyLimit(limit);
    },
  });
  return { requests, bulk };
}

/**
 * The worker pool: one loop takes records from the queue, decodes them, batches the
 * documents, and hands each full (or lingering, or any when the pipe is idle) batch to a p-queue running up to
 * `workers` bulk requests at once. It takes more records only while no batch waits
 * for a free slot, so at most one batch is ahead of the requests in flight: the rest
 * stays in the bounded queue, where it is counted and pauses the Kafka reader.
 */
export function startBulkWorkers(params: StartBulkWorkersParams): BulkWorkers {
  const { workers } = params.options;
  if (!Number.isSafeInteger(workers) || workers < 1) {
    throw new ConfigError(`bulk workers must be a positive integer, got ${String(workers)}`);
  }
  return new BulkWorkerPool(params);
}

class BulkWorkerPool implements BulkWorkers {
  readonly fatal: Promise<TransferError>;
  readonly #queue: DocumentSource<QueuedRecord>;
  readonly #decode: (record: KafkaRecord) => DecodeResult;
  readonly #signal: AbortSignal;
  readonly #observer: SinkObserver;
  readonly #logger: SinkLogger;
  readonly #sizeOf: (item: QueuedRecord) => number;
  readonly #requests: PQueue;
  readonly #failurePolicy: FailurePolicy;
  readonly #send: BulkSend;
  readonly #batcher: Batcher<PendingDocument>;
  readonly #gate: RecordGate<QueuedRecord> | undefined;
  readonly #holds: HoldGate | undefined;
  /** Records the gate handed back, accepted before anything new is taken from the queue. */
  #resumed: QueuedRecord[] = [];
  readonly #resumedWake = new Wakeup();
  readonly #intake = new AbortController();
  readonly #stopIntake = (): void => {
    this.#intake.abort();
  };
  #resolveFatal: (error: TransferError) => void = () => undefined;
  #failed = false;
  #inFlight = 0;
  /** Wakes the loop when the last request in flight ends: a lingering batch may then go. */
  readonly #pipeIdle = new Wakeup();
  /** Wakes the loop when a write that waited for its key joined the batcher outside the loop. */
  readonly #batched = new Wakeup();
  /** Ordered writes (updates): one in flight per document. */
  readonly #sequencer = new KeySequencer<PendingDocument>();
  readonly #loopDone: Promise<void>;
  #stopping: Promise<void> | undefined;

  constructor(params: StartBulkWorkersParams) {
    const { options } = params;
    this.#queue = params.queue;
    this.#decode = params.decode;
    this.#signal = params.signal;
    this.#observer = params.observer ?? noopObserver;
    this.#logger = params.logger ?? noopLogger;
    this.#sizeOf = params.sizeOf ?? ((item: QueuedRecord) => item.record.size);
    const { requests, bulk } = createRequestQueue(params, this.#observer, this.#logger);
    this.#requests = requests;
    this.#failurePolicy =
      params.failurePolicy ??
      createFailurePolicy(options.failurePolicy, { observer: this.#observer, logger: this.#logger, excerptBytes: options.excerptBytes });
    this.#holds = params.holds;
    this.#send = createBulkSender({
      bulk, failurePolicy: this.#failurePolicy, retry: options, observer: this.#observer, logger: this.#logger,
      ...(params.holds === undefined ? {} : { holds: params.holds }),
    });
    this.#batcher = new Batcher<PendingDocument>(options);
    this.#gate = params.gate;
    this.#gate?.onResume((items) => {
      this.#resumed.push(...items);
      this.#resumedWake.wake();
    });
    if (this.#signal.aborted) this.#intake.abort();
    else this.#signal.addEventListener("abort", this.#stopIntake, { once: true });
    this.fatal = new Promise<TransferError>((resolve) => {
      this.#resolveFatal = resolve;
    });
    this.#loopDone = this.#loop().catch((error: unknown) => {
      this.#fail(error);
    });
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  get concurrencyLimit(): number {
    return this.#requests.concurrency;
  }

  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#intake.abort();
      await this.#loopDone;
      if (!this.#failed && !this.#signal.aborted) this.#dispatch(this.#batcher.flush());
      await this.#requests.onIdle();
      this.#signal.removeEventListener("abort", this.#stopIntake);
    })();
    return this.#stopping;
  }

  readonly #fail = (error: unknown): void => {
    if (this.#failed) return;
    this.#failed = true;
    const fatalError =
      error instanceof TransferError
        ? error
        : new TransferError(`bulk worker failed: ${describeError(error)}`, { retriable: false, cause: error });
    this.#logger.error({ err: describeError(fatalError) }, "bulk workers stopping");
    this.#intake.abort();
    // Batches not started yet stay unacked: their records will be redelivered.
    this.#requests.clear();
    this.#resolveFatal(fatalError);
  };

  /** Acks a settled record, frees its queue budget and reports it (QueuedDocument calls it once per record). */
  readonly #settler: RecordSettler = {
    acked: (item) => {
      item.ack();
      this.#queue.release(this.#sizeOf(item), 1);
      this.#observer.recordAcked(item.record);
    },
    givenBack: (item) => {
      this.#queue.release(this.#sizeOf(item), 1);
    },
  };

  /** A record not batched (skipped, undecodable, held): its idempotent ack and give-back. */
  #settleOnce(item: QueuedRecord): { ack: Ack; giveBack: () => void } {
    let settled = false;
    return {
      ack: () => {
        if (settled) return;
        settled = true;
        this.#settler.acked(item);
      },
      giveBack: () => {
        if (settled) return;
        settled = true;
        this.#settler.givenBack(item);
      },
    };
  }

  #dispatch(batch: PendingDocument[]): void {
    if (batch.length === 0) return;
    void this.#requests.add(() => this.#run(batch));
  }

  async #run(batch: PendingDocument[]): Promise<void> {
    this.#inFlight++;
    this.#observer.inFlight(this.#inFlight);
    try {
      const result = await this.#send(batch, this.#signal);
      if (result.kind === "stopped") this.#fail(result.error);
      else if (result.kind === "aborted") {
        this.#logger.info({ unsettled: result.unsettled }, "bulk batch interrupted; its unsettled records will be redelivered");
      }
    } catch (error) {
      this.#fail(error);
    } finally {
      this.#inFlight--;
      this.#observer.inFlight(this.#inFlight);
      if (this.#inFlight === 0) this.#pipeIdle.wake();
    }
  }

  /** A record the decoder threw on: a bug or a poison record, so the failure policy decides. */
  async #rejectUndecodable(record: KafkaRecord, settle: { ack: Ack; giveBack: () => void }, error: unknown): Promise<void> {
    const errorType = error instanceof RecordDecodeError ? error.errorType : "decode_error";
    const verdict = await this.#failurePolicy.handle(
      { record, action: undefined, status: undefined, errorType, reason: describeError(error) },
      this.#signal,
      { mayHold: this.#holds !== undefined },
    );
    if (verdict.kind === "ack") settle.ack();
    else if (verdict.kind === "stop") this.#fail(verdict.error);
    else if (verdict.kind === "hold") {
      // The dead-letter topic cannot be written: hold the record's partition, as the sender does.
      this.#holds?.refused(record, verdict.reason);
      settle.giveBack();
    }
  }

  #accept(item: QueuedRecord, at: number): void {
    if (this.#gate !== undefined && !this.#gate.admit(item)) return;
    if (this.#holds?.isHeld(item.record.topic, item.record.partition) === true) {
      // Taken from the queue just before its partition was held: it is read again later.
      this.#settler.givenBack(item);
      return;
    }
    let result: DecodeResult;
    try {
      result = this.#decode(item.record);
    } catch (error) {
      this.#rejectUndecodable(item.record, this.#settleOnce(item), error).catch(this.#fail);
      return;
    }
    if (result.kind === "skip") {
      this.#observer.recordSkipped(item.record, result.reason);
      this.#observer.recordsSettled(item.record.topic, "skipped", 1);
      this.#settler.acked(item);
      return;
    }
    const { action } = result;
    // Serialized once here: the batcher's size and every (re)sent body reuse it.
    const document = queuedDocument(item, action, actionLine(action), this.#settler, this.#holds !== undefined);
    if (action.orderedByKey === true && action.id !== undefined) this.#acceptOrdered(document, `${action.index}\u0000${action.id}`, at);
    else this.#batch(document, at);
  }

  /** An ordered write: batched once the write before it on the same document is settled. */
  #acceptOrdered(queued: PendingDocument, key: string, at: number): void {
    const releaseKey = this.#keyReleaser(key);
    const release = (): void => {
      queued.ack();
      releaseKey();
    };
    const giveBack = queued.giveBack === undefined ? undefined : (): void => {
      queued.giveBack?.();
      releaseKey();
    };
    const document: PendingDocument = { action: queued.action, origin: queued.origin, ack: release, ...(queued.actionLine === undefined ? {} : { actionLine: queued.actionLine }), ...(giveBack === undefined ? {} : { giveBack }) };
    if (this.#sequencer.admit(key, document)) this.#batch(document, at);
  }

  #batch(document: PendingDocument, at: number): void {
    for (const batch of this.#batcher.add(document, estimateActionBytes(document.action, document.actionLine), at)) this.#dispatch(batch);
  }

  /** Lets the next write of an ordered write's document go, once (on its ack or its give-back). */
  #keyReleaser(key: string): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#sequencer.release(key);
      if (next === undefined || this.#failed) return;
      this.#batch(next, performance.now());
      // Stopping: the loop no longer runs, so the batch goes now (the drain waits for it).
      if (this.#intake.signal.aborted) this.#dispatch(this.#batcher.flush());
      else this.#batched.wake();
    };
  }

  /**
   * Nagle's rule for bulk requests: while no request is in flight, a partial batch
   * goes at once (waiting would only add latency to an idle pipe); while one is, the
   * batch lingers for more documents, and under load batches fill by themselves
   * while every slot is busy.
   */
  #lingerFor(due: number | undefined): number | undefined {
    return due !== undefined && this.#inFlight === 0 ? 0 : due;
  }

  /** Up to a batch's room: records the gate handed back first, then the queue's. */
  #take(): QueuedRecord[] {
    const room = this.#batcher.room();
    if (this.#resumed.length === 0) return this.#queue.take(room.documents, room.bytes);
    const taken = this.#resumed.length <= room.documents ? this.#resumed : this.#resumed.slice(0, room.documents);
    this.#resumed = taken === this.#resumed ? [] : this.#resumed.slice(room.documents);
    return taken;
  }

  async #loop(): Promise<void> {
    const intake = this.#intake.signal;
    while (!intake.aborted) {
      if (this.#requests.size > 0) {
        // A batch already waits for a slot: leave further records in the queue.
        await abortable(this.#requests.onSizeLessThan(1), intake);
        continue;
      }
      if (this.#queue.waiting === 0 && this.#resumed.length === 0) {
        const due = this.#lingerFor(this.#batcher.msUntilDue(performance.now()));
        if (due === 0) this.#dispatch(this.#batcher.flush());
        else await Promise.race([this.#queue.waitForItems(due ?? IDLE_WAIT_MS, intake), this.#pipeIdle.wait(), this.#batched.wait(), this.#resumedWake.wait()]);
        continue;
      }
      const taken = this.#take();
      const at = performance.now();
      for (const item of taken) this.#accept(item, at);
      if (this.#batcher.isDue(performance.now())) this.#dispatch(this.#batcher.flush());
    }
  }
}
