/**
 * `make bench-ab`: two or more builds of the worker drain the same backlog in turn,
 * alternating within one session (A B, B A, A B...), so that the load of a shared
 * machine weighs on each build alike. Used to bisect a slowdown and to show a change
 * before and after: per build, the median rate, CPU seconds per 100,000 records and
 * peak RSS over the rounds, and the collector's figures from --trace-gc (peak heap used,
 * main-thread pause time).
 *
 * Environment (besides KAFKA_BROKERS, ES_NODE):
 *   BENCH_AB          label=entry[;NAME=value...],label=entry...  (entry: a worker script, e.g.
 *                     /work/wt/old/dist/main.js; "current" is this checkout's KES_WORKER_ENTRY;
 *                     NAME=value: settings for that build only, e.g. current;BULK_ADAPTIVE_CONCURRENCY=false;
 *                     NODE_FLAGS=...: node's flags for that build instead of the shipped ones, e.g.
 *                     old96=current;NODE_FLAGS=--max-semi-space-size=4 --max-old-space-size=96)
 *   BENCH_AB_ROUNDS   rounds (3); each round runs every build once, the order rotated
 *   BENCH_RECORDS     backlog (200000); BENCH_VARIANTS (json): one backlog per variant
 *   BENCH_PROFILE=1   every run under --cpu-prof (the summary is printed)
 *   BENCH_WORKER_ENV  settings given to every build (A=1;B=2)
 *   BENCH_PIN=1       Elasticsearch alone on a core, the rest on the others, as `make bench` pins
 */
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Client } from "@elastic/elasticsearch";
import { createElasticsearchClient } from "../../src/sink/es-client.ts";
import { WORKER_ENTRY } from "../support/worker.ts";
import { workerDefaults } from "./defaults.ts";
import { chooseProducer, produceBacklog } from "./produce.ts";
import { summariseProfile } from "./profile.ts";
import { fmt, progress } from "./progress.ts";
import { BENCH_PREFIX, createTopic, deleteGroups, deleteIndex, deleteLeftovers, deleteTopics, settle } from "./servers.ts";
import { loadSettings, type Variant } from "./settings.ts";
import { runWorkerBacklog } from "./worker-run.ts";
import { applyPinning, describePinning, planPinning } from "./pinning.ts";
import { machineInfo, serverPids } from "./proc.ts";
import { ROOT } from "../support/env.ts";

interface Build {
  readonly label: string;
  readonly entry: string;
  /** Settings for this build only, on top of BENCH_WORKER_ENV. */
  readonly env: Readonly<Record<string, string>>;
  /** Node's flags for this build (NODE_FLAGS=...); undefined = the shipped ones (WORKER_NODE_FLAGS). */
  readonly nodeFlags?: readonly string[] | undefined;
}

interface AbRun {
  readonly build: string;
  readonly variant: Variant;
  readonly round: number;
  readonly recordsPerSecond: number;
  readonly cpuSecondsPer100k: number;
  readonly cpuSecondsTotal: number;
  readonly peakRssMiB: number;
  /** Largest heap used when a collection began, and main-thread pause seconds per 100,000 records (--trace-gc). */
  readonly peakHeapMiB: number | undefined;
  /** The heap the worker's memory model planned at start (its log line). */
  readonly plannedHeapMiB?: number | undefined;
  readonly gcPauseSecondsPer100k: number | undefined;
  readonly load1: number;
}

export function parseBuilds(raw: string | undefined): Build[] {
  const parts = (raw ?? "").split(",").map((p) => p.trim()).filter((p) => p !== "");
  const builds = parts.map((part): Build => {
    const eq = part.indexOf("=");
    if (eq <= 0) throw new Error(`BENCH_AB: "${part}" is not label=entry`);
    const [entry = "", ...settings] = part.slice(eq + 1).split(";").map((x) => x.trim());
    const env: Record<string, string> = {};
    for (const setting of settings) {
      const at = setting.indexOf("=");
      if (at <= 0) throw new Error(`BENCH_AB: "${setting}" is not NAME=value`);
      env[setting.slice(0, at)] = setting.slice(at + 1);
    }
    const { NODE_FLAGS: flags, ...rest } = env;
    const nodeFlags = flags?.split(" ").filter((f) => f !== "");
    return { label: part.slice(0, eq).trim(), entry: entry === "current" ? WORKER_ENTRY : entry, env: rest, nodeFlags };
  });
  if (builds.length < 2) throw new Error("BENCH_AB needs at least two builds: label=entry,label=entry");
  return builds;
}

