/**
 * Adaptive request concurrency: how many bulk requests may be in flight, adjusted by
 * additive increase and multiplicative decrease (AIMD), as TCP does with its window
 * and Vector with its adaptive request concurrency.
 *
 * Pure: the caller reports each finished request (its latency, size, whether the
 * server pushed back) with its own clock; no timers. Decisions are taken once per
 * observation window of about one round-trip, not per response, so a burst of
 * responses to requests sent together counts as one signal (TCP reacts once per RTT
 * for the same reason).
 *
 * - Back-pressure (429, 503, a timeout) in the window: limit x `backoffRatio`.
 * - Latency well above its unloaded baseline (more than `latencyRise` x 100 % above
 *   the lowest recent cost): limit x `latencyRatio`, not below `latencyFloor` (2). Adding requests to a saturated
 *   Elasticsearch only queues them there; latency is the first sign. Compared with
 *   the baseline, not a running mean, as TCP Vegas and Netflix's concurrency limits
 *   do: a mean follows a slow climb and never sees it.
 * - While only one request is in flight, latency is the unloaded latency: the
 *   baseline is re-learned from it (see #nextBaseline).
 * - Otherwise, if the window used the whole limit: limit + 1, up to `max`
 *   (`bulk.workers`). A limit that is not used is not raised, so an idle worker does
 *   not build up a credit it would then spend all at once.
 *
 * Latency is compared per byte of request body (with a floor on the size), because a
 * lingering 50-document request and a full 5 MiB one have very different round-trips
 * for the same server state.
 */
import { ConfigError } from "../errors.ts";

export interface AdaptiveConcurrencyOptions {
  /** The ceiling (bulk.workers). */
  readonly max: number;
  /**
   * Starting limit (default `latencyFloor`, capped at `max`). Not 1 as TCP's slow start:
   * only back-pressure takes the limit below the floor, so a start below it only leaves
   * Elasticsearch idle for the first round-trip (the bench's es-busy trace showed the
   * first second at 1 of 1 in flight); a 429 at the start still halves it at once.
   */
  readonly initial?: number;
  /** Multiplier on back-pressure (default 0.5). */
  readonly backoffRatio?: number;
  /** Multiplier on a latency rise (default 0.9: gentler, latency is a noisier signal). */
  readonly latencyRatio?: number;
  /**
   * How far above the baseline a round-trip's cost may be before the limit drops
   * (default 1.0 = twice the baseline). Generous on purpose: a limit one too high
   * only queues a request inside Elasticsearch, one too low leaves it idle.
   */
  readonly latencyRise?: number;
  /** Requests smaller than this many bytes are costed as if this large (default 256 KiB). */
  readonly minCostBytes?: number;
  /**
   * The lowest limit a latency rise alone may set (default 2, capped at `max`); only
   * back-pressure goes below it. With one request in flight Elasticsearch idles while
   * each response travels back and the next body is built and sent; a second request
   * covers that gap, so a single node's round-trips roughly double from 1 to 2 in
   * flight without it being overloaded (the Elasticsearch ceiling of `make bench` runs
   * 2). Measured: at 1 the worker indexed text records about a fifth slower than with
   * a fixed 2 (bench-ab, issue 12).
   */
  readonly latencyFloor?: number;
}

/** How one request ended, as far as the limit is concerned. */
export type RequestSignal = "ok" | "backpressure" | "error";

export interface RequestObservation {
  /** When it finished (ms, any monotonic clock). */
  readonly at: number;
  readonly latencyMs: number;
  readonly bytes: number;
  readonly signal: RequestSignal;
  /** Requests in flight when it was sent, itself included. */
  readonly inFlight: number;
}

/** Why the limit last changed (for logs and metrics). */
export type LimitChange = "increase" | "backpressure" | "latency" | "none";

/** What the requests of one round-trip showed. */
interface Window {
  readonly startedAt: number;
  costSum: number;
  count: number;
  peakInFlight: number;
}

function newWindow(startedAt: number): Window {
  return { startedAt, costSum: 0, count: 0, peakInFlight: 0 };
}

const DEFAULTS = {
  backoffRatio: 0.5,
  latencyRatio: 0.9,
  latencyRise: 1.0,
  minCostBytes: 256 * 1024,
  latencyFloor: 2,
} as const;

function validRatio(name: string, value: number, upperOpen = true): number {
  if (!(value > 0 && (upperOpen ? value < 1 : value <= 1))) {
    throw new ConfigError(`adaptive concurrency ${name} must be in (0, 1), got ${String(value)}`);
  }
  return value;
}

export class AdaptiveConcurrency {
  readonly #max: number;
  readonly #backoffRatio: number;
  readonly #latencyRatio: number;
  readonly #latencyRise: number;
  readonly #minCostBytes: number;
  readonly #latencyFloor: number;
  /** Kept fractional so repeated x0.9 steps add up; `limit` rounds down. */
  #limit: number;
  /** Lowest cost seen (ms per MiB), re-learned at concurrency 1: the server's unloaded speed. */
  #baseline: number | undefined;
  /** The first window closes with the first response. */
  #window: Window = newWindow(Number.NEGATIVE_INFINITY);
  #decreasedAt = Number.NEGATIVE_INFINITY;
  #lastChange: LimitChange = "none";

