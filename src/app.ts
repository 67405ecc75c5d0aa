/**
 * Composition root: turns the configuration into components and wires them
 * sink -> queue -> source, so that nothing fetches before something can drain it.
 * Stopping runs in reverse: stop fetching, drain, commit, leave the group.
 */
import { createRequire } from "node:module";
import type { Logger } from "pino";
import type { Config } from "./config/schema.ts";
import { describeError, TransferError } from "./errors.ts";
import { composeKafka, kafkaFailureContext } from "./compose/kafka.ts";
import { preflight } from "./compose/preflight.ts";
import { readerOptions } from "./compose/reader.ts";
import { composeSink } from "./compose/sink.ts";
import { installConfiguredTemplates } from "./compose/templates.ts";
import { BoundedQueue } from "./pipeline/bounded-queue.ts";
import type { QueuedRecord } from "./pipeline/record.ts";
import { elasticsearchReachable } from "./sink/es-client.ts";
import { Checkpointer } from "./source/checkpointer.ts";
import { explainKafkaError } from "./source/kafka-diagnosis.ts";
import { KafkaReader } from "./source/kafka-reader.ts";
import { LagMonitor } from "./source/lag-monitor.ts";
import { TelemetryServer } from "./telemetry/http-server.ts";
import { LoopWatchdog } from "./telemetry/loop-watchdog.ts";
import { createMetrics } from "./telemetry/metrics.ts";
import { readerObserver } from "./telemetry/reader-observer.ts";
import { metricsObserver } from "./telemetry/sink-observer.ts";
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

export async function startApp(config: Config, logger: Logger): Promise<App> {
  // TLS, credentials and ACLs first: a misconfiguration ends the start with one clear line.
  await preflight(config, logger);
  const metrics = createMetrics({ version: VERSION });
  const watchdog = new LoopWatchdog({ staleAfterMs: Math.max(60_000, config.kafka.sessionTimeoutMs * 2) });

  // The Kafka client first: the consumer and the dead-letter producer share it.
  const kafka = composeKafka(config, logger);
  // Then the sink: the client, the decoder and the workers that drain the queue.
  const queue = new BoundedQueue<QueuedRecord>(config.queue, (item) => item.record.size);
  const sinkAbort = new AbortController();
  const { es, workers, deadLetters } = composeSink(config, { queue, kafka, observer: metricsObserver(metrics), logger, signal: sinkAbort.signal });

  // Then the source.
  const checkpointer = new Checkpointer();
  const reader = new KafkaReader(
    kafka,
    queue,
    checkpointer,
    { ...readerOptions(config, config.kafka.groupId), explainCrash: (error) => explainKafkaError(error, kafkaFailureContext(config)) },
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

  // Telemetry: gauges that mirror state, the Elasticsearch probe, the HTTP endpoints.
  let esReachable = { ok: false, reason: "Elasticsearch not probed yet" } as { ok: boolean; reason?: string };
  const probeElasticsearch = async (): Promise<void> => {
    esReachable = await elasticsearchReachable(es, Math.min(5_000, config.elasticsearch.requestTimeoutMs), config.elasticsearch.nodes);
    metrics.setElasticsearchUp(esReachable.ok);
  };
  // Gauges that mirror internal state are read when Prometheus asks, not on a timer.
  metrics.beforeScrape(() => {
    metrics.setQueue(queue.outstanding, queue.outstandingBytes);
    for (const p of checkpointer.snapshot()) metrics.setPendingRecords(p.topic, p.partition, p.pending);
  });
  const esTimer = setInterval(() => {
    void probeElasticsearch();
  }, ES_PROBE_MS);

  const server = new TelemetryServer({
    host: config.telemetry.metricsHost,
    port: config.telemetry.metricsPort,
    metrics,
    health: () => watchdog.check(),
    readiness: () =>
      combineChecks([
        { name: "kafka", ok: () => reader.joined, reason: "not a member of the consumer group (joining or rebalancing)" },
        { name: "elasticsearch", ok: () => esReachable.ok, reason: esReachable.reason ?? "Elasticsearch unreachable" },
      ]),
    onError: (error) => {
      logger.warn({ err: describeError(error) }, "telemetry request failed");
    },
  });
  const { port } = await server.start();
  logger.info({ metricsPort: port, host: config.telemetry.metricsHost }, `metrics on http://${config.telemetry.metricsHost}:${String(port)}/metrics`);
  await probeElasticsearch();
  if (!esReachable.ok) logger.warn({ reason: esReachable.reason }, "Elasticsearch not reachable yet; records will wait in the queue");

  let resolveFinished: (outcome: AppOutcome) => void = () => undefined;
  const finished = new Promise<AppOutcome>((resolve) => {
    resolveFinished = resolve;
  });

  let stopping: Promise<void> | undefined;
  let fatal: Error | undefined;
  const stop = (reason: string): Promise<void> => {
    stopping ??= (async () => {
      logger.info({ reason, outstanding: queue.outstanding }, "stopping");
      reader.pauseForShutdown();
      // Drain within the deadline; what is still unacknowledged then is simply
      // fetched again by whoever owns the partition next. After a fatal error the
      // workers no longer drain anything: commit what is done and leave.
      if (fatal === undefined) {
        const deadline = AbortSignal.timeout(config.shutdown.drainTimeoutMs);
        await queue.drained(deadline);
        if (deadline.aborted) logger.warn({ outstanding: queue.outstanding }, "drain deadline reached; the rest will be redelivered");
      }
      sinkAbort.abort();
      await workers.stop();
      await deadLetters?.close();
      await reader.stop();
      await lagMonitor.stop();
      clearInterval(esTimer);
      await server.close().catch(() => undefined);
      await es.close().catch(() => undefined);
      logger.info({ reason }, "stopped");
      resolveFinished(fatal === undefined ? { kind: "stopped" } : { kind: "failed", error: fatal });
    })();
    return stopping;
  };

  const failWith = (error: Error): void => {
    if (stopping) return;
    fatal = error;
    logger.error({ err: describeError(error) }, "fatal error; stopping");
    void stop("fatal error");
  };
  void workers.fatal.then((error: TransferError) => {
    failWith(error);
  });
  reader.onFatal(failWith);

  try {
    // Before anything is fetched: the first document must create its index under the template.
    await installConfiguredTemplates(config, es, logger);
    await reader.start();
  } catch (error) {
    await stop("start failed");
    throw new TransferError(`could not start: ${describeError(error)}`, { retriable: true, cause: error });
  }
  lagMonitor.start();
  void lagMonitor.refresh();
  return { stop, finished, metricsPort: port };
}
