import type { AdaptiveConcurrency, RequestSignal } from "./adaptive-concurrency.ts";
import { httpStatus, type BulkFunction } from "./bulk-client.ts";
import { isOperatorError, type BulkResponseBody } from "./bulk-response.ts";

/** Statuses by which Elasticsearch (or a proxy before it) says "too much, slow down". */
const PUSHBACK_STATUSES = new Set([429, 503]);

/** A timeout is the server being too slow for the load we give it: back-pressure too. */
function isTimeout(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === "object" && current !== null; depth++) {
    if ((current as { name?: unknown }).name === "TimeoutError") return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * What a bulk response says about load: any 429/503 item is back-pressure (ES's write
 * queue is full), unless it is an operator error (a cluster block answered 429, a red
 * index 503): that holds a partition, it is not throttling. A response with items
 * refused for an operator reason says nothing about the cost of writing (a closed
 * index answers in a millisecond): an "error", never learned as the latency baseline.
 */
export function responseSignal(response: BulkResponseBody): RequestSignal {
  if (!response.errors) return "ok";
  let refused = false;
  for (const item of response.items) {
    for (const result of Object.values(item)) {
      if (result === undefined || result.status < 400 || result.status === 409) continue;
      if (isOperatorError(result.status, result.error)) refused = true;
      else if (PUSHBACK_STATUSES.has(result.status)) return "backpressure";
    }
  }
  return refused ? "error" : "ok";
}

/** What a failed bulk request says about load. */
export function errorSignal(error: unknown): RequestSignal {
  const status = httpStatus(error);
  if (status !== undefined && PUSHBACK_STATUSES.has(status)) return "backpressure";
  return isTimeout(error) ? "backpressure" : "error";
}

export interface AdaptiveBulkHooks {
  /** Called after every request with the limit the controller now allows. */
  readonly onLimit: (limit: number) => void;
  readonly now?: () => number;
}

/**
 * Wraps a bulk function so that every request it sends, first tries and retries
 * alike, is timed and reported to the concurrency controller. The caller applies the
 * limit (the p-queue's concurrency); requests already sent are never cut short.
 */
export function withAdaptiveConcurrency(bulk: BulkFunction, controller: AdaptiveConcurrency, hooks: AdaptiveBulkHooks): BulkFunction {
  const now = hooks.now ?? (() => performance.now());
  let inFlight = 0;
  return async (body, signal) => {
    inFlight++;
    const sentWith = inFlight;
    const started = now();
    const report = (requestSignal: RequestSignal): void => {
      const at = now();
      hooks.onLimit(controller.observe({ at, latencyMs: at - started, bytes: body.length, signal: requestSignal, inFlight: sentWith }));
    };
    try {
      const response = await bulk(body, signal);
      report(responseSignal(response));
      return response;
    } catch (error) {
      if (!signal.aborted) report(errorSignal(error));
      throw error;
    } finally {
      inFlight--;
    }
  };
}
