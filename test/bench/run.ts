/**
 * `make bench`: on the local servers, per variant, produce a backlog, then measure the
 * Kafka ceiling, the Elasticsearch ceiling, the worker, the naive baseline and the
 * latency at half rate; write report.md, report.json and a chart to
 * ${KES_BENCH_DIR:-~/.cache/kafka-es-transfer/bench}/<timestamp>/.
 *
 * Environment: BENCH_RECORDS (1000000), BENCH_VARIANTS (json,text), BENCH_NAIVE_RECORDS
 * (20000), BENCH_LATENCY_SECONDS (60, 0 = skip), BENCH_PRODUCER (auto|kcat|kafkajs),
 * BENCH_PROFILE=1 (profile the worker runs), BENCH_KEEP=1 (keep topics and indices).
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Client } from "@elastic/elasticsearch";
import { createElasticsearchClient } from "../../src/sink/es-client.ts";
import { ROOT } from "../support/env.ts";
import { WORKER_NODE_FLAGS } from "../support/worker.ts";
import { workerDefaults } from "./defaults.ts";
import { esCeiling } from "./es-ceiling.ts";
import { kafkaCeiling } from "./kafka-ceiling.ts";
import { latencyRun, latencyTailLine, type LatencyResult } from "./latency.ts";
import { naiveBaseline } from "./naive.ts";
import { machineInfo, serverPids } from "./proc.ts";
import { chooseProducer, kcatVersion, produceBacklog, type ProducerKind } from "./produce.ts";
import { summariseProfile, type ProfileSummary } from "./profile.ts";
import { fmt, progress } from "./progress.ts";
import { writePipelineCharts, writeWorkerChart } from "./render.ts";
import { applyPinning, describePinning, planPinning, type AppliedPinning } from "./pinning.ts";
import { checkTargets, ratio, targetLines, reportJson, reportMarkdown, type BenchReport, type VariantResult, type Versions } from "./report.ts";
import {
  BENCH_PREFIX,
  createIndex,
  createTopic,
  deleteGroups,
  deleteIndex,
  deleteLeftovers,
  deleteTopics,
  indexCount,
  settle,
  topicRecords,
} from "./servers.ts";
import { decodeCost } from "./decode-cost.ts";
import { codecOf, loadSettings, type BenchSettings, type Variant } from "./settings.ts";
import { runWorkerBacklog } from "./worker-run.ts";
import { BENCH_AVRO_SCHEMA, registerBenchAvro } from "./avro.ts";
import { compileAvro } from "../../src/pipeline/schemas/avro.ts";
import { REGISTRY_URL } from "../support/env.ts";

/** The naive baseline's decoding of an Avro value: the same reader the worker uses, record by record. */
function naiveAvroDocument(): (value: Buffer) => unknown {
  const reader = compileAvro({ schemaType: "AVRO", schema: JSON.stringify(BENCH_AVRO_SCHEMA), references: [] });
  return (value) => reader.read(value);
}

/** kafkajs 2.2.4 trips Node's negative-timeout warning on every connection (its issue 1751): noise here. */
function quietKnownWarnings(): void {
  process.removeAllListeners("warning");
  process.on("warning", (warning) => {
    if (warning.name !== "TimeoutNegativeWarning") process.stderr.write(`${warning.name}: ${warning.message}\n`);
  });
}

function packageVersion(name: string): string {
  try {
    const file = path.join(ROOT, "node_modules", name, "package.json");
    return (JSON.parse(readFileSync(file, "utf8")) as { version?: string }).version ?? "?";
  } catch {
    return "?";
  }
}

async function versions(es: Client): Promise<Versions> {
  const status = spawnSync("bash", [path.join(ROOT, "test/infra/services.sh"), "status"], { encoding: "utf8" });
  const kafka = /Apache Kafka [^,)]+/.exec(`${status.stdout}${status.stderr}`)?.[0] ?? "Apache Kafka (version unknown)";
  const nodes = await es.nodes.info({ node_id: "_local", metric: "jvm" });
  const node = Object.values(nodes.nodes)[0];
  const rsvg = spawnSync("rsvg-convert", ["--version"], { encoding: "utf8" });
  return {
    worker: (JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { version: string }).version,
    node: process.version,
    kafkajs: packageVersion("kafkajs"),
    elasticsearchClient: packageVersion("@elastic/elasticsearch"),
    kafka,
    elasticsearch: node === undefined ? "?" : `Elasticsearch ${node.version}`,
    java: node?.jvm?.version ?? "?",
    kcat: kcatVersion(),
    rsvgConvert: rsvg.error === undefined ? rsvg.stdout.trim() : undefined,
  };
}

