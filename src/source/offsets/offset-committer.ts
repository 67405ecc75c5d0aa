/**
 * One commit attempt of the offsets the checkpointer says are safe, re-validated against
 * the current generation and assignment. When attempts happen (period, retries with
 * backoff, rebalance, stop) and their serialization: commit-schedule.ts.
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
import type { Checkpointer, CommitRequest } from "./checkpointer.ts";

/** One runner's way to commit: kafkajs' `EachBatchPayload` methods of that name. */
export interface CommitChannel {
  /** One attempt, under the runner's current generation; rejects on any partition error. */
  commitOffsetsIfNecessary(offsets: Offsets): Promise<void>;
  /** False once the runner stopped or crashed: its generation is gone. */
  isRunning(): boolean;
}

export interface CommitterHooks {
  /** Whether a partition may be committed now (seeded from the broker in this epoch). */
  readonly mayCommit: (request: CommitRequest) => boolean;
  readonly committed: (outcome: "success" | "failure", requests: readonly CommitRequest[]) => void;
}

/** Why an attempt committed nothing; for logs and tests. */
export type AttemptOutcome = "committed" | "nothing" | "not-joined" | "failed";

/** What one attempt did; a failed one says why and for how many partitions (the schedule retries it). */
export type AttemptResult =
  | { readonly outcome: "committed" | "nothing" | "not-joined" }
  | { readonly outcome: "failed"; readonly error: unknown; readonly partitions: number };

/** Resolves at the start of a fresh macrotask: see `attempt`. */
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
  #channel: CommitChannel | undefined;

  constructor(checkpointer: Checkpointer, hooks: CommitterHooks) {
    this.#checkpointer = checkpointer;
    this.#hooks = hooks;
  }

  /** The runner that delivered the latest batch; replaces any older one. */
  useChannel(channel: CommitChannel): void {
    this.#channel = channel;
  }

  /** The runner crashed or stopped: nothing is committed until a new one delivers a batch. */
  dropChannel(): void {
    this.#channel = undefined;
  }

  /**
   * One attempt; never rejects. Validation and kafkajs' read of its generation happen in
   * the same synchronous turn, at the start of a macrotask: kafkajs installs a new
   * generation and announces it (GROUP_JOIN, which bumps our epoch) within one chain of
   * microtasks, so starting on a fresh macrotask means we never validate against an
   * epoch kafkajs already left.
   */
  async attempt(): Promise<AttemptResult> {
    await nextTurn();
    const channel = this.#channel;
    if (channel?.isRunning() !== true) return { outcome: "not-joined" };
    const requests = this.#checkpointer.committable().filter((r) => this.#hooks.mayCommit(r));
    if (requests.length === 0) return { outcome: "nothing" };
    try {
      await channel.commitOffsetsIfNecessary(toOffsets(requests));
    } catch (error) {
      this.#hooks.committed("failure", requests);
      return { outcome: "failed", error, partitions: requests.length };
    }
    this.#checkpointer.markCommitted(requests);
    this.#hooks.committed("success", requests);
    return { outcome: "committed" };
  }
}
