/**
 * The worker measured as deployed: a separate `node dist/main.js start` process (make bench builds it) with
 * default settings, from a fresh consumer group into a fresh index. CPU time and peak
 * RSS come from /proc; progress, throughput and lag from its own /metrics, sampled
 * every second (the chart's data).
 */
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Client } from "@elastic/elasticsearch";
import { sleep } from "../support/env.ts";
import { withAdmin } from "../support/kafka.ts";
import { metricValues, WORKER_NODE_FLAGS, WorkerProcess } from "../support/worker.ts";
import { parseGcTrace, plannedHeapOf, type GcTrace } from "../support/gc-trace.ts";
import { CpuMeter, cpuSeconds, memoryUse, type CpuShares } from "./proc.ts";
import { fmt, progress } from "./progress.ts";
import { commitLag, createIndex, indexCount } from "./servers.ts";

const METRIC = {
  indexed: "kafka_es_transfer_records_indexed_total",
  lag: "kafka_es_transfer_consumer_lag",
  queue: "kafka_es_transfer_queue_records",
  inFlight: "kafka_es_transfer_bulk_in_flight",
  limit: "kafka_es_transfer_bulk_concurrency_limit",
  paused: "kafka_es_transfer_paused_partitions",
  heapUsed: "nodejs_heap_size_used_bytes",
  heapTotal: "nodejs_heap_size_total_bytes",
  external: "nodejs_external_memory_bytes",
} as const;

export interface Sample {
  /** Seconds since the worker got its partitions. */
  readonly t: number;
  readonly indexed: number;
  /** Records/s indexed since the previous sample. */
  readonly rate: number;
  /** Sum of the consumer lag gauge over partitions (refreshed by the worker every 5 s by default). */
  readonly lag: number | undefined;
  readonly queue: number | undefined;
  readonly cpuSeconds: number;
  readonly rssBytes: number;
  /** V8 heap in use and reserved, and memory outside it (Buffers): where the RSS goes. */
  readonly heapUsedBytes: number | undefined;
  readonly heapTotalBytes: number | undefined;
  readonly externalBytes: number | undefined;
  /** Bulk requests in flight and the adaptive limit at the scrape; partitions paused for back-pressure. */
  readonly inFlight?: number | undefined;
  readonly limit?: number | undefined;
  readonly paused?: number | undefined;
  /** Cores Elasticsearch used since the previous sample (undefined without its pid). */
  readonly esCores?: number | undefined;
}

/** Where the worker's memory is at one moment: RSS from /proc, the rest from its /metrics. */
export interface MemoryFigures {
  readonly rssBytes: number;
  readonly heapUsedBytes: number | undefined;
  readonly heapTotalBytes: number | undefined;
  readonly externalBytes: number | undefined;
}

const sum = (scrape: string, name: string): number | undefined => {
  const values = metricValues(scrape, name);
  return values.length === 0 ? undefined : values.reduce((a, v) => a + v.value, 0);
};

/** A spawned worker and the one-second sampling of it. */
export class MeasuredWorker {
  readonly worker: WorkerProcess;
  readonly samples: Sample[] = [];
  readonly spawnedAt = Date.now();
  assignedAt = 0;
  #cpuAtAssign = 0;
  #meter: CpuMeter | undefined;
  readonly #pids: Record<string, number>;
  #esCpu: { at: number; seconds: number } | undefined;

  /** `pids`: other processes whose CPU use is reported alongside the worker's; `entry`, `nodeFlags`: another build or heap setting (A/B). */
  constructor(env: Record<string, string>, pids: Record<string, number> = {}, entry?: string, nodeFlags?: readonly string[]) {
    this.worker = new WorkerProcess(env, ["start"], "worker", entry, nodeFlags);
    this.#pids = pids;
  }

  get pid(): number {
    const pid = this.worker.child.pid;
    if (pid === undefined) throw new Error("the worker process has no pid");
    return pid;
  }

  /** Waits for the partition assignment; the clock of every sample starts there. */
  async ready(): Promise<void> {
    const line = await this.worker.waitForLog((l) => l.msg === "partitions assigned", 120_000);
    await this.worker.ready(30_000);
    // pino writes "time" as epoch ms or as an ISO string, depending on its configuration.
    const time = typeof line.time === "number" ? line.time : typeof line.time === "string" ? Date.parse(line.time) : Number.NaN;
    this.assignedAt = Number.isFinite(time) ? time : Date.now();
    this.#cpuAtAssign = cpuSeconds(this.pid);
    this.startCpuMeter();
  }

