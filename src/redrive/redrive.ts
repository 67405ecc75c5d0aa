/**
 * `kafka-es-transfer redrive`: reads the dead-letter topic back and indexes each record
 * where its source record would have gone, under the source record's id, through the
 * same decoder, router, bulk workers and failure policy as `start`. A record that fails
 * again goes back to the dead-letter topic with error.attempt + 1.
 *
 * It reads under the consumer group `<kafka.groupId>-redrive`, committing as `start`
 * does (only what was settled), from the group's offset to the end offsets seen at
 * start, then stops by itself. A second run reads only what arrived since (the records
 * that failed again); indexing is idempotent either way (same index, same id).
 */
import type { Kafka } from "kafkajs";
import type { Logger } from "pino";
import { composeKafka } from "../compose/kafka.ts";
import { runStopSteps, shutdownBudget } from "../compose/shutdown.ts";
import { processMemoryPlan } from "../compose/memory.ts";
import { readerOptions } from "../compose/reader.ts";
import { composeSink, type SinkParts } from "../compose/sink.ts";
import type { Config } from "../config/schema.ts";
import { describeError, TransferError } from "../errors.ts";
import { BoundedQueue } from "../pipeline/bounded-queue.ts";
import type { Decoder } from "../pipeline/decoder.ts";
import { partitionKey, type KafkaRecord, type QueuedRecord } from "../pipeline/record.ts";
import type { DecodeResult, DocumentSource } from "../sink/bulk-workers.ts";
import { isRedriven, redrivenRecord } from "../sink/dead-letter.ts";
import { noopObserver, type SinkObserver } from "../sink/observer.ts";
import { Checkpointer } from "../source/offsets/checkpointer.ts";
import { KafkaReader, type ReaderObserver } from "../source/consumer/kafka-reader.ts";
import { busyGroupMessage, missingPartitions, pendingRanges, plannedRecords, progressLine, RedriveTally, redrivePlan, summaryText, type PartitionRange } from "./plan.ts";

export interface RedriveOutput {
  /** Progress lines (stderr). */
  progress(line: string): void;
  /** The summary (stdout). */
  summary(text: string): void;
}

export interface RedriveResult {
  readonly tally: RedriveTally;
  readonly planned: number;
}

const PROGRESS_MS = 2_000;
const POLL_MS = 200;

export function redriveGroupId(config: Config): string {
  return `${config.kafka.groupId}-redrive`;
}

/**
 * A record of the dead-letter topic as the sink sees it: the source record it stands for
 * (see redrivenRecord), or itself when it is no dead letter (then `redriveDecode` skips it).
 */
export function asSourceRecord(record: KafkaRecord): KafkaRecord {
  return redrivenRecord(record) ?? record;
}

/** Redrive's decode step: the configured decoder for dead letters, a skip for anything else. */
export function redriveDecode(decoder: Decoder): (record: KafkaRecord) => DecodeResult {
  return (record) => (isRedriven(record) ? decoder.decode(record) : { kind: "skip", reason: "no source.* headers" });
}

/** The queue as the workers see it: dead letters turned back into their source records. */
function asSourceRecords(queue: BoundedQueue<QueuedRecord>): DocumentSource<QueuedRecord> {
  return {
    get waiting() {
      return queue.waiting;
    },
    take: (maxItems, maxBytes) =>
      queue.take(maxItems, maxBytes).map((item) => ({ record: asSourceRecord(item.record), ack: item.ack })),
    waitForItems: (timeoutMs, signal) => queue.waitForItems(timeoutMs, signal),
    release: (bytes, count) => {
      queue.release(bytes, count);
    },
  };
}

function tallyObserver(tally: RedriveTally): SinkObserver {
  return {
    ...noopObserver,
    documentsIndexed: (_count, byIndex) => {
      tally.indexed(byIndex);
    },
    deadLettered: () => {
      tally.failedAgain += 1;
    },
    recordSkipped: (_record, reason) => {
      tally.skip(reason);
    },
    recordAcked: () => {
      tally.settled += 1;
    },
  };
}

