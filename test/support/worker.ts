/**
 * Runs the real worker as a child process (`node src/main.ts start`), the way it is
 * deployed, so that SIGTERM, SIGKILL and exit codes are the real ones.
 */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import readline from "node:readline";
import { BROKERS, ES_NODE, ROOT, waitFor } from "./env.ts";

/**
 * The V8 flags the service ships with (see the shebang of src/main.ts and
 * docker/Dockerfile); KES_WORKER_NODE_FLAGS replaces them for experiments.
 */
export const SHIPPED_NODE_FLAGS = "--max-semi-space-size=4 --max-old-space-size=96";
export const WORKER_NODE_FLAGS = (process.env.KES_WORKER_NODE_FLAGS ?? SHIPPED_NODE_FLAGS).split(" ").filter((f) => f !== "");

/** The allocator settings the service ships with (same places); a worker's own env overrides them. */
export const SHIPPED_MALLOC_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: "2", MALLOC_MMAP_THRESHOLD_: "131072" };

/**
 * What runs: the sources by default (no build step needed), or the compiled
 * `dist/main.js` the image ships (KES_WORKER_ENTRY=dist/main.js, used by the
 * benchmark: type stripping alone costs about 25 MiB of RSS).
 */
export const WORKER_ENTRY = process.env.KES_WORKER_ENTRY ?? "src/main.ts";

export interface LogLine {
  /** pino's level label ("info", "warn"...): the service logs labels, not numbers. */
  readonly level: string | number;
  readonly msg: string;
  readonly [field: string]: unknown;
}

export interface WorkerExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** Every worker a test file started, so that a failed test cannot leave one running. */
const started = new Set<WorkerProcess>();

export class WorkerProcess {
  readonly child: ChildProcess;
  readonly logs: LogLine[] = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<WorkerExit>;
  /** A name for diagnostics ("A", "B"...). */
  readonly name: string;
  metricsPort: number | undefined;

  /**
   * `entry`: the script to run, relative to the repository or absolute (the A/B bench runs other checkouts' builds);
   * `nodeFlags`: node's flags instead of WORKER_NODE_FLAGS (the A/B bench compares heap settings).
   */
  constructor(env: Record<string, string>, args: string[] = ["start"], name = "worker", entry = WORKER_ENTRY, nodeFlags: readonly string[] = WORKER_NODE_FLAGS) {
    this.name = name;
    this.child = spawn(process.execPath, [...nodeFlags, path.resolve(ROOT, entry), ...args], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? "",
        ...SHIPPED_MALLOC_ENV,
        KAFKA_BROKERS: BROKERS.join(","),
        ES_NODE,
        METRICS_PORT: "0",
        LOG_LEVEL: "info",
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    started.add(this);
    // A test or demo that dies must not leave a worker behind holding its port.
    const reap = (): void => {
      this.kill("SIGKILL");
    };
    process.once("exit", reap);
    this.exited = new Promise((resolve) => {
      this.child.once("exit", (code, signal) => {
        started.delete(this);
        resolve({ code, signal });
      });
    });
    if (this.child.stdout) {
      readline.createInterface({ input: this.child.stdout }).on("line", (line) => {
        this.#onLine(line);
      });
    }
    if (this.child.stderr) {
      readline.createInterface({ input: this.child.stderr }).on("line", (line) => {
        this.stderr.push(line);
        if (process.env.WORKER_ECHO) process.stderr.write(`[${this.name} stderr] ${line}\n`);
      });
    }
  }

  #onLine(line: string): void {
    if (process.env.WORKER_ECHO) process.stderr.write(`[${this.name}] ${line}\n`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      this.stderr.push(line);
      return;
    }
    if (typeof parsed !== "object" || parsed === null) return;
    const entry = parsed as LogLine;
    this.logs.push(entry);
    if (typeof entry.metricsPort === "number") this.metricsPort = entry.metricsPort;
  }

  /** True until the process exited. */
  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves with the first log line matching, already seen or still to come. */
  waitForLog(match: (line: LogLine) => boolean, timeoutMs = 60_000): Promise<LogLine> {
    return waitFor(`a log line of ${this.name} (${match.toString()})`, () => {
      const found = this.logs.find(match);
      if (found !== undefined) return found;
      if (this.child.exitCode !== null) throw new Error(`${this.name} exited with ${String(this.child.exitCode)}: ${this.stderr.slice(-5).join(" | ")}`);
      return undefined;
    }, timeoutMs, 100);
  }