  /** (Re)starts the machine-wide CPU accounting; `cpuShares()` reads it. */
  startCpuMeter(): void {
    this.#meter = new CpuMeter({ ...this.#pids, worker: this.pid });
  }

  cpuShares(): CpuShares | undefined {
    return this.#meter?.read();
  }

  get cpuAtAssign(): number {
    return this.#cpuAtAssign;
  }

  async scrape(): Promise<string> {
    if (this.worker.child.exitCode !== null) {
      throw new Error(`worker exited with ${String(this.worker.child.exitCode)}: ${this.worker.stderr.slice(-5).join(" | ")}`);
    }
    return this.worker.scrape();
  }

  /** Memory now, without recording a sample (idle figures before and after the load). */
  async memory(): Promise<MemoryFigures> {
    const text = await this.scrape();
    return {
      rssBytes: memoryUse(this.pid).rssBytes,
      heapUsedBytes: sum(text, METRIC.heapUsed),
      heapTotalBytes: sum(text, METRIC.heapTotal),
      externalBytes: sum(text, METRIC.external),
    };
  }

  /** One sample: counters from /metrics, CPU and RSS from /proc. */
  async sample(): Promise<Sample> {
    const text = await this.scrape();
    const at = Date.now();
    const indexed = sum(text, METRIC.indexed) ?? 0;
    const previous = this.samples.at(-1);
    const t = (at - this.assignedAt) / 1000;
    const dt = previous === undefined ? t : t - previous.t;
    const s: Sample = {
      t,
      indexed,
      rate: dt > 0 ? (indexed - (previous?.indexed ?? 0)) / dt : 0,
      lag: sum(text, METRIC.lag),
      queue: sum(text, METRIC.queue),
      cpuSeconds: cpuSeconds(this.pid),
      rssBytes: memoryUse(this.pid).rssBytes,
      heapUsedBytes: sum(text, METRIC.heapUsed),
      heapTotalBytes: sum(text, METRIC.heapTotal),
      externalBytes: sum(text, METRIC.external),
      inFlight: sum(text, METRIC.inFlight),
      limit: sum(text, METRIC.limit),
      paused: sum(text, METRIC.paused),
      esCores: this.#esCores(at),
    };
    this.samples.push(s);
    return s;
  }

  /** Cores Elasticsearch used since the previous call: its busy time beside the worker's timeline. */
  #esCores(at: number): number | undefined {
    const pid = this.#pids.elasticsearch;
    if (pid === undefined) return undefined;
    let seconds: number;
    try {
      seconds = cpuSeconds(pid);
    } catch {
      return undefined;
    }
    const previous = this.#esCpu;
    this.#esCpu = { at, seconds };
    return previous === undefined || at <= previous.at ? undefined : (seconds - previous.seconds) / ((at - previous.at) / 1000);
  }

  /** Stops it with SIGTERM and saves its log lines; returns the exit code. */
  async stop(logFile: string): Promise<number | null> {
    const { code } = await this.worker.stop(60_000);
    const lines = [...this.worker.logs.map((l) => JSON.stringify(l)), ...this.worker.stderr];
    writeFileSync(logFile, `${lines.join("\n")}\n`);
    return code;
  }
}

