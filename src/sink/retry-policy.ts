import { ConfigError } from "../errors.ts";

export interface RetryPolicyOptions {
  /** Upper bound of the first delay. */
  readonly retryInitialMs: number;
  /** Upper bound of every delay, however many attempts failed. */
  readonly retryMaxMs: number;
}

/** Throws a ConfigError unless 0 < retryInitialMs <= retryMaxMs. */
export function validateRetryOptions(options: RetryPolicyOptions): void {
  const { retryInitialMs, retryMaxMs } = options;
  if (!(retryInitialMs > 0) || !(retryMaxMs >= retryInitialMs) || !Number.isFinite(retryMaxMs)) {
    throw new ConfigError(
      `invalid retry delays: retryInitialMs=${retryInitialMs} must be > 0 and <= retryMaxMs=${retryMaxMs}`,
    );
  }
}

/** The largest delay before retry number `attempt` (0 for the first retry): doubling, capped. */
export function backoffCeiling(attempt: number, options: RetryPolicyOptions): number {
  // Cap the exponent so 2 ** attempt never overflows, however long an outage lasts.
  const exponent = Math.min(Math.max(0, Math.floor(attempt)), 52);
  return Math.min(options.retryMaxMs, options.retryInitialMs * 2 ** exponent);
}

/**
 * The delay before retry number `attempt`: "full jitter", uniform in [0, ceiling).
 * Spreading retries over the whole window keeps the workers of many replicas, all
 * refused by the same overloaded cluster, from coming back in lockstep. There is
 * deliberately no limit in attempts or time: Elasticsearch may be down for minutes
 * and nothing may be dropped. `random` is injectable for seeded tests.
 */
export function backoffDelay(attempt: number, options: RetryPolicyOptions, random: () => number = Math.random): number {
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.floor(r * backoffCeiling(attempt, options));
}

/**
 * Waits `ms`, or less if `signal` aborts: resolves either way (never rejects), so
 * callers check `signal.aborted` afterwards. Shutdown must not wait out a backoff.
 */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted || ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
