/**
 * What `make bench` measures and where it writes, from environment variables. Every
 * figure of one report comes from one invocation with these settings.
 */
import os from "node:os";
import path from "node:path";

/**
 * The payload (`json` log events or `text` lines); `json-<codec>`: json in batches the
 * producer compressed; `avro`: the json events as Avro records through the schema registry.
 */
export type Codec = "gzip" | "snappy" | "lz4" | "zstd";
export type Variant = "json" | "text" | "avro" | `json-${Codec}`;
export const CODECS: readonly Codec[] = ["gzip", "snappy", "lz4", "zstd"];
/** Measured by default; the compressed variants on request (BENCH_VARIANTS=json,json-lz4,...). */
export const VARIANTS: readonly Variant[] = ["json", "text", "avro"];
export const ALL_VARIANTS: readonly Variant[] = [...VARIANTS, ...CODECS.map((c): Variant => `json-${c}`)];

/** The compression codec of a variant's batches, or "none". */
export function codecOf(variant: Variant): Codec | "none" {
  const codec = CODECS.find((c) => variant === `json-${c}`);
  return codec ?? "none";
}

export interface BenchSettings {
  /** Records per variant in the backlog (BENCH_RECORDS). */
  readonly records: number;
  readonly variants: readonly Variant[];
  /** Records the naive baseline processes; it is measured as a rate (BENCH_NAIVE_RECORDS). */
  readonly naiveRecords: number;
  /** Length of the paced latency run, 0 = skip it (BENCH_LATENCY_SECONDS). */
  readonly latencySeconds: number;
  /** Partitions of every bench topic. */
  readonly partitions: number;
  /** Approximate size of one record value in bytes. */
  readonly recordBytes: number;
  /** "kcat" or "kafkajs"; default kcat when installed (BENCH_PRODUCER). */
  readonly producer: "kcat" | "kafkajs" | "auto";
  /** Run the main worker measurement under `--cpu-prof` and summarise it (BENCH_PROFILE=1). */
  readonly profile: boolean;
  /**
   * Settings given to the worker on top of its defaults, for experiments
   * (BENCH_WORKER_ENV="QUEUE_MAX_RECORDS=5000;NODE_OPTIONS=--max-semi-space-size=8").
   * Empty for the reference figures; the report lists them.
   */
  readonly workerEnv: Readonly<Record<string, string>>;
  /** Keep topics and indices afterwards (BENCH_KEEP=1). */
  readonly keep: boolean;
  /** Parent of the timestamped output directory (KES_BENCH_DIR). */
  readonly outputRoot: string;
  readonly brokers: readonly string[];
  readonly esNode: string;
  /** BENCH_PIN=1: Elasticsearch alone on BENCH_PIN_ES_CORES (default core 0), everything else on the other cores. */
  readonly pin: boolean;
  readonly pinEsCores: string;
}

function positiveInt(env: NodeJS.ProcessEnv, name: string, fallback: number, min = 1): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  const value = Number(raw.replace(/[_,]/g, ""));
  if (!Number.isSafeInteger(value) || value < min) {
    throw new Error(`${name} must be an integer >= ${String(min)}, got "${raw}"`);
  }
  return value;
}

function flag(env: NodeJS.ProcessEnv, name: string): boolean {
  const raw = (env[name] ?? "").trim().toLowerCase();
  return raw === "1" || raw === "true" || raw === "yes";
}

export function parseVariants(raw: string | undefined): Variant[] {
  if (raw === undefined || raw.trim() === "") return [...VARIANTS];
  const out: Variant[] = [];
  for (const part of raw.split(",").map((p) => p.trim()).filter((p) => p !== "")) {
    const variant = ALL_VARIANTS.find((v) => v === part);
    if (variant === undefined) throw new Error(`BENCH_VARIANTS: unknown variant "${part}" (known: ${ALL_VARIANTS.join(", ")})`);
    if (!out.includes(variant)) out.push(variant);
  }
  if (out.length === 0) throw new Error("BENCH_VARIANTS names no variant");
  return out;
}

/** "A=1;B=two words" -> { A: "1", B: "two words" }. */
export function parseWorkerEnv(raw: string | undefined): Record<string, string> {
  const env: Record<string, string> = {};
  for (const part of (raw ?? "").split(";").map((p) => p.trim()).filter((p) => p !== "")) {
    const eq = part.indexOf("=");
    if (eq <= 0) throw new Error(`BENCH_WORKER_ENV: "${part}" is not NAME=value`);
    env[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return env;
}

export function loadSettings(env: NodeJS.ProcessEnv = process.env): BenchSettings {
  const producer = (env.BENCH_PRODUCER ?? "auto").trim() || "auto";
  if (producer !== "auto" && producer !== "kcat" && producer !== "kafkajs") {
    throw new Error(`BENCH_PRODUCER must be kcat, kafkajs or auto, got "${producer}"`);
  }
  const records = positiveInt(env, "BENCH_RECORDS", 1_000_000);
  return {
    records,
    variants: parseVariants(env.BENCH_VARIANTS),
    naiveRecords: Math.min(records, positiveInt(env, "BENCH_NAIVE_RECORDS", 20_000)),
    latencySeconds: positiveInt(env, "BENCH_LATENCY_SECONDS", 60, 0),
    partitions: positiveInt(env, "BENCH_PARTITIONS", 6),
    recordBytes: positiveInt(env, "BENCH_RECORD_BYTES", 1024, 256),
    producer,
    profile: flag(env, "BENCH_PROFILE"),
    workerEnv: parseWorkerEnv(env.BENCH_WORKER_ENV),
    keep: flag(env, "BENCH_KEEP"),
    outputRoot: env.KES_BENCH_DIR !== undefined && env.KES_BENCH_DIR !== ""
      ? path.resolve(env.KES_BENCH_DIR)
      : path.join(os.homedir(), ".cache", "kafka-es-transfer", "bench"),
    brokers: (env.KAFKA_BROKERS ?? "127.0.0.1:9092").split(",").map((b) => b.trim()).filter((b) => b !== ""),
    esNode: env.ES_NODE ?? "http://127.0.0.1:9200",
    pin: flag(env, "BENCH_PIN"),
    pinEsCores: (env.BENCH_PIN_ES_CORES ?? "0").trim() || "0",
  };
}
