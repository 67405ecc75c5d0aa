/**
 * The replay composition: plan the range (or load a resume file), then run the same
 * sink as `start` (composeSink: decoder, router, ids, bulk path, failure policy) fed
 * by a ReplayReader, print progress while it runs and a summary at the end.
 *
 * Outcomes: "complete" (every partition's range is settled in Elasticsearch; the
 * resume file is removed), "incomplete" (the same, but retention had deleted part of
 * the range before it was read: the partitions and offsets are named), "interrupted" (stopped by the caller's signal: in-flight
 * records drained within shutdown.drainTimeoutMs, the resume file written with the
 * settled positions), "failed" (a fatal error; the resume file still holds the last
 * settled positions, so the run can be resumed once the cause is fixed).
 */
import { randomBytes } from "node:crypto";
import type { Admin } from "kafkajs";
import type { Logger } from "pino";
import { composeKafka } from "../compose/kafka.ts";
import { runStopSteps, shutdownBudget } from "../compose/shutdown.ts";
import { composeSink } from "../compose/sink.ts";
import { installConfiguredTemplates } from "../compose/templates.ts";
import type { Config } from "../config/schema.ts";
import { describeError } from "../errors.ts";
import { BoundedQueue } from "../pipeline/bounded-queue.ts";
import type { QueuedRecord } from "../pipeline/record.ts";
import { Checkpointer } from "../source/offsets/checkpointer.ts";
import { processMemoryPlan } from "../compose/memory.ts";
import { checkTopicsExist, logStartOffsets, offsetsAtTime } from "../source/replay/offsets-by-time.ts";
import { ReplayReader } from "../source/replay/replay-reader.ts";
import { advanceAll, describePositions, lossLines, offsetTotals, planRange, retentionLosses, type PartitionOffsets } from "../source/replay/replay-plan.ts";
import { formatProgress, formatSummary, RunProgress } from "../telemetry/run-progress.ts";
import { RunCounters } from "../telemetry/run-counters.ts";
import type { ReplayRequest } from "./args.ts";
import type { ResumeState } from "./resume-state.ts";
import { readResumeFile, removeResumeFile, writeResumeFile } from "./state-file.ts";

export type ReplayOutcome = "complete" | "incomplete" | "interrupted" | "failed";

export interface ReplayIo {
  readonly logger: Logger;
  /** Progress lines and the "where it stopped" line (stderr). */
  readonly progress: (line: string) => void;
  /** The summary (stdout). */
  readonly summary: (text: string) => void;
  /** Aborted on SIGINT/SIGTERM: stop, drain, write the resume file. */
  readonly interrupt: AbortSignal;
  /** How often progress is printed and the resume file written (ms). */
  readonly progressIntervalMs?: number;
  readonly now?: () => number;
}

const DEFAULT_PROGRESS_MS = 5_000;

