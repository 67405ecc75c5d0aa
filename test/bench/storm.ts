/**
 * `make bench-storm`: adaptive concurrency under a 429 storm. The worker drains a
 * backlog through the es-fault-proxy (test/support/es-fault-proxy.ts) in front of the
 * real Elasticsearch: first a quiet stretch (does the limit reach bulk.workers without
 * tuning?), then a storm (half the bulk requests answered 429, a third of the items of
 * the others rejected 429), then quiet again. Run once with the adaptive limit and
 * once with a fixed one; every second it records the limit, the requests in flight,
 * the bulk requests reaching the proxy and the documents indexed.
 *
 * Environment: BENCH_RECORDS (100000), BENCH_STORM_WORKERS (4: the ceiling, bulk.workers),
 * BENCH_STORM_QUIET_S (20), BENCH_STORM_S (20), KES_FAULT_PROXY_PORT (ES port + 50),
 * KES_BENCH_DIR.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Client } from "@elastic/elasticsearch";
import { createElasticsearchClient } from "../../src/sink/es-client.ts";
import { sleep } from "../support/env.ts";
import { faultProxyPort, startEsFaultProxy, type EsFaultProxy } from "../support/es-fault-proxy.ts";
import { metricValues } from "../support/worker.ts";
import { workerDefaults } from "./defaults.ts";
import { chooseProducer, produceBacklog } from "./produce.ts";
import { fmt, progress } from "./progress.ts";
import { BENCH_PREFIX, createIndex, createTopic, deleteGroups, deleteIndex, deleteLeftovers, deleteTopics, settle } from "./servers.ts";
import { loadSettings } from "./settings.ts";
import { MeasuredWorker, workerEnv } from "./worker-run.ts";

type Phase = "quiet" | "storm" | "after";

interface StormSample {
  readonly t: number;
  readonly phase: Phase;
  readonly limit: number;
  readonly inFlight: number;
  readonly indexed: number;
  /** Bulk requests that reached the proxy since the previous sample, per second. */
  readonly proxyRequestsPerSecond: number;
  readonly bulkSecondsSum: number;
  readonly bulkCount: number;
  /** The worker's V8 heap in use (MiB). */
  readonly heapMiB: number;
}

interface PhaseSummary {
  readonly phase: Phase;
  readonly seconds: number;
  readonly meanLimit: number;
  readonly maxInFlight: number;
  readonly indexedPerSecond: number;
  readonly proxyRequestsPerSecond: number;
  readonly meanBulkSeconds: number;
  readonly peakHeapMiB: number;
}

const sum = (text: string, name: string): number => metricValues(text, name).reduce((a, v) => a + v.value, 0);

async function stormRun(label: string, es: Client, proxy: EsFaultProxy, topic: string, count: number, env: Record<string, string>, timing: { quietMs: number; stormMs: number }): Promise<StormSample[]> {
  await createIndex(es, topic);
  const worker = new MeasuredWorker(workerEnv(topic, `${topic}-${label}`, { ...env, ES_NODE: proxy.url }));
  const samples: StormSample[] = [];
  try {
    await worker.ready();
    proxy.schedule([{ durationMs: timing.quietMs }, { durationMs: timing.stormMs, requestStatus: 429, requestRatio: 0.5, itemRejectRatio: 0.33 }]);
    const started = Date.now();
    let lastProxy = proxy.stats.bulkRequests;
    let indexed = 0;
    while (indexed < count && Date.now() - started < timing.quietMs + timing.stormMs + 300_000) {
      await sleep(1_000);
      const text = await scrapeOrExplain(worker);
      if (text === undefined) continue;
      const elapsed = Date.now() - started;
      indexed = sum(text, "kafka_es_transfer_records_indexed_total");
      const phase: Phase = elapsed < timing.quietMs ? "quiet" : elapsed < timing.quietMs + timing.stormMs ? "storm" : "after";
      const previousT = samples.at(-1)?.t ?? 0;
      samples.push({
        t: elapsed / 1000,
        phase,
        limit: sum(text, "kafka_es_transfer_bulk_concurrency_limit"),
        inFlight: sum(text, "kafka_es_transfer_bulk_in_flight"),
        indexed,
        proxyRequestsPerSecond: (proxy.stats.bulkRequests - lastProxy) / Math.max(0.001, elapsed / 1000 - previousT),
        bulkSecondsSum: sum(text, "kafka_es_transfer_bulk_request_duration_seconds_sum"),
        bulkCount: sum(text, "kafka_es_transfer_bulk_request_duration_seconds_count"),
        heapMiB: sum(text, "nodejs_heap_size_used_bytes") / 2 ** 20,
      });
      lastProxy = proxy.stats.bulkRequests;
      progress.update(`[storm ${label}] ${phase} ${fmt(indexed)}/${fmt(count)} limit ${String(samples.at(-1)?.limit)} in flight ${String(samples.at(-1)?.inFlight)}`);
    }
    await worker.stop(path.join(process.env.KES_STORM_OUT ?? os.tmpdir(), `worker-storm-${label}.log`));
  } finally {
    if (worker.worker.child.exitCode === null) worker.worker.kill("SIGKILL");
    proxy.schedule([]);
    await deleteIndex(es, topic);
  }
  return samples;
}

/** A scrape, undefined after a transient failure; throws with the worker's last words if it died. */
async function scrapeOrExplain(worker: MeasuredWorker): Promise<string | undefined> {
  try {
    return await worker.scrape();
  } catch (error) {
    const child = worker.worker.child;
    if (child.exitCode === null && child.signalCode === null) return undefined;
    const last = [...worker.worker.logs.slice(-5).map((l) => JSON.stringify(l)), ...worker.worker.stderr.slice(-60)].join("\n");
    throw new Error(`the worker died (exit ${String(child.exitCode)}, signal ${String(child.signalCode)}): ${last}`, { cause: error });
  }
}

