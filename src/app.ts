/**
 * Composition root: turns the configuration into components and wires them
 * sink -> queue -> source, so that nothing fetches before something can drain it.
 * Stopping runs in reverse: stop fetching, drain, commit, leave the group.
 */
import { createRequire } from "node:module";
import type { Client } from "@elastic/elasticsearch";
import type { Kafka } from "kafkajs";
import type { Logger } from "pino";
import type { Config } from "./config/schema.ts";
import { describeError, TransferError } from "./errors.ts";
import { composeKafka, kafkaFailureContext } from "./compose/kafka.ts";
import { startMemoryPlan } from "./compose/memory.ts";
import { preflight } from "./compose/preflight.ts";
import { runStopSteps, shutdownBudget } from "./compose/shutdown.ts";
import { composeHolds, heldNotes, heldPartitions, wireHolds } from "./compose/holds.ts";
import type { PartitionHolds } from "./sink/partition-holds.ts";
import { readerOptions } from "./compose/reader.ts";
import { composeSink, type SinkParts } from "./compose/sink.ts";
import { installConfiguredTemplates } from "./compose/templates.ts";
import { BoundedQueue } from "./pipeline/bounded-queue.ts";
import type { QueuedRecord } from "./pipeline/record.ts";
import type { FetchSizes } from "./shared/memory-model.ts";
import { elasticsearchReachable } from "./sink/es-client.ts";
import { sleep } from "./sink/retry-policy.ts";
import { Checkpointer } from "./source/offsets/checkpointer.ts";
import { explainKafkaError } from "./source/client/kafka-diagnosis.ts";
import { KafkaReader } from "./source/consumer/kafka-reader.ts";
import { LagMonitor } from "./source/offsets/lag-monitor.ts";
import { TelemetryServer } from "./telemetry/http-server.ts";
import { LoopWatchdog } from "./telemetry/loop-watchdog.ts";
import { createMetrics, type TransferMetrics } from "./telemetry/metrics.ts";
import { readerObserver } from "./telemetry/reader-observer.ts";
import { metricsObserver } from "./telemetry/sink-observer.ts";
import { schemaMetricsObserver } from "./telemetry/schema-observer.ts";
import { combineChecks } from "./telemetry/probe.ts";

export type AppOutcome = { readonly kind: "stopped" } | { readonly kind: "failed"; readonly error: Error };

export interface App {
  /** Stops fetching, drains in-flight records within the deadline, commits, leaves the group. */
  stop(reason: string): Promise<void>;
  /** Settles when the worker ended by itself (a fatal error) or after `stop`. */
  readonly finished: Promise<AppOutcome>;
  readonly metricsPort: number;
}

const VERSION = (createRequire(import.meta.url)("../package.json") as { version: string }).version;
/** How often Elasticsearch's reachability is probed for /readyz. */
const ES_PROBE_MS = 5_000;

// Kept here for the callers that import it from the composition root.
export { topicPattern } from "./compose/reader.ts";

interface Telemetry {
  readonly metrics: TransferMetrics;
  readonly watchdog: LoopWatchdog;
}

/** The source: the checkpointer, the Kafka reader and the lag monitor beside it. */
function composeSource(config: Config, kafka: Kafka, queue: BoundedQueue<QueuedRecord>, fetch: FetchSizes, telemetry: Telemetry, logger: Logger) {
  const { metrics, watchdog } = telemetry;
  const checkpointer = new Checkpointer();
  const reader = new KafkaReader(
    kafka,
    queue,
    checkpointer,
    { ...readerOptions(config, config.kafka.groupId, fetch), explainCrash: (error) => explainKafkaError(error, kafkaFailureContext(config)) },
    logger,
    readerObserver(metrics, watchdog),
  );
  const lagMonitor = new LagMonitor(
    () => reader.admin,
    () => reader.assignment,
    (topic, partition) => reader.startOffset(topic, partition),
    { groupId: config.kafka.groupId, intervalMs: config.kafka.lagIntervalMs },
    logger,
    (lags) => {
      watchdog.beat("lag");
      for (const l of lags) metrics.setConsumerLag(l.topic, l.partition, l.lag);
    },
  );
  // Gauges that mirror internal state are read when Prometheus asks, not on a timer.
  metrics.beforeScrape(() => {
    metrics.setQueue(queue.outstanding, queue.outstandingBytes);
    for (const p of checkpointer.snapshot()) metrics.setPendingRecords(p.topic, p.partition, p.pending);
  });
  return { reader, lagMonitor };
}

