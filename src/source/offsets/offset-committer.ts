/**
 * Commits the offsets the checkpointer says are safe, one attempt at a time, each one
 * re-validated against the current generation and assignment.
 *
 * Why not `consumer.commitOffsets()`: kafkajs runs it through its own retrier, and each
 * retry reads the generation of the moment. A commit built in generation N whose first
 * attempt failed retriably (NOT_COORDINATOR, a timeout, a dropped connection) is sent
 * again in generation N+1, after a rebalance gave the partition to another member, and
 * the broker accepts it: that member's offset goes backwards. It is also a silent no-op
 * while its runner is not running (between a crash and the rejoin), which looks exactly
 * like success.
 *
 * Instead the reader hands over, from each `eachBatch` payload, kafkajs' single-attempt
 * commit bound to that runner (`commitOffsetsIfNecessary(offsets)`: no retrier, errors
 * thrown, the runner's current generation and member id). Every attempt, first try or
 * retry, recomputes what to commit from the checkpointer (which only offers partitions
 * owned in the current epoch), drops partitions not yet seeded from the broker, and is
 * made only while that runner runs. Only what the broker acknowledged is marked.
 */
import type { Offsets } from "kafkajs";
import type { Logger } from "pino";
import { describeError } from "../../errors.ts";
import type { Checkpointer, CommitRequest } from "./checkpointer.ts";
import { backoffMs } from "../retry-loop.ts";

/** One runner's way to commit: kafkajs' `EachBatchPayload` methods of that name. */
export interface CommitChannel {
  /** One attempt, under the runner's current generation; rejects on any partition error. */
  commitOffsetsIfNecessary(offsets: Offsets): Promise<void>;
  /** False once the runner stopped or crashed: its generation is gone. */
  isRunning(): boolean;
}

export interface CommitterOptions {
  /** First retry delay after a failed attempt; doubles up to `retryMaxMs`. */
  readonly retryInitialMs: number;
  readonly retryMaxMs: number;
}

export interface CommitterHooks {
  /** Whether a partition may be committed now (seeded from the broker in this epoch). */
  readonly mayCommit: (request: CommitRequest) => boolean;
  readonly committed: (outcome: "success" | "failure", requests: readonly CommitRequest[]) => void;
}

/** Why an attempt committed nothing; for logs and tests. */
export type AttemptOutcome = "committed" | "nothing" | "not-joined" | "failed";

/** Resolves at the start of a fresh macrotask: see `#attempt`. */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export function toOffsets(requests: readonly CommitRequest[]): Offsets {
  const byTopic = new Map<string, { partition: number; offset: string }[]>();
  for (const r of requests) {
    const list = byTopic.get(r.topic) ?? [];
    list.push({ partition: r.partition, offset: r.offset });
    byTopic.set(r.topic, list);
  }
  return { topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })) };
}

export class OffsetCommitter {
  readonly #checkpointer: Checkpointer;
  readonly #hooks: CommitterHooks;
  readonly #options: CommitterOptions;
  readonly #logger: Logger;
  #channel: CommitChannel | undefined;
  #chain: Promise<AttemptOutcome> = Promise.resolve("nothing");
  #failures = 0;
  #retryTimer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(checkpointer: Checkpointer, hooks: CommitterHooks, options: CommitterOptions, logger: Logger) {
    this.#checkpointer = checkpointer;
    this.#hooks = hooks;
    this.#options = options;
    this.#logger = logger;
  }

  /** The runner that delivered the latest batch; replaces any older one. */
  useChannel(channel: CommitChannel): void {
    this.#channel = channel;
  }

  /** The runner crashed or stopped: nothing is committed until a new one delivers a batch. */
  dropChannel(): void {
    this.#channel = undefined;
  }

  get hasChannel(): boolean {
    return this.#channel?.isRunning() === true;
  }

  /** One attempt, serialized after any in flight (two commits in flight could land out of order). */
  commitNow(): Promise<AttemptOutcome> {
    this.#chain = this.#chain.then(
      () => this.#attempt(),
      () => this.#attempt(),
    );
    return this.#chain;
  }

  /** Resolves once no attempt is in flight (without starting one). */
  settled(): Promise<AttemptOutcome> {
    return this.#chain;
  }

  /** Stops retrying; an attempt in flight finishes. */
  stop(): Promise<AttemptOutcome> {
    this.#stopped = true;
    clearTimeout(this.#retryTimer);
    return this.#chain;
  }

  /**
   * Validation and kafkajs' read of its generation happen in the same synchronous turn,
   * at the start of a macrotask: kafkajs installs a new generation and announces it
   * (GROUP_JOIN, which bumps our epoch) within one chain of microtasks, so starting on a
   * fresh macrotask means we never validate against an epoch kafkajs already left.
   */
  async #attempt(): Promise<AttemptOutcome> {
    await nextTurn();
    const channel = this.#channel;
    if (channel?.isRunning() !== true) return "not-joined";
    const requests = this.#checkpointer.committable().filter((r) => this.#hooks.mayCommit(r));
    if (requests.length === 0) return "nothing";
    try {
      await channel.commitOffsetsIfNecessary(toOffsets(requests));
    } catch (error) {
      this.#hooks.committed("failure", requests);
      this.#scheduleRetry(error, requests.length);
      return "failed";
    }
    this.#failures = 0;
    this.#checkpointer.markCommitted(requests);
    this.#hooks.committed("success", requests);
    return "committed";
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
