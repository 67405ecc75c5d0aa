/**
 * Retries an async step with exponential backoff until it succeeds or stops being
 * wanted. The source's recoveries (starting a consumer, seeding an assignment) use it:
 * a worker that gives up on a broker blip helps nobody, and one that retries in a tight
 * loop hurts the broker. It sits at the root of src/source/ because the consumer
 * (consumer/) and the offsets side (offsets/: seeder, commit schedule) both use it.
 */
export interface RetryLoopOptions {
  readonly initialMs: number;
  readonly maxMs: number;
  /** Checked before every attempt: false ends the loop without another try. */
  readonly wanted: () => boolean;
  /** Called after a failed attempt with the delay before the next one. */
  readonly failed: (error: unknown, retryInMs: number) => void;
}

/** The delay after `failures` consecutive failures (1-based). */
export function backoffMs(failures: number, initialMs: number, maxMs: number): number {
  return Math.min(maxMs, initialMs * 2 ** Math.max(0, failures - 1));
}

/** Resolves true once `attempt` succeeded, false when no longer wanted. Never rejects. */
export async function retryUntilDone(attempt: () => Promise<void>, o: RetryLoopOptions): Promise<boolean> {
  for (let failures = 0; o.wanted(); ) {
    try {
      await attempt();
      return true;
    } catch (error) {
      failures += 1;
      const delay = backoffMs(failures, o.initialMs, o.maxMs);
      o.failed(error, delay);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
  return false;
}