/** Elasticsearch's reachability, probed on a timer for /readyz and the `elasticsearch_up` gauge. */
class ElasticsearchProbe {
  #state: { ok: boolean; reason?: string; health?: string } = { ok: false, reason: "Elasticsearch not probed yet" };
  readonly #timer: NodeJS.Timeout;
  readonly #es: Client;
  readonly #config: Config;
  readonly #metrics: TransferMetrics;

  constructor(es: Client, config: Config, metrics: TransferMetrics) {
    this.#es = es;
    this.#config = config;
    this.#metrics = metrics;
    this.#timer = setInterval(() => {
      void this.probe();
    }, ES_PROBE_MS);
  }

  get ok(): boolean {
    return this.#state.ok;
  }

  get reason(): string {
    return this.#state.reason ?? "Elasticsearch unreachable";
  }

  /** The last cluster health status seen, if any. */
  get health(): string | undefined {
    return this.#state.health;
  }

  async probe(): Promise<void> {
    const { requestTimeoutMs, nodes } = this.#config.elasticsearch;
    this.#state = await elasticsearchReachable(this.#es, Math.min(5_000, requestTimeoutMs), nodes);
    this.#metrics.setElasticsearchUp(this.#state.ok);
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

/** The HTTP endpoints: /metrics, /healthz (the loops turn), /readyz (joined and Elasticsearch reachable). */
async function startTelemetryServer(config: Config, telemetry: Telemetry, joined: () => boolean, esProbe: ElasticsearchProbe, logger: Logger, holds: PartitionHolds) {
  const server = new TelemetryServer({
    host: config.telemetry.metricsHost,
    port: config.telemetry.metricsPort,
    metrics: telemetry.metrics,
    health: () => telemetry.watchdog.check(),
    readiness: () => ({
      ...combineChecks([
        { name: "kafka", ok: joined, reason: "not a member of the consumer group (joining or rebalancing)" },
        { name: "elasticsearch", ok: () => esProbe.ok, reason: esProbe.reason },
      ]),
      notes: { ...heldNotes(holds), ...(esProbe.health === "red" ? { elasticsearch_health: "red" } : {}) },
    }),
    onError: (error) => {
      logger.warn({ err: describeError(error) }, "telemetry request failed");
    },
  });
  const { port } = await server.start();
  logger.info({ metricsPort: port, host: config.telemetry.metricsHost }, `metrics on http://${config.telemetry.metricsHost}:${String(port)}/metrics`);
  return { server, port };
}

/** What stopping closes, in order: stop fetching, drain, stop the sink, commit and leave, close the rest. */
interface Running {
  readonly config: Config;
  readonly logger: Logger;
  readonly queue: BoundedQueue<QueuedRecord>;
  readonly reader: KafkaReader;
  readonly lagMonitor: LagMonitor;
  readonly sink: SinkParts;
  readonly sinkAbort: AbortController;
  readonly esProbe: ElasticsearchProbe;
  readonly server: TelemetryServer;
  readonly holds: PartitionHolds;
}

/** How often the drain looks whether only records waiting for a schema are left. */
const HELD_DRAIN_POLL_MS = 100;

/**
 * Waits until every record is settled, or (with a schema gate) until the only records
 * left are those waiting for their schema: they would wait for the registry, not for
 * Elasticsearch, and are redelivered to whoever reads their partition next.
 */
async function drain(queue: BoundedQueue<QueuedRecord>, gate: { readonly held: number } | undefined, deadline: AbortSignal): Promise<void> {
  if (gate === undefined) {
    await queue.drained(deadline);
    return;
  }
  while (!deadline.aborted && queue.outstanding > gate.held) await sleep(HELD_DRAIN_POLL_MS, deadline);
}

/**
 * Stops within SHUTDOWN_TIMEOUT_MS (see compose/shutdown.ts): drains while the budget
 * allows, then stops the sink (in-flight bulk requests and dead-letter writes are
 * abandoned at once), commits what is settled and leaves the group, then closes the rest.
 * What is still unacknowledged is fetched again by whoever owns the partition next.
 * After a fatal error the workers no longer drain anything: commit what is done and leave.
 */
async function shutDown(running: Running, reason: string, fatal: Error | undefined): Promise<void> {
  const { config, logger, queue, reader, sink } = running;
  const budget = shutdownBudget(config.shutdown.drainTimeoutMs, Date.now());
  logger.info({ reason, outstanding: queue.outstanding, budgetMs: config.shutdown.drainTimeoutMs }, "stopping");
  reader.pauseForShutdown();
  // No probe may resume a held partition while stopping.
  running.holds.close();
  if (fatal === undefined) {
    const deadline = AbortSignal.timeout(Math.max(0, budget.drainUntil - Date.now()));
    await drain(queue, sink.schemas.gate, deadline);
    if (deadline.aborted) logger.warn({ outstanding: queue.outstanding }, "drain deadline reached; the rest will be redelivered");
    else if (queue.outstanding > 0) logger.info({ outstanding: queue.outstanding }, "records waiting for their schema are left to be redelivered");
  }
  running.sinkAbort.abort();
  running.esProbe.stop();
  await runStopSteps([
    { name: "bulk workers", run: () => sink.workers.stop() },
    { name: "final commit and group leave", run: () => reader.stop() },
    { name: "dead-letter producer", run: () => sink.deadLetters?.close() },
    { name: "schema registry", run: () => { sink.schemas.close(); return undefined; } },
    { name: "lag monitor", run: () => running.lagMonitor.stop() },
    { name: "telemetry server", run: () => running.server.close() },
    { name: "Elasticsearch client", run: () => sink.es.close() },
  ], budget.deadline, logger);
  logger.info({ reason }, "stopped");
}

/** Stop once (by request or on the first fatal error) and settle `finished` with how it ended. */
function lifecycle(running: Running): Pick<App, "stop" | "finished"> {
  let resolveFinished: (outcome: AppOutcome) => void = () => undefined;
  const finished = new Promise<AppOutcome>((resolve) => {
    resolveFinished = resolve;
  });
  let stopping: Promise<void> | undefined;
  let fatal: Error | undefined;
  const stop = (reason: string): Promise<void> => {
    stopping ??= shutDown(running, reason, fatal).then(() => {
      resolveFinished(fatal === undefined ? { kind: "stopped" } : { kind: "failed", error: fatal });
    });
    return stopping;
  };
  const failWith = (error: Error): void => {
    if (stopping) return;
    fatal = error;
    running.logger.error({ err: describeError(error) }, "fatal error; stopping");
    void stop("fatal error");
  };
  void running.sink.workers.fatal.then((error: TransferError) => {
    failWith(error);
  });
  running.reader.onFatal(failWith);
  return { stop, finished };
}

export async function startApp(config: Config, logger: Logger): Promise<App> {
  // TLS, credentials and ACLs first: a misconfiguration ends the start with one clear line.
  const facts = await preflight(config, logger);
  // Fetches per broker, the queue and the bulk bodies must fit the heap (issue 17).
  const memory = startMemoryPlan(config, facts.brokers, logger);
  const telemetry: Telemetry = {
    metrics: createMetrics({ version: VERSION }),
    watchdog: new LoopWatchdog({ staleAfterMs: Math.max(60_000, config.kafka.sessionTimeoutMs * 2) }),
  };

  // The Kafka client first: the consumer and the dead-letter producer share it.
  const kafka = composeKafka(config, logger);
  // Then the sink: the client, the decoder and the workers that drain the queue.
  const queue = new BoundedQueue<QueuedRecord>(config.queue, (item) => item.record.size);
  const sinkAbort = new AbortController();
  const holds = composeHolds(config, logger);
  const sink = composeSink(config, {
    holds,
    queue,
    kafka,
    observer: metricsObserver(telemetry.metrics),
    schemaObserver: schemaMetricsObserver(telemetry.metrics),
    logger,
    signal: sinkAbort.signal,
  });
  // Then the source.
  const { reader, lagMonitor } = composeSource(config, kafka, queue, memory.fetch, telemetry, logger);
  wireHolds(holds, reader);
  telemetry.metrics.beforeScrape(() => {
    telemetry.metrics.setHeldPartitions(heldPartitions(holds));
  });

  const esProbe = new ElasticsearchProbe(sink.es, config, telemetry.metrics);
  const { server, port } = await startTelemetryServer(config, telemetry, () => reader.joined, esProbe, logger, holds);
  await esProbe.probe();
  if (!esProbe.ok) logger.warn({ reason: esProbe.reason }, "Elasticsearch not reachable yet; records will wait in the queue");

  const { stop, finished } = lifecycle({ config, logger, queue, reader, lagMonitor, sink, sinkAbort, esProbe, server, holds });
  try {
    // Before anything is fetched: the first document must create its index under the template.
    await installConfiguredTemplates(config, sink.es, logger);
    await reader.start();
  } catch (error) {
    await stop("start failed");
    throw new TransferError(`could not start: ${describeError(error)}`, { retriable: true, cause: error });
  }
  lagMonitor.start();
  void lagMonitor.refresh();
  return { stop, finished, metricsPort: port };
}