export interface WorkerRunResult {
  readonly records: number;
  /** From the partition assignment until the indexed counter reached N (interpolated between samples). */
  readonly seconds: number;
  readonly recordsPerSecond: number;
  /** From spawning the process to the partition assignment. */
  readonly startupSeconds: number;
  /** From the assignment until the group's committed offsets reached the end of the topic. */
  readonly committedSeconds: number | undefined;
  /** CPU seconds used between the assignment and the sample that saw N records indexed. */
  readonly cpuSeconds: number;
  readonly cpuSecondsPer100k: number;
  /** CPU seconds from spawn to exit, start-up and shutdown included. */
  readonly cpuSecondsTotal: number;
  /**
   * Cores the worker used once the backlog was drained and committed, while idle but
   * still scraped every second like during the run (fetch polling, timers, lag polls,
   * metrics): a fixed cost per second, not per record. Undefined when not measured.
   */
  readonly idleCores: number | undefined;
  /**
   * `cpuSecondsPer100k` without that fixed cost (CPU - idleCores x seconds): the cost
   * that scales with records. Derived, for explaining the measured figure, which stays
   * the one checked against the target.
   */
  readonly cpuSecondsPer100kPerRecordPart: number | undefined;
  readonly peakRssBytes: number;
  /** The collector's figures from --trace-gc (peak heap used, live heap, pauses); undefined without trace lines. */
  readonly gc?: GcTrace | undefined;
  /** The heap the worker's start-up plan counted (its `memory model:` line), MiB. */
  readonly plannedHeapMiB?: number | undefined;
  /** Memory when the partitions were assigned, before the backlog weighed on it. */
  readonly memoryAtStart?: MemoryFigures;
  /** Memory once the backlog was indexed and committed, after IDLE_AFTER_MS without work. */
  readonly memoryAfter?: MemoryFigures;
  /** Who used the cores between the assignment and the last record. */
  readonly cpu: CpuShares | undefined;
  readonly documentsInIndex: number;
  readonly exitCode: number | null;
  readonly samples: readonly Sample[];
  readonly profile: string | undefined;
}

export interface WorkerRunOptions {
  readonly es: Client;
  readonly topic: string;
  readonly groupId: string;
  readonly count: number;
  readonly label: string;
  /** Where the worker's log lines are saved. */
  readonly logFile: string;
  /** Directory for `--cpu-prof`; undefined = no profiling. */
  readonly profileDir: string | undefined;
  /** Give up when the indexed counter did not move for this long. */
  readonly stallMs?: number;
  readonly pids: Record<string, number>;
  /** Settings given to the worker on top of the defaults (BENCH_WORKER_ENV). */
  readonly extraEnv: Readonly<Record<string, string>>;
  /** Seconds the drained worker is watched idle (its fixed CPU cost); 0 = skip. Default IDLE_SECONDS. */
  readonly idleSeconds?: number;
  /** The worker script to run instead of KES_WORKER_ENTRY (the A/B bench). */
  readonly entry?: string;
  /** Node's flags instead of WORKER_NODE_FLAGS (the A/B bench's heap settings); --trace-gc is added either way. */
  readonly nodeFlags?: readonly string[];
}

export function workerEnv(topic: string, groupId: string, extra: Readonly<Record<string, string>>, profileDir?: string): Record<string, string> {
  const env: Record<string, string> = { ...extra, KAFKA_TOPICS: topic, KAFKA_GROUP_ID: groupId, LOG_LEVEL: "info" };
  if (profileDir !== undefined) env.NODE_OPTIONS = `${extra.NODE_OPTIONS ?? ""} --cpu-prof --cpu-prof-dir=${profileDir}`.trim();
  return env;
}

/** How long the worker is left without work before its idle memory is read. */
const IDLE_AFTER_MS = 5_000;

