/**
 * Lets a repeated message of the same key through at most once per interval and counts
 * the ones it held back, so a poison topic or a flapping Elasticsearch produces one log
 * line every few seconds ("... and 1234 more like it in the last 10s"), not one per
 * record. Pure: the caller passes the clock and does the logging.
 */

export interface RateLimiterOptions {
  /** Minimum time between two lines of the same key. */
  readonly intervalMs: number;
  /** Keys remembered at most; the least recently let-through key is forgotten first. */
  readonly maxKeys?: number;
  readonly now?: () => number;
}

export type RateLimitDecision =
  | {
      readonly allowed: true;
      /** Occurrences held back since the previous line of this key. */
      readonly suppressed: number;
      /** Milliseconds since the previous line of this key (0 for the first one). */
      readonly sinceMs: number;
    }
  | { readonly allowed: false };

export interface SuppressedSummary {
  readonly key: string;
  readonly suppressed: number;
  readonly sinceMs: number;
}

interface KeyState {
  lastAllowedMs: number;
  suppressed: number;
}

const DEFAULT_MAX_KEYS = 1000;

export class LogRateLimiter {
  readonly #intervalMs: number;
  readonly #maxKeys: number;
  readonly #now: () => number;
  readonly #keys = new Map<string, KeyState>();

  constructor(options: RateLimiterOptions) {
    this.#intervalMs = options.intervalMs;
    this.#maxKeys = options.maxKeys ?? DEFAULT_MAX_KEYS;
    this.#now = options.now ?? Date.now;
  }

  /** Call once per occurrence; log only when `allowed`, mentioning `suppressed` if > 0. */
  check(key: string): RateLimitDecision {
    const now = this.#now();
    const state = this.#keys.get(key);
    if (state === undefined) {
      this.#remember(key, { lastAllowedMs: now, suppressed: 0 });
      return { allowed: true, suppressed: 0, sinceMs: 0 };
    }
    if (now - state.lastAllowedMs < this.#intervalMs) {
      state.suppressed++;
      return { allowed: false };
    }
    const decision = { allowed: true, suppressed: state.suppressed, sinceMs: now - state.lastAllowedMs } as const;
    // Re-insert so the Map's order stays "least recently let through first" for eviction.
    this.#keys.delete(key);
    this.#remember(key, { lastAllowedMs: now, suppressed: 0 });
    return decision;
  }

  /**
   * Counts held back and not reported yet (nothing of that key came again after the
   * interval). Call it on a timer or at shutdown so no suppressed count goes unsaid;
   * the counts are reset.
   */
  flush(): SuppressedSummary[] {
    const now = this.#now();
    const out: SuppressedSummary[] = [];
    for (const [key, state] of this.#keys) {
      if (state.suppressed === 0) continue;
      out.push({ key, suppressed: state.suppressed, sinceMs: now - state.lastAllowedMs });
      // The flushed line counts as this key's line: the next summary covers what follows it.
      state.suppressed = 0;
      state.lastAllowedMs = now;
    }
    return out;
  }

  #remember(key: string, state: KeyState): void {
    this.#keys.set(key, state);
    if (this.#keys.size > this.#maxKeys) {
      const oldest = this.#keys.keys().next();
      if (oldest.done !== true) this.#keys.delete(oldest.value);
    }
  }
}

/** " (and 1234 more like it in the last 10s)", or "" when nothing was held back. */
export function suppressedSuffix(suppressed: number, sinceMs: number): string {
  if (suppressed <= 0) return "";
  const seconds = Math.max(1, Math.round(sinceMs / 1000));
  return ` (and ${suppressed} more like it in the last ${seconds}s)`;
}
