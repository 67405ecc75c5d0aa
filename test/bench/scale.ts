/**
 * `make bench-scale`: the worker alone (no ceilings), as 1..N replicas of one consumer
 * group draining one backlog, and optionally over several topics. Reports the total
 * rate and each replica's cost (CPU seconds per 100,000 records, peak RSS, heap and
 * external memory), with the load average of the machine beside every run, because
 * on a shared machine wall-clock rates are only comparable within one run.
 *
 * Environment (besides KAFKA_BROKERS, ES_NODE):
 *   BENCH_RECORDS (100000)      records in the backlog, over all topics
 *   BENCH_SCALE_REPLICAS (1,2,3) replica counts, one run each, on the same backlog
 *   BENCH_SCALE_TOPICS (1)      topics; BENCH_PARTITIONS (6) partitions each
 *   BENCH_VARIANTS (json)       record shape (first variant only)
 *   BENCH_WORKER_ENV            settings on top of the worker's defaults (A=1;B=2)
 *   KES_BENCH_DIR               parent of the output directory
 *
 * Example, 3 topics of 24 partitions, one worker:
 *   BENCH_SCALE_TOPICS=3 BENCH_PARTITIONS=24 BENCH_SCALE_REPLICAS=1 make bench-scale
 */
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Client } from "@elastic/elasticsearch";
import { createElasticsearchClient } from "../../src/sink/es-client.ts";
import { sleep } from "../support/env.ts";
import { withAdmin } from "../support/kafka.ts";
import { workerDefaults } from "./defaults.ts";
import { cpuSeconds, memoryUse } from "./proc.ts";
import { chooseProducer, produceBacklog } from "./produce.ts";
import { fmt, progress } from "./progress.ts";
import { BENCH_PREFIX, commitLag, createIndex, createTopic, deleteGroups, deleteIndex, deleteLeftovers, deleteTopics, indexCount, settle } from "./servers.ts";
import { loadSettings } from "./settings.ts";
import { MeasuredWorker, workerEnv } from "./worker-run.ts";

interface ReplicaResult {
  readonly replica: number;
  readonly indexed: number;
  readonly cpuSeconds: number;
  readonly cpuSecondsPer100k: number;
  readonly peakRssMiB: number;
  readonly peakHeapUsedMiB: number;
  readonly peakExternalMiB: number;
  readonly idleRssMiB: number;
}

interface ScaleRun {
  readonly replicas: number;
  readonly records: number;
  readonly seconds: number;
  readonly recordsPerSecond: number;
  readonly loadAverageBefore: readonly number[];
  readonly loadAverageAfter: readonly number[];
  readonly perReplica: readonly ReplicaResult[];
  readonly documentsInIndices: number;
}

function intList(raw: string | undefined, fallback: number[]): number[] {
  if (raw === undefined || raw.trim() === "") return fallback;
  const values = raw.split(",").map((p) => Number(p.trim()));
  if (values.some((v) => !Number.isSafeInteger(v) || v < 1)) throw new Error(`not a list of positive integers: "${raw}"`);
  return values;
}

const mib = (bytes: number | undefined): number => (bytes ?? 0) / 2 ** 20;
const load = (): number[] => os.loadavg().map((l) => Math.round(l * 100) / 100);

/** Starts `replicas` workers in one group on `topics`, waits until `count` records are indexed in total. */
async function runReplicas(es: Client, topics: readonly string[], groupId: string, replicas: number, count: number, extraEnv: Record<string, string>, outputDir: string): Promise<ScaleRun> {
  const loadAverageBefore = load();
  const env = workerEnv(topics.join(","), groupId, extraEnv);
  const workers = Array.from({ length: replicas }, () => new MeasuredWorker(env));
  try {
    await Promise.all(workers.map((w) => w.ready()));
    const idleRss = workers.map((w) => mib(memoryUse(w.pid).rssBytes));
    const startedAt = Math.min(...workers.map((w) => w.assignedAt));
    const cpuAtStart = workers.map((w) => w.cpuAtAssign);
    let total = 0;
    let previous = 0;
    let lastMove = Date.now();
    while (total < count) {
      await sleep(1_000);
      const samples = await Promise.all(workers.map((w) => w.sample()));
      total = samples.reduce((sum, s) => sum + s.indexed, 0);
      if (total > previous) lastMove = Date.now();
      previous = total;
      progress.update(`[scale x${String(replicas)}] ${fmt(total)}/${fmt(count)} indexed  rss ${samples.map((s) => fmt(mib(s.rssBytes))).join("/")} MiB`);
      if (Date.now() - lastMove > 180_000) throw new Error(`[scale x${String(replicas)}] no progress for 180 s at ${fmt(total)}`);
    }
    const seconds = (Date.now() - startedAt) / 1000;
    const perReplica = workers.map((w, i): ReplicaResult => {
      const indexed = w.samples.at(-1)?.indexed ?? 0;
      const cpu = cpuSeconds(w.pid) - (cpuAtStart[i] ?? 0);
      return {
        replica: i + 1,
        indexed,
        cpuSeconds: cpu,
        cpuSecondsPer100k: indexed > 0 ? (cpu / indexed) * 100_000 : Number.NaN,
        peakRssMiB: mib(memoryUse(w.pid).peakRssBytes),
        peakHeapUsedMiB: Math.max(0, ...w.samples.map((s) => mib(s.heapUsedBytes))),
        peakExternalMiB: Math.max(0, ...w.samples.map((s) => mib(s.externalBytes))),
        idleRssMiB: idleRss[i] ?? Number.NaN,
      };
    });
    await waitForCommits(groupId, topics);
    for (const [i, w] of workers.entries()) await w.stop(path.join(outputDir, `worker-x${String(replicas)}-${String(i + 1)}.log`));
    let documentsInIndices = 0;
    for (const topic of topics) documentsInIndices += await indexCount(es, topic);
    return { replicas, records: count, seconds, recordsPerSecond: count / seconds, loadAverageBefore, loadAverageAfter: load(), perReplica, documentsInIndices };
  } finally {
    for (const w of workers) if (w.worker.child.exitCode === null) w.worker.kill("SIGKILL");
  }
}