async function settled(after: string): Promise<void> {
  const { waitedMs, busyShare } = await settle();
  if (busyShare > 0.15) progress.log(`[settle] after ${after}: machine still ${(busyShare * 100).toFixed(0)} % busy after ${fmt(waitedMs / 1000)} s; going on`);
}

interface Cleanup {
  readonly topics: string[];
  readonly groups: string[];
  readonly indices: string[];
}

async function benchVariant(
  variant: Variant,
  settings: BenchSettings,
  es: Client,
  producer: ProducerKind,
  runId: string,
  outputDir: string,
  cleanup: Cleanup,
  profiles: ProfileSummary[],
): Promise<VariantResult> {
  const defaults = workerDefaults(settings.workerEnv);
  // CPU use of the servers and of the bench itself is reported per phase.
  const pids = { ...serverPids(ROOT), bench: process.pid };
  const topic = `${runId}-${variant}`;
  const n = settings.records;
  const tag = (phase: string): string => `[${phase} ${variant}]`;
  // avro: binary values (the kafkajs producer), the schema registered first, the worker told the format.
  const kind: ProducerKind = chooseProducer(producer, variant);
  const workerEnv = variant === "avro" ? { ...settings.workerEnv, VALUE_FORMAT: "avro", SCHEMA_REGISTRY_URL: REGISTRY_URL } : settings.workerEnv;
  if (variant === "avro") progress.log(`${tag("produce")} Avro schema id ${String(await registerBenchAvro(REGISTRY_URL, `${topic}-value`))} at ${REGISTRY_URL}`);

  // 1. Data.
  progress.log(`${tag("produce")} ${fmt(n)} records into ${topic} (${String(settings.partitions)} partitions) with ${producer}`);
  await createTopic(topic, settings.partitions);
  cleanup.topics.push(topic);
  const produced = await produceBacklog(kind, {
    brokers: settings.brokers, topic, partitions: settings.partitions, variant, count: n, recordBytes: settings.recordBytes,
  });
  const inTopic = await topicRecords(topic);
  if (inTopic !== n) throw new Error(`${tag("produce")} the topic holds ${fmt(inTopic)} records, expected ${fmt(n)}`);
  progress.log(`${tag("produce")} ${fmt(n)} records, ${fmt(produced.bytes / 2 ** 20)} MiB in ${produced.seconds.toFixed(1)} s (${fmt(produced.recordsPerSecond)} rec/s)`);
  await settled("producing");

  // 2. Kafka ceiling.
  const kafkaGroup = `${topic}-kafka-ceiling`;
  cleanup.groups.push(kafkaGroup);
  const kafka = await kafkaCeiling({
    brokers: settings.brokers, topic, groupId: kafkaGroup, count: n, label: tag("kafka-ceiling"), shape: defaults.kafka, timeoutMs: 30 * 60_000, pids,
  });
  progress.log(`${tag("kafka-ceiling")} ${fmt(kafka.recordsPerSecond)} rec/s (${kafka.seconds.toFixed(1)} s)`);
  await settled("the Kafka ceiling");

  // 3. Elasticsearch ceiling.
  const ceilingIndex = `${topic}-es-ceiling`;
  cleanup.indices.push(ceilingIndex);
  await createIndex(es, ceilingIndex);
  const shape = { ...defaults.bulk, requestTimeoutMs: defaults.elasticsearch.requestTimeoutMs };
  const ceiling = await esCeiling(es, { variant, index: ceilingIndex, count: n, recordBytes: settings.recordBytes, partitions: settings.partitions, shape, pids });
  const ceilingDocs = await indexCount(es, ceilingIndex);
  if (ceilingDocs !== n) throw new Error(`${tag("es-ceiling")} index holds ${fmt(ceilingDocs)} documents, expected ${fmt(n)}`);
  progress.log(`${tag("es-ceiling")} ${fmt(ceiling.recordsPerSecond)} rec/s (${ceiling.seconds.toFixed(1)} s, ${fmt(ceiling.requests)} requests)`);
  await deleteIndex(es, ceilingIndex);
  await settled("the Elasticsearch ceiling");

  // 4. The worker.
  const workerGroup = `${topic}-worker`;
  cleanup.groups.push(workerGroup);
  cleanup.indices.push(topic);
  const profileDir = settings.profile ? path.join(outputDir, `profile-${variant}`) : undefined;
  const worker = await runWorkerBacklog({
    es, topic, groupId: workerGroup, count: n, label: tag("worker"), logFile: path.join(outputDir, `worker-${variant}.log`), profileDir,
    pids, extraEnv: workerEnv,
  });
  progress.log(
    `${tag("worker")} ${fmt(worker.recordsPerSecond)} rec/s (${worker.seconds.toFixed(1)} s), CPU ${worker.cpuSecondsPer100k.toFixed(2)} s/100k, ` +
      `peak RSS ${fmt(worker.peakRssBytes / 2 ** 20)} MiB, ${fmt(worker.documentsInIndex)} documents, exit ${String(worker.exitCode)}`,
  );
  if (worker.documentsInIndex !== n) progress.log(`${tag("worker")} WARNING: ${fmt(worker.documentsInIndex)} documents in the index, expected ${fmt(n)}`);
  if (worker.profile !== undefined) profiles.push(summariseProfile(worker.profile));
  await deleteIndex(es, topic);
  await settled("the worker");

  // 5. Naive baseline.
  const naiveGroup = `${topic}-naive`;
  const naiveIndex = `${topic}-naive`;
  cleanup.groups.push(naiveGroup);
  cleanup.indices.push(naiveIndex);
  const naive = await naiveBaseline({
    brokers: settings.brokers, esNode: settings.esNode, topic, groupId: naiveGroup, index: naiveIndex, count: settings.naiveRecords,
    label: tag("naive"), timeoutMs: 60 * 60_000,
    ...(variant === "avro" ? { toDocument: naiveAvroDocument() } : {}),
  });
  progress.log(`${tag("naive")} ${fmt(naive.recordsPerSecond)} rec/s over ${fmt(naive.records)} records`);
  await deleteIndex(es, naiveIndex);
  await settled("the naive baseline");

  // 6. Latency at half the worker's rate.
  let latency: LatencyResult | undefined;
  if (settings.latencySeconds > 0) {
    const latTopic = `${topic}-latency`;
    const latGroup = `${latTopic}-worker`;
    cleanup.topics.push(latTopic);
    cleanup.groups.push(latGroup);
    cleanup.indices.push(latTopic);
    const rate = Math.max(1, Math.round(worker.recordsPerSecond / 2));
    progress.log(`${tag("latency")} ${String(settings.latencySeconds)} s at ${fmt(rate)} rec/s (half the worker's rate)`);
    latency = await latencyRun({
      es, producer: kind, brokers: settings.brokers, topic: latTopic, groupId: latGroup, partitions: settings.partitions, variant,
      recordBytes: settings.recordBytes, rate, seconds: settings.latencySeconds, label: tag("latency"),
      logFile: path.join(outputDir, `worker-${variant}-latency.log`), pids, extraEnv: workerEnv,
    });
    const p = (q: number): string => {
      const found = latency?.quantiles.find((x) => x.q === q);
      return found === undefined ? "n/a" : `${found.aboveLastBound ? ">" : ""}${found.seconds.toFixed(3)} s`;
    };
    progress.log(`${tag("latency")} produced ${fmt(latency.producedRate)} rec/s; p50 ${p(0.5)}, p90 ${p(0.9)}, p99 ${p(0.99)}, p99.9 ${p(0.999)}`);
    progress.log(`${tag("latency")} ${latencyTailLine(latency.tail)}`);
    await deleteIndex(es, latTopic);
    await deleteTopics([latTopic]);
    await settled("the latency run");
  }

  const codec = codecOf(variant);
  const decode = codec === "none" ? undefined : await decodeCost(codec, settings.recordBytes);
  if (decode !== undefined) progress.log(`${tag("decode")} ${codec}: ${decode.microsPerRecord.toFixed(2)} µs/record, ${decode.mibPerSecond.toFixed(0)} MiB/s`);

  return {
    variant,
    topic,
    records: n,
    decode,
    averageValueBytes: produced.bytes / n,
    produce: produced,
    kafkaCeiling: kafka,
    esCeiling: ceiling,
    worker,
    naive,
    latency,
    ratios: {
      workerToEsCeiling: ratio(worker.recordsPerSecond, ceiling.recordsPerSecond),
      workerToKafkaCeiling: ratio(worker.recordsPerSecond, kafka.recordsPerSecond),
      workerToNaive: ratio(worker.recordsPerSecond, naive.recordsPerSecond),
    },
  };
}