const quietReader: ReaderObserver = {
  recordsConsumed: () => undefined,
  assignmentChanged: () => undefined,
  pausedChanged: () => undefined,
  committed: () => undefined,
  groupMembershipChanged: () => undefined,
  beat: () => undefined,
  recordsLost: () => undefined,
};

async function planRun(config: Config, kafka: Kafka, groupId: string): Promise<PartitionRange[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const topic = config.deadLetter.topic;
    const offsets = await admin.fetchTopicOffsets(topic).catch((error: unknown) => {
      throw new TransferError(`cannot read the end offsets of dead-letter topic "${topic}": ${describeError(error)}`, { retriable: true, cause: error });
    });
    const { groups } = await admin.describeGroups([groupId]);
    const members = groups[0]?.members ?? [];
    if (members.length > 0) throw new TransferError(busyGroupMessage(groupId, members), { retriable: false });
    const [entry] = await admin.fetchOffsets({ groupId, topics: [topic] });
    const committed = new Map((entry?.partitions ?? []).map((p) => [p.partition, p.offset]));
    return redrivePlan(offsets, committed);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** True once every partition of the plan was settled up to its end offset. */
function finished(plan: readonly PartitionRange[], checkpointer: Checkpointer, topic: string): boolean {
  const safe = new Map(checkpointer.snapshot().map((p) => [partitionKey(p.topic, p.partition), p.safe]));
  return plan.every((range) => {
    const reached = safe.get(partitionKey(topic, range.partition));
    return reached !== undefined && BigInt(reached) >= range.end;
  });
}

/** What one redrive run reads with: the group reader bounded by the plan's end offsets, and its sink. */
interface RedrivePipeline {
  readonly reader: KafkaReader;
  readonly checkpointer: Checkpointer;
  readonly sink: SinkParts;
  readonly abort: AbortController;
  readonly logger: Logger;
  readonly groupId: string;
  /** SHUTDOWN_TIMEOUT_MS: how long stopping may take. */
  readonly shutdownMs: number;
  /** The first fatal error of the reader or the sink, once there is one. */
  fatal(): Error | undefined;
}

/** `ends`: every partition of the topic with its end offset at start, those with nothing to read included. */
function composeRedrive(config: Config, kafka: Kafka, ends: readonly PartitionRange[], tally: RedriveTally, logger: Logger): RedrivePipeline {
  const topic = config.deadLetter.topic;
  const queue = new BoundedQueue<QueuedRecord>(config.queue, (item) => item.record.size);
  const abort = new AbortController();
  const sink = composeSink(config, {
    kafka,
    queue: asSourceRecords(queue),
    observer: tallyObserver(tally),
    logger,
    signal: abort.signal,
    decode: redriveDecode,
  });
  const checkpointer = new Checkpointer();
  // Every partition stops at its end at start, so records dead-lettered again during the
  // run (or arriving in a partition that had nothing to read) wait for the next run.
  const stopAt = new Map(ends.map((r) => [partitionKey(topic, r.partition), r.end]));
  const reader = new KafkaReader(
    kafka,
    queue,
    checkpointer,
    { ...readerOptions(config, redriveGroupId(config), processMemoryPlan(config).fetch, { topics: [topic], pattern: undefined }), fromBeginning: true, stopAt },
    logger,
    quietReader,
  );
  let fatal: Error | undefined;
  reader.onFatal((error) => {
    fatal = error;
  });
  void sink.workers.fatal.then((error) => {
    fatal = error;
  });
  return { reader, checkpointer, sink, abort, logger, groupId: redriveGroupId(config), shutdownMs: config.shutdown.drainTimeoutMs, fatal: () => fatal };
}

/** How long the reader may stay in the group without every planned partition before the run gives up. */
const SHARED_GROUP_GRACE_MS = 10_000;

/**
 * Another member in the group (a redrive started at the same moment): after a grace for
 * a rebalance under way, an error naming the partitions it holds; undefined otherwise.
 */
function sharedGroupCheck(run: RedrivePipeline, plan: readonly PartitionRange[], topic: string, groupId: string): () => Error | undefined {
  let since: number | undefined;
  return () => {
    const { reader } = run;
    const missing = reader.joined ? missingPartitions(plan, reader.assignment.filter((tp) => tp.topic === topic).map((tp) => tp.partition)) : [];
    if (missing.length === 0) {
      since = undefined;
      return undefined;
    }
    since ??= Date.now();
    if (Date.now() - since < SHARED_GROUP_GRACE_MS) return undefined;
    return new TransferError(`another member joined consumer group "${groupId}" and holds partition(s) ${missing.join(", ")} of "${topic}": ` +
      "two redrives at once would wait for each other for ever; run one redrive at a time", { retriable: false });
  };
}

/** Runs until every partition reached its end offset, a fatal error, or the signal; then stops everything. */
async function drive(run: RedrivePipeline, plan: readonly PartitionRange[], topic: string, report: () => void, signal: AbortSignal): Promise<Error | undefined> {
  const { reader, sink } = run;
  const shared = sharedGroupCheck(run, plan, topic, run.groupId);
  let refused: Error | undefined;
  try {
    await reader.start();
    let lastProgress = Date.now();
    while (!finished(plan, run.checkpointer, topic) && run.fatal() === undefined && !signal.aborted && refused === undefined) {
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      refused = shared();
      if (Date.now() - lastProgress >= PROGRESS_MS) {
        lastProgress = Date.now();
        report();
      }
    }
  } finally {
    // Within SHUTDOWN_TIMEOUT_MS, as `start` stops (compose/shutdown.ts); nothing to drain.
    const budget = shutdownBudget(run.shutdownMs, Date.now());
    reader.pauseForShutdown();
    run.abort.abort();
    await runStopSteps([
      { name: "bulk workers", run: () => sink.workers.stop() },
      { name: "final commit and group leave", run: () => reader.stop() },
      { name: "dead-letter producer", run: () => sink.deadLetters?.close() },
      { name: "schema registry", run: () => { sink.schemas.close(); return undefined; } },
      { name: "Elasticsearch client", run: () => sink.es.close() },
    ], budget.deadline, run.logger);
  }
  return refused;
}

export async function runRedrive(config: Config, logger: Logger, output: RedriveOutput, signal: AbortSignal): Promise<RedriveResult> {
  const started = Date.now();
  const topic = config.deadLetter.topic;
  const groupId = redriveGroupId(config);
  const kafka = composeKafka(config, logger);
  const tally = new RedriveTally();
  const ranges = await planRun(config, kafka, groupId);
  const plan = pendingRanges(ranges);
  const planned = plannedRecords(plan);
  const summarize = (): void => {
    output.summary(summaryText(tally, { topic, groupId, elapsedMs: Date.now() - started }));
  };
  if (planned === 0) {
    summarize();
    return { tally, planned };
  }
  output.progress(`redrive: ${String(planned)} records in ${String(plan.length)} partition(s) of "${topic}" to redrive`);

  const report = (): void => {
    output.progress(progressLine(tally.settled, planned, Date.now() - started));
  };
  const run = composeRedrive(config, kafka, ranges, tally, logger);
  const refused = await drive(run, plan, topic, report, signal);
  if (refused !== undefined) throw refused;
  const fatal = run.fatal();
  if (fatal !== undefined) throw new TransferError(`redrive failed: ${describeError(fatal)}`, { retriable: false, cause: fatal });
  if (signal.aborted) throw new TransferError("redrive interrupted; run it again to continue where it stopped", { retriable: true });
  report();
  summarize();
  return { tally, planned };
}
