/**
 * Counts what a bounded run did, for its summary: documents indexed (in total and per
 * index), rejected (per error type), skipped and retried. Reusable by any command
 * that drives the shared sink and ends (replay, redrive). Hand `observer` to the sink;
 * events a summary does not show fall through to the no-op observer, so new sink
 * events need no change here.
 */
import { noopObserver, type SinkObserver } from "../sink/observer.ts";

export class RunCounters {
  indexed = 0;
  rejected = 0;
  skipped = 0;
  retried = 0;
  readonly byIndex = new Map<string, number>();
  readonly rejectedByType = new Map<string, number>();

  readonly observer: SinkObserver = {
    ...noopObserver,
    documentsIndexed: (count, byIndex) => {
      this.indexed += count;
      for (const [index, n] of byIndex) this.byIndex.set(index, (this.byIndex.get(index) ?? 0) + n);
    },
    documentsRetried: (count) => {
      this.retried += count;
    },
    documentRejected: (event) => {
      this.rejected += 1;
      this.rejectedByType.set(event.errorType, (this.rejectedByType.get(event.errorType) ?? 0) + 1);
    },
    recordSkipped: () => {
      this.skipped += 1;
    },
  };
}