async function waitForCommits(groupId: string, topics: readonly string[]): Promise<void> {
  await withAdmin(async (admin) => {
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      let lag = 0;
      for (const topic of topics) lag += await commitLag(admin, groupId, topic);
      if (lag === 0) return;
      await sleep(250);
    }
  });
}

function scaleMarkdown(runs: readonly ScaleRun[], heading: string): string {
  const lines = [`# ${heading}`, "", "| replicas | records | seconds | total rec/s | load avg before / after | replica | indexed | CPU s | CPU s/100k | idle RSS MiB | peak RSS MiB | peak heap MiB | peak external MiB |", "|--:|--:|--:|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|"];
  for (const run of runs) {
    for (const r of run.perReplica) {
      const head = r.replica === 1
        ? `| ${String(run.replicas)} | ${fmt(run.records)} | ${run.seconds.toFixed(1)} | ${fmt(run.recordsPerSecond)} | ${run.loadAverageBefore.join(" ")} / ${run.loadAverageAfter.join(" ")} `
        : "| | | | | ";
      lines.push(`${head}| ${String(r.replica)} | ${fmt(r.indexed)} | ${r.cpuSeconds.toFixed(1)} | ${r.cpuSecondsPer100k.toFixed(2)} | ${r.idleRssMiB.toFixed(0)} | ${r.peakRssMiB.toFixed(0)} | ${r.peakHeapUsedMiB.toFixed(0)} | ${r.peakExternalMiB.toFixed(0)} |`);
    }
  }
  return `${lines.join("\n")}\n`;
}

async function main(): Promise<void> {
  // kafkajs 2.2.4 trips Node's negative-timeout warning on every connection (its issue 1751): noise here.
  process.removeAllListeners("warning");
  const settings = loadSettings();
  const replicaCounts = intList(process.env.BENCH_SCALE_REPLICAS, [1, 2, 3]);
  const topicCount = intList(process.env.BENCH_SCALE_TOPICS, [1])[0] ?? 1;
  const variant = settings.variants[0] ?? "json";
  const outputDir = path.join(settings.outputRoot, `scale-${new Date().toISOString().replace(/\.\d+Z$/, "Z").replace(/:/g, "-")}`);
  mkdirSync(outputDir, { recursive: true });
  const es = createElasticsearchClient({ ...workerDefaults(settings.workerEnv).elasticsearch, nodes: [settings.esNode] });
  const runId = `${BENCH_PREFIX}${Date.now().toString(36)}`;
  const topics = Array.from({ length: topicCount }, (_, i) => `${runId}-${variant}-${String(i)}`);
  const groups: string[] = [];
  try {
    await deleteLeftovers(es);
    const perTopic = Math.ceil(settings.records / topicCount);
    for (const topic of topics) {
      await createTopic(topic, settings.partitions);
      await produceBacklog(chooseProducer(settings.producer), { brokers: settings.brokers, topic, partitions: settings.partitions, variant, count: perTopic, recordBytes: settings.recordBytes });
    }
    const total = perTopic * topicCount;
    progress.log(`[scale] ${fmt(total)} ${variant} records in ${String(topicCount)} topic(s) of ${String(settings.partitions)} partitions`);
    const runs: ScaleRun[] = [];
    for (const replicas of replicaCounts) {
      for (const topic of topics) await createIndex(es, topic);
      await settle();
      const groupId = `${runId}-x${String(replicas)}`;
      groups.push(groupId);
      const run = await runReplicas(es, topics, groupId, replicas, total, settings.workerEnv, outputDir);
      runs.push(run);
      progress.log(`[scale x${String(replicas)}] ${fmt(run.recordsPerSecond)} rec/s total; CPU s/100k ${run.perReplica.map((r) => r.cpuSecondsPer100k.toFixed(2)).join(", ")}; peak RSS ${run.perReplica.map((r) => r.peakRssMiB.toFixed(0)).join(", ")} MiB; load ${run.loadAverageBefore.join(" ")}`);
      if (run.documentsInIndices !== total) progress.log(`[scale x${String(replicas)}] WARNING: ${fmt(run.documentsInIndices)} documents, expected ${fmt(total)}`);
      for (const topic of topics) await deleteIndex(es, topic);
    }
    const heading = `bench-scale: ${fmt(total)} ${variant} records, ${String(topicCount)} topic(s) x ${String(settings.partitions)} partitions, worker env ${JSON.stringify(settings.workerEnv)}`;
    writeFileSync(path.join(outputDir, "scale.json"), `${JSON.stringify({ heading, runs }, null, 2)}\n`);
    writeFileSync(path.join(outputDir, "scale.md"), scaleMarkdown(runs, heading));
    progress.log(`[scale] report in ${path.join(outputDir, "scale.md")}`);
  } finally {
    for (const topic of topics) await deleteIndex(es, topic).catch(() => undefined);
    await deleteTopics(topics).catch(() => undefined);
    await deleteGroups(groups).catch(() => undefined);
    await es.close();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    progress.log(`bench-scale: FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