async function main(): Promise<void> {
  quietKnownWarnings();
  const settings = loadSettings();
  const startedAt = new Date();
  const outputDir = path.join(settings.outputRoot, startedAt.toISOString().replace(/\.\d+Z$/, "Z").replace(/:/g, "-"));
  mkdirSync(outputDir, { recursive: true });
  progress.log(`bench: ${fmt(settings.records)} records per variant (${settings.variants.join(", ")}); output in ${outputDir}`);

  const defaults = workerDefaults(settings.workerEnv);
  const es = createElasticsearchClient({ ...defaults.elasticsearch, nodes: [settings.esNode] });
  const cleanup: Cleanup = { topics: [], groups: [], indices: [] };
  let pinned: AppliedPinning | undefined;
  try {
    await es.cluster.health({ wait_for_status: "yellow", timeout: "60s" });
    const left = await deleteLeftovers(es);
    if (left.indices + left.topics > 0) progress.log(`bench: removed ${String(left.indices)} indices and ${String(left.topics)} topics left by an interrupted run (${BENCH_PREFIX}*)`);
    const producer = chooseProducer(settings.producer);
    const machine = machineInfo();
    pinned = settings.pin ? applyPinning(planPinning(machine.cores, settings.pinEsCores), { ...serverPids(ROOT), bench: process.pid }) : undefined;
    progress.log(`bench: ${describePinning(pinned?.plan)}`);
    const versionInfo = await versions(es);
    progress.log(`bench: ${String(machine.cores)} cores, ${versionInfo.kafka}, ${versionInfo.elasticsearch}, Node.js ${versionInfo.node}`);

    const runId = `${BENCH_PREFIX}${Date.now().toString(36)}`;
    const profiles: ProfileSummary[] = [];
    const variants: VariantResult[] = [];
    for (const variant of settings.variants) {
      variants.push(await benchVariant(variant, settings, es, producer, runId, outputDir, cleanup, profiles));
    }

    const notes: string[] = [];
    if (producer === "kafkajs") notes.push("kcat was not installed: the backlog was produced with kafkajs (slower; it does not change the measured phases).");
    if (settings.profile) notes.push("BENCH_PROFILE=1: the worker ran under `--cpu-prof`, which costs some throughput and CPU; compare with an unprofiled run.");
    if (settings.records < 1_000_000) notes.push(`A quick run (${fmt(settings.records)} records): start-up and the first seconds weigh more than in the 1,000,000-record run.`);
    const chartFiles = writeWorkerChart({ variants, settings }, outputDir);
    if (chartFiles.note !== undefined) notes.push(chartFiles.note);
    const pinning = pinned === undefined ? undefined : { description: describePinning(pinned.plan), esCores: pinned.plan.esCoreCount, allowed: pinned.allowed };
    const pipelineCharts = writePipelineCharts({ variants, pinning, machine }, outputDir);

    const report: BenchReport = {
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      outputDir,
      settings,
      machine,
      versions: versionInfo,
      workerDefaults: {
        bulk: defaults.bulk,
        queue: defaults.queue,
        kafka: {
          partitionsConsumedConcurrently: defaults.kafka.partitionsConsumedConcurrently,
          maxBytesPerPartition: defaults.kafka.maxBytesPerPartition,
          maxBytes: defaults.kafka.maxBytes,
          maxWaitTimeMs: defaults.kafka.maxWaitTimeMs,
          commitIntervalMs: defaults.kafka.commitIntervalMs,
          lagIntervalMs: defaults.kafka.lagIntervalMs,
        },
      },
      variants,
      workerNodeFlags: WORKER_NODE_FLAGS,
      targets: checkTargets(variants, settings, machine.cores),
      chart: chartFiles,
      pipelineCharts,
      pinning,
      profiles,
      notes,
    };
    writeFileSync(path.join(outputDir, "report.json"), reportJson(report));
    writeFileSync(path.join(outputDir, "report.md"), reportMarkdown(report));
    for (const line of targetLines(report.targets)) progress.log(`[target] ${line}`);
    progress.log(`bench: done; report in ${path.join(outputDir, "report.md")}`);
  } finally {
    pinned?.restore();
    if (!settings.keep) {
      for (const index of cleanup.indices) await deleteIndex(es, index).catch(() => undefined);
      await deleteTopics(cleanup.topics).catch(() => undefined);
      await deleteGroups(cleanup.groups).catch(() => undefined);
    }
    await es.close();
  }
}

main().then(
  () => {
    // kafkajs may leave a socket timer behind; the work is done.
    process.exit(0);
  },
  (error: unknown) => {
    progress.log(`bench: FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
