/**
 * Adapter from what the Kafka reader reports to the metrics and the liveness
 * watchdog: the reader knows nothing of prom-client.
 */
import type { ReaderObserver } from "../source/consumer/kafka-reader.ts";
import type { LoopWatchdog } from "./loop-watchdog.ts";
import type { TransferMetrics } from "./metrics.ts";

export function readerObserver(metrics: TransferMetrics, watchdog: LoopWatchdog): ReaderObserver {
  return {
    recordsConsumed: (topic, count) => {
      metrics.recordsConsumed(topic, count);
    },
    assignmentChanged: (assigned, revoked) => {
      metrics.rebalanced();
      metrics.setAssignedPartitions(assigned.length);
      for (const tp of revoked) metrics.removePartition(tp.topic, tp.partition);
    },
    pausedChanged: (count) => {
      metrics.setPausedPartitions(count);
    },
    committed: (outcome) => {
      metrics.commitCompleted(outcome);
      if (outcome === "failure") metrics.errorOccurred("commit");
    },
    recordsLost: (range) => {
      metrics.recordsLostToRetention(range.topic, range.count);
    },
    groupMembershipChanged: (joined) => {
      metrics.setGroupMember(joined);
    },
    beat: (loop) => {
      watchdog.beat(loop);
    },
  };
}
