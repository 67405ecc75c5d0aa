import type { Client } from "@elastic/elasticsearch";
import PQueue from "p-queue";
import { ConfigError, describeError, TransferError } from "../errors.ts";
import type { BulkAction, PendingDocument } from "../pipeline/document.ts";
import type { Ack, KafkaRecord, QueuedRecord } from "../pipeline/record.ts";
import { withAdaptiveConcurrency } from "./adaptive-bulk.ts";
import { AdaptiveConcurrency } from "./adaptive-concurrency.ts";
import { Batcher, type BatcherOptions } from "./batcher.ts";
import { createBulkFunction, type BulkFunction } from "./bulk-client.ts";
import { actionLine, estimateActionBytes } from "./bulk-request.ts";
import { createBulkSender } from "./bulk-sender.ts";
import { createFailurePolicy, type FailurePolicy, type FailurePolicyName } from "./failure-policy.ts";
import { noopLogger, noopObserver, type SinkLogger, type SinkObserver } from "./observer.ts";
import type { RetryPolicyOptions } from "./retry-policy.ts";

/**
 * What the workers need from the bounded queue (src/pipeline/bounded-queue.ts fits).
 * Items count against the queue's budget until `release`d: the workers release each
 * record when it is acked, so records in retried requests keep holding budget and
 * intake stays paused while Elasticsearch refuses work.
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

/**
 * The worker pool: one loop takes records from the queue, decodes them, batches the
 * documents, and hands each full (or lingering, or any when the pipe is idle) batch to a p-queue running up to
 * `workers` bulk requests at once. It takes more records only while no batch waits
 * for a free slot, so at most one batch is ahead of the requests in flight: the rest
 * stays in the bounded queue, where it is counted and pauses the Kafka reader.
 */