/** The worker drains a backlog of `count` records from a fresh group into a fresh index. */
export async function runWorkerBacklog(options: WorkerRunOptions): Promise<WorkerRunResult> {
  const { es, topic, count, label } = options;
  // The worker's index name is the topic (template "{topic}"): created first, with the ceiling's settings.
  await createIndex(es, topic);
  if (options.profileDir !== undefined) mkdirSync(options.profileDir, { recursive: true });
  // --trace-gc: a line per collection (on stdout, kept with the non-JSON lines) gives the
  // peak heap used, which the one-second scrape misses; a few hundred lines per run.
  const nodeFlags = [...(options.nodeFlags ?? WORKER_NODE_FLAGS), "--trace-gc"];
  const measured = new MeasuredWorker(workerEnv(topic, options.groupId, options.extraEnv, options.profileDir), options.pids, options.entry, nodeFlags);
  const stallMs = options.stallMs ?? 120_000;
  let exitCode: number | null = null;
  try {
    await measured.ready();
    const memoryAtStart = await measured.memory();
    const startupSeconds = (measured.assignedAt - measured.spawnedAt) / 1000;
    let lastMove = Date.now();
    let finished: { seconds: number; cpu: number; shares: CpuShares | undefined } | undefined;
    while (finished === undefined) {
      await sleep(1_000);
      const previous = measured.samples.at(-1);
      const s = await measured.sample();
      if (s.indexed > (previous?.indexed ?? 0)) lastMove = Date.now();
      progress.update(
        `${label} ${fmt(s.indexed)}/${fmt(count)} indexed  ${fmt(s.rate)} rec/s  lag ${s.lag === undefined ? "n/a" : fmt(s.lag)}  ` +
          `queue ${s.queue === undefined ? "n/a" : fmt(s.queue)}  in flight ${s.inFlight === undefined ? "n/a" : fmt(s.inFlight)}/${s.limit === undefined ? "n/a" : fmt(s.limit)}  ` +
          `ES ${s.esCores === undefined ? "n/a" : s.esCores.toFixed(2)} cores  rss ${fmt(s.rssBytes / 2 ** 20)} MiB`,
      );
      if (s.indexed >= count) {
        // The counter crossed N between the last two samples: place the crossing linearly.
        const before = previous ?? { t: 0, indexed: 0 };
        const share = s.indexed > before.indexed ? (count - before.indexed) / (s.indexed - before.indexed) : 1;
        finished = { seconds: before.t + share * (s.t - before.t), cpu: s.cpuSeconds - measured.cpuAtAssign, shares: measured.cpuShares() };
      } else if (Date.now() - lastMove > stallMs) {
        throw new Error(`${label} no progress for ${String(stallMs / 1000)} s at ${fmt(s.indexed)} records`);
      }
    }
    const committedSeconds = await waitForCommits(options.groupId, topic, measured.assignedAt, 60_000);
    await sleep(IDLE_AFTER_MS);
    const memoryAfter = await measured.memory();
    const peakRssBytes = memoryUse(measured.pid).peakRssBytes;
    const idleCores = await measureIdle(measured, options.idleSeconds ?? IDLE_SECONDS);
    const cpuBeforeStop = cpuSeconds(measured.pid);
    exitCode = await measured.stop(options.logFile);
    const gc = parseGcTrace(measured.worker.stderr);
    const documentsInIndex = await indexCount(es, topic);
    return {
      records: count,
      seconds: finished.seconds,
      recordsPerSecond: count / finished.seconds,
      startupSeconds,
      committedSeconds,
      cpuSeconds: finished.cpu,
      cpuSecondsPer100k: (finished.cpu / count) * 100_000,
      cpuSecondsTotal: cpuBeforeStop,
      idleCores,
      cpuSecondsPer100kPerRecordPart: idleCores === undefined ? undefined : (Math.max(0, finished.cpu - idleCores * finished.seconds) / count) * 100_000,
      peakRssBytes,
      gc,
      plannedHeapMiB: plannedHeapOf(measured.worker.logs),
      memoryAtStart,
      memoryAfter,
      cpu: finished.shares,
      documentsInIndex,
      exitCode,
      samples: measured.samples,
      profile: options.profileDir === undefined ? undefined : newestProfile(options.profileDir),
    };
  } finally {
    if (measured.worker.child.exitCode === null) measured.worker.kill("SIGKILL");
  }
}

/** How long a drained worker is watched to measure its fixed (idle) CPU cost. */
const IDLE_SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? "10");

/** Cores used by the drained worker over `seconds`, sampled (scraped) every second as during the run. */
async function measureIdle(measured: MeasuredWorker, seconds: number): Promise<number | undefined> {
  if (!(seconds > 0)) return undefined;
  const cpuBefore = cpuSeconds(measured.pid);
  const started = performance.now();
  while (performance.now() - started < seconds * 1000) {
    await sleep(1_000);
    await measured.scrape();
  }
  return (cpuSeconds(measured.pid) - cpuBefore) / ((performance.now() - started) / 1000);
}

/** Seconds from `sinceMs` until the group's commit lag on the topic is 0; undefined on timeout. */
async function waitForCommits(groupId: string, topic: string, sinceMs: number, timeoutMs: number): Promise<number | undefined> {
  return withAdmin(async (admin) => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if ((await commitLag(admin, groupId, topic)) === 0) return (Date.now() - sinceMs) / 1000;
      await sleep(200);
    }
    return undefined;
  });
}

function newestProfile(dir: string): string | undefined {
  const files = readdirSync(dir).filter((f) => f.endsWith(".cpuprofile")).sort();
  const last = files.at(-1);
  return last === undefined ? undefined : path.join(dir, last);
}
