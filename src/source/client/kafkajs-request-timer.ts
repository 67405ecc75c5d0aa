/**
 * A fix for kafkajs 2.2.4's request queue (the library is unmaintained since 2023).
 *
 * Every broker connection has a RequestQueue whose `checkPendingRequests()` always ends
 * by re-arming a timer, even with nothing pending; without client-side throttling its
 * delay is `-1 - Date.now()`, which Node turns into 1 ms (the TimeoutNegativeWarning of
 * kafkajs issue 1751). So each connection wakes the event loop about a thousand times
 * a second, for ever. Measured on an idle worker (6 partitions, no traffic): 1,589
 * epoll waits a second and 0.05 cores of its main thread; that fixed cost was most of
 * the worker's CPU per 100k records at the rates a shared machine allows.
 *
 * A timer is only needed while requests wait in the queue: a request that cannot go
 * out at once is pushed there and schedules the check itself, and every response or
 * timeout checks the queue again. So the replacement arms nothing when the queue is
 * empty, and otherwise keeps kafkajs' own delays (the throttle's end, or 10 ms).
 */
import { createRequire } from "node:module";

/** kafkajs' CHECK_PENDING_REQUESTS_INTERVAL. */
export const CHECK_PENDING_INTERVAL_MS = 10;

/** When to check the queue again: undefined = no timer (nothing waits), else a delay in ms. */
export function pendingCheckDelay(pending: number, throttledUntil: number, now: number): number | undefined {
  if (pending === 0) return undefined;
  const untilThrottleEnds = throttledUntil - now;
  return untilThrottleEnds > 0 ? untilThrottleEnds : CHECK_PENDING_INTERVAL_MS;
}

/** The parts of kafkajs' RequestQueue the fix touches. */
interface RequestQueueState {
  pending: readonly unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  checkPendingRequests(): void;
}

interface RequestQueuePrototype {
  scheduleCheckPendingRequests: (this: RequestQueueState) => void;
}

const REQUEST_QUEUE_MODULE = "kafkajs/src/network/requestQueue/index.js";

function scheduleCheckPendingRequests(this: RequestQueueState): void {
  if (this.throttleCheckTimeoutId) return;
  const delay = pendingCheckDelay(this.pending.length, this.throttledUntil, Date.now());
  if (delay === undefined) return;
  this.throttleCheckTimeoutId = setTimeout(() => {
    this.throttleCheckTimeoutId = null;
    this.checkPendingRequests();
  }, delay);
}

function requestQueuePrototype(): RequestQueuePrototype | undefined {
  const loaded: unknown = createRequire(import.meta.url)(REQUEST_QUEUE_MODULE);
  if (typeof loaded !== "function") return undefined;
  const prototype: unknown = (loaded as { prototype?: unknown }).prototype;
  if (typeof prototype !== "object" || prototype === null) return undefined;
  return typeof (prototype as Partial<RequestQueuePrototype>).scheduleCheckPendingRequests === "function"
    ? (prototype as RequestQueuePrototype)
    : undefined;
}

/**
 * Replaces RequestQueue#scheduleCheckPendingRequests in the loaded kafkajs (idempotent).
 * Returns false when kafkajs does not have the expected shape (another version): then
 * nothing is changed.
 */
export function fixKafkajsRequestTimer(): boolean {
  const prototype = requestQueuePrototype();
  if (prototype === undefined) return false;
  prototype.scheduleCheckPendingRequests = scheduleCheckPendingRequests;
  return true;
}