export function startBulkWorkers(params: StartBulkWorkersParams): BulkWorkers {
  const { queue, decode, options, signal } = params;
  if (!Number.isSafeInteger(options.workers) || options.workers < 1) {
    throw new ConfigError(`bulk workers must be a positive integer, got ${String(options.workers)}`);
  }
  const observer = params.observer ?? noopObserver;
  const logger = params.logger ?? noopLogger;
  const sizeOf = params.sizeOf ?? ((item: QueuedRecord) => item.record.size);
  const rawBulk = isBulkFunction(params.client)
    ? params.client
    : createBulkFunction(params.client, { requestTimeoutMs: options.requestTimeoutMs });
  const controller = options.adaptiveConcurrency === false ? undefined : new AdaptiveConcurrency({ max: options.workers });
  const requests = new PQueue({ concurrency: controller?.limit ?? options.workers });
  observer.concurrencyLimit(requests.concurrency);
  const bulk = controller === undefined
    ? rawBulk
    : withAdaptiveConcurrency(rawBulk, controller, {
        onLimit: (limit) => {
          if (limit === requests.concurrency) return;
          logger.debug({ limit, change: controller.lastChange }, "bulk concurrency limit changed");
          requests.concurrency = limit;
          observer.concurrencyLimit(limit);
        },
      });
  const failurePolicy =
    params.failurePolicy ??
    createFailurePolicy(options.failurePolicy, { observer, logger, excerptBytes: options.excerptBytes });
  const send = createBulkSender({ bulk, failurePolicy, retry: options, observer, logger });
  const batcher = new Batcher<PendingDocument>(options);
  const now = (): number => performance.now();

  const intake = new AbortController();
  const stopIntake = (): void => {
    intake.abort();
  };
  if (signal.aborted) intake.abort();
  else signal.addEventListener("abort", stopIntake, { once: true });

  let resolveFatal: (error: TransferError) => void = () => undefined;
  const fatal = new Promise<TransferError>((resolve) => {
    resolveFatal = resolve;
  });
  let failed = false;
  let inFlight = 0;
  /** Wakes the loop when the last request in flight ends: a lingering batch may then go. */
  const pipeIdle = new Wakeup();

  const fail = (error: unknown): void => {
    if (failed) return;
    failed = true;
    const fatalError =
      error instanceof TransferError
        ? error
        : new TransferError(`bulk worker failed: ${describeError(error)}`, { retriable: false, cause: error });
    logger.error({ err: describeError(fatalError) }, "bulk workers stopping");
    intake.abort();
    // Batches not started yet stay unacked: their records will be redelivered.
    requests.clear();
    resolveFatal(fatalError);
  };

  /** The record's ack, made idempotent, that also frees its queue budget and reports it. */
  const settleOnce = (item: QueuedRecord): Ack => {
    let settled = false;
    const bytes = sizeOf(item);
    return () => {
      if (settled) return;
      settled = true;
      item.ack();
      queue.release(bytes, 1);
      observer.recordAcked(item.record);
    };
  };

  const dispatch = (batch: PendingDocument[]): void => {
    if (batch.length === 0) return;
    void requests.add(async () => {
      inFlight++;
      observer.inFlight(inFlight);
      try {
        const result = await send(batch, signal);
        if (result.kind === "stopped") fail(result.error);
        else if (result.kind === "aborted") {
          logger.info({ unsettled: result.unsettled }, "bulk batch interrupted; its unsettled records will be redelivered");
        }
      } catch (error) {
        fail(error);
      } finally {
        inFlight--;
        observer.inFlight(inFlight);
        if (inFlight === 0) pipeIdle.wake();
      }
    });
  };

  /** A record the decoder threw on: a bug or a poison record, so the failure policy decides. */
  const rejectUndecodable = async (record: KafkaRecord, ack: Ack, error: unknown): Promise<void> => {
    const verdict = await failurePolicy.handle(
      { record, action: undefined, status: undefined, errorType: "decode_error", reason: describeError(error) },
      signal,
    );
    if (verdict.kind === "ack") ack();
    else if (verdict.kind === "stop") fail(verdict.error);
  };

  const accept = (item: QueuedRecord, at: number): void => {
    const ack = settleOnce(item);
    let result: DecodeResult;
    try {
      result = decode(item.record);
    } catch (error) {
      rejectUndecodable(item.record, ack, error).catch(fail);
      return;
    }
    if (result.kind === "skip") {
      observer.recordSkipped(item.record, result.reason);
      observer.recordsSettled(item.record.topic, "skipped", 1);
      ack();
      return;
    }
    // Serialized once here: the batcher's size and every (re)sent body reuse it.
    const line = actionLine(result.action);
    const document: PendingDocument = { action: result.action, origin: item.record, ack, actionLine: line };
    for (const batch of batcher.add(document, estimateActionBytes(result.action, line), at)) dispatch(batch);
  };

  /**
   * Nagle's rule for bulk requests: while no request is in flight, a partial batch
   * goes at once (waiting would only add latency to an idle pipe); while one is, the
   * batch lingers for more documents, and under load batches fill by themselves
   * while every slot is busy.
   */
  const lingerFor = (due: number | undefined): number | undefined => (due !== undefined && inFlight === 0 ? 0 : due);

  const loop = async (): Promise<void> => {
    while (!intake.signal.aborted) {
      if (requests.size > 0) {
        // A batch already waits for a slot: leave further records in the queue.
        await abortable(requests.onSizeLessThan(1), intake.signal);
        continue;
      }
      if (queue.waiting === 0) {
        const due = lingerFor(batcher.msUntilDue(now()));
        if (due === 0) dispatch(batcher.flush());
        else await Promise.race([queue.waitForItems(due ?? IDLE_WAIT_MS, intake.signal), pipeIdle.wait()]);
        continue;
      }
      const room = batcher.room();
      const taken = queue.take(room.documents, room.bytes);
      const at = now();
      for (const item of taken) accept(item, at);
      if (batcher.isDue(now())) dispatch(batcher.flush());
    }
  };

  const loopDone = loop().catch(fail);
  let stopping: Promise<void> | undefined;

  return {
    fatal,
    get inFlight() {
      return inFlight;
    },
    get concurrencyLimit() {
      return requests.concurrency;
    },
    stop() {
      stopping ??= (async () => {
        intake.abort();
        await loopDone;
        if (!failed && !signal.aborted) dispatch(batcher.flush());
        await requests.onIdle();
        signal.removeEventListener("abort", stopIntake);
      })();
      return stopping;
    },
  };
}
