/**
 * When offsets are committed: the one owner of the commit timing. An attempt is made
 * every `intervalMs`; after a failed one, again with backoff (doubling up to
 * `retryMaxMs`, each retry re-validated by the committer); when a rebalance starts (the
 * last chance under the generation that is ending: the broker accepts it until the
 * rebalance completes); and before a consumer stops (kafkajs' commit is a silent no-op
 * once its runner stopped). Attempts are serialized: two commits in flight could land
 * out of order. `settled()` tells the partition seeder when no commit of ours is in
 * flight, so that the committed offsets it reads from the broker are not stale.
 *
 * The reader only starts and stops the schedule and signals the events; what an attempt
 * commits, and whether it may, is the OffsetCommitter's business.
 */
import type { Logger } from "pino";
import { describeError } from "../../errors.ts";
import { backoffMs } from "../retry-loop.ts";
import type { AttemptOutcome, AttemptResult } from "./offset-committer.ts";

export interface CommitScheduleOptions {
  /** The periodic commit (kafka.commitIntervalMs). */
  readonly intervalMs: number;
  /** First retry delay after a failed attempt; doubles up to `retryMaxMs`. */
  readonly retryInitialMs: number;
  readonly retryMaxMs: number;
}

export interface CommitScheduleHooks {
  /** Every period, before its attempt: the liveness check's "commit" beat. */
  readonly tick: () => void;
}

/** What the schedule needs of the committer: one attempt that never rejects. */
export interface CommitAttempts {
  attempt(): Promise<AttemptResult>;
}

export class CommitSchedule {
  readonly #committer: CommitAttempts;
  readonly #options: CommitScheduleOptions;
  readonly #hooks: CommitScheduleHooks;
  readonly #logger: Logger;
  #chain: Promise<AttemptOutcome> = Promise.resolve("nothing");
  #failures = 0;
  #periodic: NodeJS.Timeout | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(committer: CommitAttempts, options: CommitScheduleOptions, hooks: CommitScheduleHooks, logger: Logger) {
    this.#committer = committer;
    this.#options = options;
    this.#hooks = hooks;
    this.#logger = logger;
  }

  /** Starts the periodic commit. */
  start(): void {
    clearInterval(this.#periodic);
    this.#periodic = setInterval(() => {
      this.#hooks.tick();
      void this.commitNow();
    }, this.#options.intervalMs);
  }

  /** One attempt, serialized after any in flight; a failed one is retried with backoff. */
  commitNow(): Promise<AttemptOutcome> {
    this.#chain = this.#chain.then(
      () => this.#run(),
      () => this.#run(),
    );
    return this.#chain;
  }

  /** A rebalance started: commit under the generation that is ending; later attempts re-validate. */
  rebalancing(): void {
    void this.commitNow();
  }

  /** A consumer is about to stop: commit while its runner still runs. */
  beforeConsumerStops(): Promise<AttemptOutcome> {
    return this.commitNow();
  }

  /** Resolves once no attempt is in flight (without starting one). */
  settled(): Promise<AttemptOutcome> {
    return this.#chain;
  }

  /**
   * No more periodic commits or retries; attempts asked for explicitly (the final commit
   * before the consumer stops) still run. Resolves when the one in flight finished.
   */
  stop(): Promise<AttemptOutcome> {
    this.#stopped = true;
    clearInterval(this.#periodic);
    clearTimeout(this.#retryTimer);
    return this.#chain;
  }

  async #run(): Promise<AttemptOutcome> {
    const result = await this.#committer.attempt();
    if (result.outcome === "committed") this.#failures = 0;
    if (result.outcome === "failed") this.#scheduleRetry(result.error, result.partitions);
    return result.outcome;
  }

  #scheduleRetry(error: unknown, partitions: number): void {
    this.#failures += 1;
    const delay = backoffMs(this.#failures, this.#options.retryInitialMs, this.#options.retryMaxMs);
    this.#logger.warn({ err: describeError(error), partitions, retryInMs: delay }, "offset commit failed; retrying with the current assignment");
    if (this.#stopped) return;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => {
      void this.commitNow();
    }, delay);
    this.#retryTimer.unref();
  }
}