function summarise(samples: readonly StormSample[]): PhaseSummary[] {
  const out: PhaseSummary[] = [];
  for (const phase of ["quiet", "storm", "after"] as const) {
    const inPhase = samples.filter((s) => s.phase === phase);
    const first = inPhase[0];
    const last = inPhase.at(-1);
    if (first === undefined || last === undefined) continue;
    const before = samples[samples.indexOf(first) - 1] ?? { t: 0, indexed: 0, bulkSecondsSum: 0, bulkCount: 0 };
    const seconds = last.t - before.t;
    const requests = last.bulkCount - before.bulkCount;
    out.push({
      phase,
      seconds,
      meanLimit: inPhase.reduce((a, s) => a + s.limit, 0) / inPhase.length,
      maxInFlight: Math.max(...inPhase.map((s) => s.inFlight)),
      indexedPerSecond: (last.indexed - before.indexed) / seconds,
      proxyRequestsPerSecond: inPhase.reduce((a, s) => a + s.proxyRequestsPerSecond, 0) / inPhase.length,
      meanBulkSeconds: requests > 0 ? (last.bulkSecondsSum - before.bulkSecondsSum) / requests : Number.NaN,
      peakHeapMiB: Math.max(...inPhase.map((s) => s.heapMiB)),
    });
  }
  return out;
}

function markdown(runs: Record<string, StormSample[]>, heading: string): string {
  const lines = [`# ${heading}`, "", "| run | phase | seconds | mean limit | max in flight | indexed/s | bulk requests/s at ES | mean bulk s | peak heap MiB |", "|---|---|--:|--:|--:|--:|--:|--:|--:|"];
  for (const [label, samples] of Object.entries(runs)) {
    for (const p of summarise(samples)) {
      lines.push(`| ${label} | ${p.phase} | ${p.seconds.toFixed(0)} | ${p.meanLimit.toFixed(2)} | ${String(p.maxInFlight)} | ${fmt(p.indexedPerSecond)} | ${p.proxyRequestsPerSecond.toFixed(1)} | ${p.meanBulkSeconds.toFixed(3)} | ${p.peakHeapMiB.toFixed(0)} |`);
    }
  }
  lines.push("", "Per second (t, phase, limit, in flight, indexed, bulk requests/s at ES):", "");
  for (const [label, samples] of Object.entries(runs)) {
    lines.push(`${label}: ${samples.map((s) => `${s.t.toFixed(0)}${s.phase[0] ?? ""}:${String(s.limit)}/${String(s.inFlight)}/${fmt(s.indexed)}/${s.proxyRequestsPerSecond.toFixed(0)}`).join(" ")}`, "");
  }
  return `${lines.join("\n")}\n`;
}

async function main(): Promise<void> {
  process.removeAllListeners("warning");
  const settings = loadSettings();
  const workers = process.env.BENCH_STORM_WORKERS ?? "4";
  const timing = { quietMs: Number(process.env.BENCH_STORM_QUIET_S ?? "20") * 1000, stormMs: Number(process.env.BENCH_STORM_S ?? "20") * 1000 };
  const outputDir = path.join(settings.outputRoot, `storm-${new Date().toISOString().replace(/\.\d+Z$/, "Z").replace(/:/g, "-")}`);
  mkdirSync(outputDir, { recursive: true });
  process.env.KES_STORM_OUT = outputDir;
  const es = createElasticsearchClient({ ...workerDefaults(settings.workerEnv).elasticsearch, nodes: [settings.esNode] });
  const proxy = await startEsFaultProxy({ target: settings.esNode, port: faultProxyPort(settings.esNode) });
  const topic = `${BENCH_PREFIX}${Date.now().toString(36)}-storm`;
  try {
    await deleteLeftovers(es);
    await createTopic(topic, settings.partitions);
    await produceBacklog(chooseProducer(settings.producer), { brokers: settings.brokers, topic, partitions: settings.partitions, variant: "json", count: settings.records, recordBytes: settings.recordBytes });
    const runs: Record<string, StormSample[]> = {};
    for (const [label, adaptive] of [["adaptive", "true"], ["fixed", "false"]] as const) {
      await settle();
      const load = os.loadavg().map((l) => l.toFixed(2)).join(" ");
      const env = { ...settings.workerEnv, BULK_WORKERS: workers, BULK_ADAPTIVE_CONCURRENCY: adaptive };
      runs[`${label} (load ${load})`] = await stormRun(label, es, proxy, topic, settings.records, env, timing);
    }
    const heading = `bench-storm: ${fmt(settings.records)} json records, BULK_WORKERS=${workers}, ${String(timing.quietMs / 1000)} s quiet, ${String(timing.stormMs / 1000)} s of 429s (half the requests, a third of the items of the rest), then quiet`;
    writeFileSync(path.join(outputDir, "storm.json"), `${JSON.stringify({ heading, runs }, null, 2)}\n`);
    writeFileSync(path.join(outputDir, "storm.md"), markdown(runs, heading));
    progress.log(`[storm] report in ${path.join(outputDir, "storm.md")}`);
  } finally {
    await proxy.close();
    await deleteTopics([topic]).catch(() => undefined);
    await deleteGroups([`${topic}-adaptive`, `${topic}-fixed`]).catch(() => undefined);
    await es.close();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    progress.log(`bench-storm: FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