async function withAdmin<T>(config: Config, logger: Logger, work: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = composeKafka(config, logger).admin();
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** The fresh plan from Kafka (offsets by time), or the resume file's. */
async function resolveState(config: Config, request: ReplayRequest, logger: Logger): Promise<ResumeState> {
  if (request.kind === "resume") return readResumeFile(request.resumeFile);
  const { topics, range } = request;
  const [starts, ends] = await withAdmin(config, logger, async (admin): Promise<[PartitionOffsets[], PartitionOffsets[]]> => {
    await checkTopicsExist(admin, topics);
    return [await offsetsAtTime(admin, topics, range.from), await offsetsAtTime(admin, topics, range.to)];
  });
  return { topics, range, index: request.index, partitions: planRange(starts, ends) };
}

/**
 * What retention deleted of the range before it was read (before this run, or since the
 * resumed run stopped), and the state moved past it: a fetch below the log start would
 * be answered "out of range" and reset.
 */
async function checkRetention(config: Config, state: ResumeState, fresh: boolean, logger: Logger): Promise<{ state: ResumeState; losses: string[] }> {
  const lows = await withAdmin(config, logger, (admin) => logStartOffsets(admin, state.topics));
  const losses = lossLines(retentionLosses(state.partitions, lows, fresh));
  // The resume file carries what an earlier run found lost.
  const lost = [...(state.lost ?? []), ...losses];
  return { state: { ...state, partitions: advanceAll(state.partitions, lows), lost }, losses };
}

export async function runReplay(config: Config, request: ReplayRequest, io: ReplayIo): Promise<ReplayOutcome> {
  const now = io.now ?? Date.now;
  const runId = randomBytes(4).toString("hex");
  const { state, losses } = await checkRetention(config, await resolveState(config, request, io.logger), request.kind !== "resume", io.logger);
  const file = request.resumeFile ?? `replay-${runId}.resume.json`;
  const { total, left } = offsetTotals(state.partitions);
  io.progress(
    `replay: topics ${state.topics.join(",")}, [${new Date(state.range.from).toISOString()}, ${new Date(state.range.to).toISOString()}), ` +
      `${String(state.partitions.length)} partitions, ${String(left)} of ${String(total)} offsets to read` +
      `${state.index === undefined ? "" : `, into ${state.index}`}; resume file ${file}`,
  );
  if (losses.length > 0) io.progress(`replay: retention deleted part of the range before it was read: ${losses.join(", ")}`);
  return new ReplayRun(config, state, file, `${config.kafka.groupId}-replay-${runId}`, io, now).run();
}

/** One replay from a resolved state to its outcome. */
class ReplayRun {
  readonly #config: Config;
  readonly #io: ReplayIo;
  readonly #file: string;
  readonly #now: () => number;
  readonly #startedAt: number;
  readonly #counters = new RunCounters();
  readonly #checkpointer = new Checkpointer();
  readonly #queue: BoundedQueue<QueuedRecord>;
  readonly #sinkAbort = new AbortController();
  readonly #sink: ReturnType<typeof composeSink>;
  readonly #reader: ReplayReader;
  readonly #progress: RunProgress;
  #state: ResumeState;
  /** The last progress tick, awaited before the final write so it cannot land after it. */
  #ticking: Promise<void> = Promise.resolve();

  constructor(config: Config, state: ResumeState, file: string, groupId: string, io: ReplayIo, now: () => number) {
    this.#config = config;
    this.#state = state;
    this.#file = file;
    this.#io = io;
    this.#now = now;
    this.#startedAt = now();
    this.#queue = new BoundedQueue<QueuedRecord>(config.queue, (item) => item.record.size);
    const kafka = composeKafka(config, io.logger);
    this.#sink = composeSink(config, {
      queue: this.#queue,
      // The dead-letter producer comes from it when the failure policy is "dlq".
      kafka,
      observer: this.#counters.observer,
      logger: io.logger,
      signal: this.#sinkAbort.signal,
      indexOverride: state.index,
    });
    // The configured consumer tuning, under a group name of the run's own, with the
    // fetch sizes start would use (the memory model).
    this.#reader = new ReplayReader(kafka, this.#queue, this.#checkpointer, {
      ...config.kafka,
      ...processMemoryPlan(config).fetch,
      groupId,
      plans: state.partitions,
      range: state.range,
    }, io.logger);
    this.#progress = new RunProgress(offsetTotals(state.partitions).total, this.#startedAt);
  }

  async run(): Promise<ReplayOutcome> {
    const fatal = new Promise<Error>((resolve) => {
      this.#reader.onFatal(resolve);
      void this.#sink.workers.fatal.then(resolve);
    });
    const interrupted = new Promise<"interrupted">((resolve) => {
      if (this.#io.interrupt.aborted) resolve("interrupted");
      this.#io.interrupt.addEventListener("abort", () => { resolve("interrupted"); }, { once: true });
    });
    const timer = setInterval(() => {
      this.#ticking = this.#ticking.then(() => this.#tick());
    }, this.#io.progressIntervalMs ?? DEFAULT_PROGRESS_MS);
    let outcome: ReplayOutcome;
    try {
      // As start does: new indices must be created under the template.
      await installConfiguredTemplates(this.#config, this.#sink.es, this.#io.logger);
      await this.#reader.start();
      const finished = this.#reader.allFetched.then(() => this.#queue.drained()).then(() => "complete" as const);
      const first = await Promise.race([finished, interrupted, fatal]);
      outcome = first instanceof Error ? "failed" : first === "complete" && this.#lost().length > 0 ? "incomplete" : first;
      if (first instanceof Error) this.#io.logger.error({ err: describeError(first) }, "replay stopped on a fatal error");
    } catch (error) {
      this.#io.logger.error({ err: describeError(error) }, "replay failed");
      outcome = "failed";
    } finally {
      clearInterval(timer);
    }
    await this.#shutdown(outcome);
    await this.#finish(outcome);
    return outcome;
  }

  /** Settled positions into the state, progress line, resume file. */
  async #tick(): Promise<void> {
    this.#advance();
    this.#io.progress(formatProgress("replay", this.#progress.update(this.#now(), offsetTotals(this.#state.partitions).left)));
    await writeResumeFile(this.#file, this.#state).catch((error: unknown) => {
      this.#io.logger.warn({ err: describeError(error), file: this.#file }, "could not write the resume file");
    });
  }

  #advance(): void {
    const safe: PartitionOffsets[] = [];
    for (const s of this.#checkpointer.snapshot()) if (s.safe !== undefined) safe.push({ topic: s.topic, partition: s.partition, offset: s.safe });
    this.#state = { ...this.#state, partitions: advanceAll(this.#state.partitions, safe) };
  }

  /** Within SHUTDOWN_TIMEOUT_MS, as `start` stops (compose/shutdown.ts). */
  async #shutdown(outcome: ReplayOutcome): Promise<void> {
    const budget = shutdownBudget(this.#config.shutdown.drainTimeoutMs, Date.now());
    this.#reader.pause();
    if (outcome === "interrupted") await this.#queue.drained(AbortSignal.timeout(Math.max(0, budget.drainUntil - Date.now())));
    this.#sinkAbort.abort();
    await runStopSteps([
      { name: "bulk workers", run: () => this.#sink.workers.stop() },
      { name: "dead-letter producer", run: () => this.#sink.deadLetters?.close() },
      { name: "schema registry", run: () => { this.#sink.schemas.close(); return undefined; } },
      { name: "replay reader", run: () => this.#reader.stop() },
      { name: "Elasticsearch client", run: () => this.#sink.es.close() },
    ], budget.deadline, this.#io.logger);
  }

  /** What retention deleted of the range, this run's findings and an earlier run's. */
  #lost(): readonly string[] {
    return this.#state.lost ?? [];
  }

  async #finish(outcome: ReplayOutcome): Promise<void> {
    await this.#ticking;
    this.#advance();
    if (outcome === "complete" || outcome === "incomplete") await removeResumeFile(this.#file);
    if (outcome === "incomplete") this.#io.progress(`replay incomplete: retention deleted part of the range before it was read: ${this.#lost().join(", ")}`);
    if (outcome === "interrupted" || outcome === "failed") {
      await writeResumeFile(this.#file, this.#state);
      this.#io.progress(`replay ${outcome}: stopped at ${describePositions(this.#state.partitions)}`);
      this.#io.progress(`replay ${outcome}: continue with: kafka-es-transfer replay --resume ${this.#file}`);
    }
    this.#io.summary(formatSummary(this.#summary(outcome)));
  }

  #summary(outcome: ReplayOutcome): Parameters<typeof formatSummary>[0] {
    const c = this.#counters;
    const { left } = offsetTotals(this.#state.partitions);
    const rejected = [...c.rejectedByType].map(([type, n]) => `${type} ${String(n)}`).join(", ");
    return {
      title: `replay ${outcome}: ${this.#state.topics.join(",")} [${new Date(this.#state.range.from).toISOString()}, ${new Date(this.#state.range.to).toISOString()})`,
      elapsedMs: this.#now() - this.#startedAt,
      figures: [
        ["records read", this.#reader.recordsQueued],
        ["indexed", c.indexed],
        ["rejected", rejected === "" ? "0" : `${String(c.rejected)} (${rejected}; policy ${this.#sink.failurePolicy})`],
        ["skipped", c.skipped],
        ["offsets left", left],
        ...(this.#lost().length > 0 ? [["lost to retention", this.#lost().join(", ")] as [string, string]] : []),
      ],
      breakdown: { label: "per index", counts: c.byIndex },
    };
  }
}
