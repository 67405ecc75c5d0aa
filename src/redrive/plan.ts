/**
 * What a redrive run reads and how it reports, without I/O: per partition of the
 * dead-letter topic, from the redrive group's committed offset (or the log start) to the
 * end offset seen at start; progress lines; the closing summary.
 */

export interface PartitionRange {
  readonly partition: number;
  /** First offset to read: the group's committed offset, or the log start. */
  readonly start: bigint;
  /** End offset (exclusive) seen when the run began: records past it wait for the next run. */
  readonly end: bigint;
}

export interface TopicOffsets {
  readonly partition: number;
  readonly low: string;
  readonly high: string;
}

/** The ranges to read; `committed` maps partitions to the group's offset ("-1" = none). */
export function redrivePlan(offsets: readonly TopicOffsets[], committed: ReadonlyMap<number, string>): PartitionRange[] {
  return offsets
    .map(({ partition, low, high }) => {
      const done = committed.get(partition);
      const from = done === undefined || done === "-1" || done === "" ? BigInt(low) : BigInt(done);
      // Retention may have removed records the group never read.
      const start = from < BigInt(low) ? BigInt(low) : from;
      return { partition, start, end: BigInt(high) };
    })
    .sort((a, b) => a.partition - b.partition);
}

/** Records the plan covers at most (compaction or transaction markers make it fewer). */
export function plannedRecords(plan: readonly PartitionRange[]): number {
  return plan.reduce((sum, r) => sum + (r.end > r.start ? Number(r.end - r.start) : 0), 0);
}

/** The ranges that still have records to read. */
export function pendingRanges(plan: readonly PartitionRange[]): PartitionRange[] {
  return plan.filter((r) => r.end > r.start);
}

/** A member of the redrive group, as Kafka describes it. */
export interface GroupMember {
  readonly clientId: string;
  readonly clientHost: string;
}

/**
 * Why a redrive refuses to start or goes on: another run holds the group. Two runs at
 * once split the partitions, and each would wait for ever for the end offsets of the
 * partitions the other holds.
 */
export function busyGroupMessage(groupId: string, members: readonly GroupMember[]): string {
  const who = members.map((m) => `${m.clientId} on ${m.clientHost.replace(/^\//, "")}`).join(", ");
  return `another redrive is running in consumer group "${groupId}" (${String(members.length)} member(s): ${who}): ` +
    "two at once would wait for each other for ever; let it finish (or stop it; a killed run counts until its session times out) and run redrive again";
}

/** Partitions of the plan that the reader was not given (another member of the group holds them). */
export function missingPartitions(plan: readonly PartitionRange[], assigned: readonly number[]): number[] {
  const have = new Set(assigned);
  return plan.filter((r) => !have.has(r.partition)).map((r) => r.partition);
}

/** Counts of one run, as the sink reports them. */
export class RedriveTally {
  readonly byIndex = new Map<string, number>();
  readonly skipped = new Map<string, number>();
  redriven = 0;
  failedAgain = 0;
  settled = 0;

  indexed(byIndex: ReadonlyMap<string, number>): void {
    for (const [index, count] of byIndex) {
      this.byIndex.set(index, (this.byIndex.get(index) ?? 0) + count);
      this.redriven += count;
    }
  }

  skip(reason: string): void {
    this.skipped.set(reason, (this.skipped.get(reason) ?? 0) + 1);
  }
}

/** "redrive: 1200/5000 (24%), 400 records/s, 3800 left". */
export function progressLine(settled: number, planned: number, elapsedMs: number): string {
  const rate = elapsedMs > 0 ? Math.round((settled * 1000) / elapsedMs) : 0;
  const percent = planned > 0 ? Math.min(100, Math.floor((settled * 100) / planned)) : 100;
  const left = Math.max(0, planned - settled);
  return `redrive: ${String(settled)}/${String(planned)} (${String(percent)}%), ${String(rate)} records/s, ${String(left)} left`;
}

export interface SummaryContext {
  readonly topic: string;
  readonly groupId: string;
  readonly elapsedMs: number;
}

/** The closing summary: redriven, failed again, skipped, and redriven per index. */
export function summaryText(tally: RedriveTally, context: SummaryContext): string {
  const lines = [
    `redrive of dead-letter topic "${context.topic}" (consumer group "${context.groupId}") done in ${(context.elapsedMs / 1000).toFixed(1)} s`,
    `  redriven:     ${String(tally.redriven)}`,
    `  failed again: ${String(tally.failedAgain)}${tally.failedAgain > 0 ? ` (back in "${context.topic}" with error.attempt + 1)` : ""}`,
  ];
  for (const [reason, count] of [...tally.skipped].sort()) lines.push(`  skipped (${reason}): ${String(count)}`);
  if (tally.byIndex.size > 0) {
    lines.push("  per index:");
    const width = Math.max(...[...tally.byIndex.keys()].map((k) => k.length));
    for (const [index, count] of [...tally.byIndex].sort()) lines.push(`    ${index.padEnd(width)}  ${String(count)}`);
  }
  return lines.join("\n");
}