  /** Like `waitForLog`, for lines logged after `previous` (one of this worker's lines). */
  waitForLogAfter(previous: LogLine, match: (line: LogLine) => boolean, timeoutMs = 60_000): Promise<LogLine> {
    const from = this.logs.indexOf(previous) + 1;
    return this.waitForLog((line) => this.logs.indexOf(line) >= from && match(line), timeoutMs);
  }

  /** Log lines with this message. */
  logsWith(msg: string): LogLine[] {
    return this.logs.filter((l) => l.msg === msg);
  }

  async ready(timeoutMs = 60_000): Promise<void> {
    await this.waitForLog((l) => l.msg === "partitions assigned", timeoutMs);
    await waitFor("the metrics port", () => this.metricsPort, timeoutMs);
  }

  /** Waits for the metrics port only (a worker that cannot join yet still serves /metrics). */
  async listening(timeoutMs = 60_000): Promise<number> {
    return waitFor(`the metrics port of ${this.name}`, () => {
      if (this.child.exitCode !== null) throw new Error(`${this.name} exited with ${String(this.child.exitCode)}`);
      return this.metricsPort;
    }, timeoutMs, 100);
  }

  async scrape(): Promise<string> {
    if (this.metricsPort === undefined) throw new Error("metrics port not known yet");
    const response = await fetch(`http://127.0.0.1:${String(this.metricsPort)}/metrics`);
    return response.text();
  }

  /** Sum of one metric's samples in a fresh scrape, filtered by labels. */
  async metric(name: string, labels: Record<string, string> = {}): Promise<number> {
    return metricSum(await this.scrape(), name, labels);
  }

  async get(pathname: string): Promise<{ status: number; body: unknown }> {
    if (this.metricsPort === undefined) throw new Error("metrics port not known yet");
    const response = await fetch(`http://127.0.0.1:${String(this.metricsPort)}${pathname}`);
    return { status: response.status, body: await response.json() };
  }

  kill(signal: NodeJS.Signals = "SIGTERM"): void {
    if (this.running) this.child.kill(signal);
  }

  /** SIGTERM, then waits for the exit (SIGKILL after `timeoutMs`). */
  async stop(timeoutMs = 60_000): Promise<WorkerExit> {
    this.kill("SIGTERM");
    const timer = setTimeout(() => { this.kill("SIGKILL"); }, timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The last log lines and stderr, for a failed test's output. */
  tail(lines = 30): string {
    const logs = this.logs.slice(-lines).map((l) => JSON.stringify(l));
    const err = this.stderr.slice(-10);
    return [`--- ${this.name}: last ${String(logs.length)} log lines`, ...logs, ...(err.length > 0 ? [`--- ${this.name}: stderr`, ...err] : [])].join("\n");
  }
}

/** SIGKILLs every worker still running (for `after` hooks: a failed test must not leak one). */
export async function killAllWorkers(): Promise<void> {
  const running = [...started];
  for (const worker of running) worker.kill("SIGKILL");
  await Promise.all(running.map((w) => w.exited));
}

/**
 * Runs a test body; when it throws, prints the last log lines of each worker to stderr
 * (the spec reporter shows it) before rethrowing, and always kills workers left running.
 */
export async function withWorkers(workers: () => readonly (WorkerProcess | undefined)[], body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (error) {
    for (const worker of workers()) {
      if (worker !== undefined) process.stderr.write(`${worker.tail(30)}\n`);
    }
    throw error;
  } finally {
    await killAllWorkers();
  }
}

/** One metric's samples in a Prometheus text scrape, with their labels. */
export interface MetricSample {
  readonly labels: Record<string, string>;
  readonly value: number;
}

export function metricValues(scrape: string, name: string): MetricSample[] {
  const out: MetricSample[] = [];
  for (const line of scrape.split("\n")) {
    if (!line.startsWith(name)) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (match?.[1] !== name) continue;
    const labels: Record<string, string> = {};
    for (const pair of (match[3] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
      if (pair[1] !== undefined) labels[pair[1]] = pair[2] ?? "";
    }
    out.push({ labels, value: Number(match[4]) });
  }
  return out;
}

/** Sum of the samples of `name` whose labels include every pair of `labels`. */
export function metricSum(scrape: string, name: string, labels: Record<string, string> = {}): number {
  return metricValues(scrape, name)
    .filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

/** Per-partition samples of a metric for one topic: partition -> value. */
export function partitionSeries(scrape: string, name: string, topic: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const s of metricValues(scrape, name)) {
    if (s.labels.topic === topic && s.labels.partition !== undefined) out.set(Number(s.labels.partition), s.value);
  }
  return out;
}