/** Round r runs the builds rotated by r, so that no build always goes first. */
export function roundOrder<T>(items: readonly T[], round: number): T[] {
  const shift = round % items.length;
  return [...items.slice(shift), ...items.slice(0, shift)];
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 === 1 ? (sorted[mid] ?? Number.NaN) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

export function abMarkdown(runs: readonly AbRun[], builds: readonly Build[], heading: string): string {
  const lines = [
    `# ${heading}`, "",
    "| variant | build | runs | median rec/s | median CPU s/100k | median GC pause s/100k | median total CPU s | median peak RSS MiB | median peak heap MiB (model's plan) | each run: rec/s, CPU s/100k (load) |",
    "|---|---|--:|--:|--:|--:|--:|--:|--:|---|",
  ];
  const medianOf = (values: readonly (number | undefined)[], digits: number): string => {
    const known = values.filter((v): v is number => v !== undefined);
    return known.length === 0 ? "n/a" : median(known).toFixed(digits);
  };
  const variants = [...new Set(runs.map((r) => r.variant))];
  for (const variant of variants) {
    for (const build of builds) {
      const mine = runs.filter((r) => r.variant === variant && r.build === build.label);
      const each = mine.map((r) => `${fmt(r.recordsPerSecond)}, ${r.cpuSecondsPer100k.toFixed(2)} (${r.load1.toFixed(1)})`).join("; ");
      lines.push(
        `| ${variant} | ${build.label} | ${String(mine.length)} | ${fmt(median(mine.map((r) => r.recordsPerSecond)))} | ${median(mine.map((r) => r.cpuSecondsPer100k)).toFixed(2)} | ` +
          `${medianOf(mine.map((r) => r.gcPauseSecondsPer100k), 2)} | ${median(mine.map((r) => r.cpuSecondsTotal)).toFixed(1)} | ${median(mine.map((r) => r.peakRssMiB)).toFixed(0)} | ` +
          `${medianOf(mine.map((r) => r.peakHeapMiB), 1)} (${medianOf(mine.map((r) => r.plannedHeapMiB), 0)}) | ${each} |`,
      );
    }
  }
  return `${lines.join("\n")}\n`;
}

async function oneRun(es: Client, build: Build, variant: Variant, topic: string, round: number, count: number, outputDir: string, groups: string[]): Promise<AbRun> {
  const settings = loadSettings();
  const groupId = `${topic}-${build.label}-${String(round)}`;
  groups.push(groupId);
  const profileDir = settings.profile ? path.join(outputDir, `profile-${build.label}-${variant}-${String(round)}`) : undefined;
  const load1 = os.loadavg()[0] ?? 0;
  const result = await runWorkerBacklog({
    es, topic, groupId, count, label: `[ab ${build.label} ${variant} #${String(round + 1)}]`,
    logFile: path.join(outputDir, `worker-${build.label}-${variant}-${String(round)}.log`), profileDir,
    pids: {}, extraEnv: { ...settings.workerEnv, ...build.env }, entry: build.entry, nodeFlags: build.nodeFlags,
  });
  await deleteIndex(es, topic);
  if (result.profile !== undefined) {
    const summary = summariseProfile(result.profile);
    const top = (entries: readonly { name: string; share: number }[]): string => entries.slice(0, 12).map((e) => `${e.name} ${(e.share * 100).toFixed(1)}%`).join("; ");
    progress.log(`[ab ${build.label}] profile: busy ${fmt(summary.busyMs)} ms; by package: ${top(summary.byPackage)}\n  self: ${top(summary.topSelf)}`);
  }
  const run: AbRun = {
    build: build.label, variant, round, load1,
    recordsPerSecond: result.recordsPerSecond,
    cpuSecondsPer100k: result.cpuSecondsPer100k,
    cpuSecondsTotal: result.cpuSecondsTotal,
    peakRssMiB: result.peakRssBytes / 2 ** 20,
    peakHeapMiB: result.gc?.peakHeapMiB,
    plannedHeapMiB: result.plannedHeapMiB,
    gcPauseSecondsPer100k: result.gc === undefined ? undefined : (result.gc.pauseSeconds / count) * 100_000,
  };
  progress.log(`[ab ${build.label} ${variant} #${String(round + 1)}] ${fmt(run.recordsPerSecond)} rec/s, CPU ${run.cpuSecondsPer100k.toFixed(2)} s/100k, total CPU ${run.cpuSecondsTotal.toFixed(1)} s, peak RSS ${run.peakRssMiB.toFixed(0)} MiB, peak heap ${run.peakHeapMiB?.toFixed(1) ?? "n/a"} MiB (planned ${run.plannedHeapMiB?.toFixed(0) ?? "n/a"}), load ${load1.toFixed(1)}`);
  return run;
}

async function main(): Promise<void> {
  process.removeAllListeners("warning");
  const builds = parseBuilds(process.env.BENCH_AB);
  const rounds = Number(process.env.BENCH_AB_ROUNDS ?? "3");
  if (!Number.isSafeInteger(rounds) || rounds < 1) throw new Error(`BENCH_AB_ROUNDS: "${String(process.env.BENCH_AB_ROUNDS)}" is not a positive integer`);
  const settings = loadSettings({ BENCH_RECORDS: "200000", ...process.env });
  const outputDir = path.join(settings.outputRoot, `ab-${new Date().toISOString().replace(/\.\d+Z$/, "Z").replace(/:/g, "-")}`);
  mkdirSync(outputDir, { recursive: true });
  const es = createElasticsearchClient({ ...workerDefaults(settings.workerEnv).elasticsearch, nodes: [settings.esNode] });
  const runId = `${BENCH_PREFIX}${Date.now().toString(36)}`;
  const topics: string[] = [];
  const groups: string[] = [];
  const runs: AbRun[] = [];
  // BENCH_PIN=1: as in `make bench`, Elasticsearch on its own core(s), the rest (the worker) on the others.
  const pinned = settings.pin ? applyPinning(planPinning(machineInfo().cores, settings.pinEsCores), { ...serverPids(ROOT), bench: process.pid }) : undefined;
  progress.log(`[ab] ${describePinning(pinned?.plan)}`);
  try {
    await deleteLeftovers(es);
    for (const variant of settings.variants) {
      const topic = `${runId}-${variant}`;
      topics.push(topic);
      await createTopic(topic, settings.partitions);
      await produceBacklog(chooseProducer(settings.producer), { brokers: settings.brokers, topic, partitions: settings.partitions, variant, count: settings.records, recordBytes: settings.recordBytes });
      for (let round = 0; round < rounds; round++) {
        for (const build of roundOrder(builds, round)) {
          // A short settle: alternating the builds is what makes the runs comparable.
          await settle(15_000);
          runs.push(await oneRun(es, build, variant, topic, round, settings.records, outputDir, groups));
        }
      }
    }
    const heading = `bench-ab: ${fmt(settings.records)} records, ${String(rounds)} rounds, ${describePinning(pinned?.plan)}, worker env ${JSON.stringify(settings.workerEnv)}, builds ${builds.map((b) => `${b.label}=${b.entry} ${JSON.stringify(b.env)} ${b.nodeFlags?.join(" ") ?? "shipped flags"}`).join(", ")}`;
    const markdown = abMarkdown(runs, builds, heading);
    writeFileSync(path.join(outputDir, "ab.md"), markdown);
    writeFileSync(path.join(outputDir, "ab.json"), `${JSON.stringify({ heading, runs }, null, 2)}\n`);
    progress.log(`\n${markdown}`);
    progress.log(`[ab] report in ${path.join(outputDir, "ab.md")}`);
  } finally {
    pinned?.restore();
    await deleteTopics(topics).catch(() => undefined);
    await deleteGroups(groups).catch(() => undefined);
    await es.close();
  }
}

if (import.meta.main) {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      progress.log(`bench-ab: FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      process.exit(1);
    },
  );
}