  constructor(options: AdaptiveConcurrencyOptions) {
    const { max } = options;
    if (!Number.isSafeInteger(max) || max < 1) throw new ConfigError(`adaptive concurrency max must be a positive integer, got ${String(max)}`);
    const floor = options.latencyFloor ?? DEFAULTS.latencyFloor;
    if (!Number.isSafeInteger(floor) || floor < 1) throw new ConfigError(`adaptive concurrency latencyFloor must be a positive integer, got ${String(floor)}`);
    const initial = options.initial ?? floor;
    if (!Number.isSafeInteger(initial) || initial < 1) {
      throw new ConfigError(`adaptive concurrency initial must be a positive integer, got ${String(initial)}`);
    }
    this.#max = max;
    this.#limit = Math.min(initial, max);
    this.#backoffRatio = validRatio("backoffRatio", options.backoffRatio ?? DEFAULTS.backoffRatio);
    this.#latencyRatio = validRatio("latencyRatio", options.latencyRatio ?? DEFAULTS.latencyRatio);
    this.#latencyRise = options.latencyRise ?? DEFAULTS.latencyRise;
    this.#minCostBytes = options.minCostBytes ?? DEFAULTS.minCostBytes;
    this.#latencyFloor = Math.min(floor, max);
    if (!(this.#latencyRise > 0)) throw new ConfigError(`adaptive concurrency latencyRise must be > 0, got ${String(this.#latencyRise)}`);
    if (!(this.#minCostBytes >= 1)) throw new ConfigError(`adaptive concurrency minCostBytes must be >= 1, got ${String(this.#minCostBytes)}`);
  }

  /** Requests that may be in flight now: 1..max. */
  get limit(): number {
    return Math.max(1, Math.floor(this.#limit));
  }

  get max(): number {
    return this.#max;
  }

  /** What the last closed window did to the limit. */
  get lastChange(): LimitChange {
    return this.#lastChange;
  }

  /** The baseline cost (ms per MiB of body), undefined before the first window closed. */
  get baselineMsPerMiB(): number | undefined {
    return this.#baseline;
  }

  /**
   * Reports one finished request; returns the (possibly new) limit. A request sent
   * before the last decrease cannot confirm it (TCP ignores losses of the window it
   * already cut for), and a window closes when a request sent after it opened comes
   * back: one round-trip of evidence per decision.
   */
  observe(request: RequestObservation): number {
    const sentAt = request.at - request.latencyMs;
    if (request.signal === "backpressure") {
      if (sentAt >= this.#decreasedAt) {
        this.#limit = Math.max(1, this.#limit * this.#backoffRatio);
        this.#lastChange = "backpressure";
        this.#decreasedAt = request.at;
        this.#window = newWindow(request.at);
      }
      return this.limit;
    }
    const window = this.#window;
    window.peakInFlight = Math.max(window.peakInFlight, request.inFlight);
    // Errors (a refused connection, a bad request) say nothing about load.
    if (request.signal === "ok") {
      window.costSum += this.#cost(request);
      window.count += 1;
    }
    if (sentAt >= window.startedAt) this.#closeWindow(window, request.at);
    return this.limit;
  }

  #cost(request: RequestObservation): number {
    return (request.latencyMs * 2 ** 20) / Math.max(request.bytes, this.#minCostBytes);
  }

  #closeWindow(window: Window, at: number): void {
    this.#window = newWindow(at);
    if (window.count === 0) {
      this.#lastChange = "none";
      return;
    }
    const cost = window.costSum / window.count;
    const baseline = this.#nextBaseline(cost, window.peakInFlight);
    const risen = cost > baseline * (1 + this.#latencyRise);
    if (risen && this.#limit > this.#latencyFloor) {
      this.#baseline = baseline;
      this.#limit = Math.max(this.#latencyFloor, this.#limit * this.#latencyRatio);
      this.#lastChange = "latency";
      this.#decreasedAt = at;
      return;
    }
    // At the floor a latency rise cannot lower the limit, so the unloaded cost cannot be
    // measured below it either: re-learn it half-way here, as at concurrency 1, so that
    // a workload that became heavier for good does not pin the limit at the floor.
    this.#baseline = risen ? (baseline + cost) / 2 : baseline;
    if (!risen && window.peakInFlight >= this.limit && this.#limit < this.#max) {
      this.#limit = Math.min(this.#max, Math.floor(this.#limit) + 1);
      this.#lastChange = "increase";
    } else {
      this.#lastChange = "none";
    }
  }

  /**
   * The lowest cost seen, except that a round-trip with a single request in flight is
   * by definition unloaded (as far as this worker goes): such rounds may also raise
   * it, half-way each time, so a workload that became heavier for good (larger
   * documents, a busier cluster) is re-learned instead of pinning the limit at 1.
   */
  #nextBaseline(cost: number, peakInFlight: number): number {
    const baseline = this.#baseline;
    if (baseline === undefined || cost <= baseline) return cost;
    return peakInFlight <= 1 ? (baseline + cost) / 2 : baseline;
  }
}
