/**
 * Writing records into Kafka as fast as possible (the backlog) or at a set pace (the
 * latency run). kcat (librdkafka) is the fastest and is used when installed; the kafkajs
 * producer is the fallback. Both take lines: every bench value is one line of ASCII.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { CompressionTypes, logLevel } from "kafkajs";
import { newKafkaClient } from "../../src/source/client/kafka-client.ts";
import { recordValue } from "./data.ts";
import { fmt, progress } from "./progress.ts";
import { codecOf, type Variant } from "./settings.ts";

export type ProducerKind = "kcat" | "kafkajs";

export interface LineProducer {
  readonly kind: ProducerKind;
  /** Hands the values over; resolves when more may be written (back-pressure). kcat takes text lines only. */
  write(lines: readonly (string | Buffer)[]): Promise<void>;
  /** Flushes everything written and waits for the brokers' acknowledgement. */
  close(): Promise<void>;
}

export function kcatAvailable(): boolean {
  return spawnSync("kcat", ["-V"], { stdio: "ignore" }).status === 0;
}

export function kcatVersion(): string | undefined {
  const out = spawnSync("kcat", ["-V"], { encoding: "utf8" });
  if (out.status !== 0) return undefined;
  const kcat = /Version (\S+)/.exec(out.stdout)?.[1];
  const librdkafka = /librdkafka (\S+)/.exec(out.stdout)?.[1];
  return `kcat ${kcat ?? "?"} (librdkafka ${librdkafka ?? "?"})`;
}

export function chooseProducer(wanted: "kcat" | "kafkajs" | "auto", variant?: Variant): ProducerKind {
  if (wanted === "kafkajs" || variant === "avro") return "kafkajs";
  if (kcatAvailable()) return "kcat";
  if (wanted === "kcat") throw new Error("BENCH_PRODUCER=kcat but kcat is not installed (make tools installs it)");
  return "kafkajs";
}

interface OpenOptions {
  readonly brokers: readonly string[];
  readonly topic: string;
  readonly partitions: number;
  /** How long the producer may wait to fill a batch: high for throughput, low for latency. */
  readonly lingerMs: number;
  /** Its batches are compressed with the variant's codec (`json-lz4`...). */
  readonly variant: Variant;
}

function kcatProducer(options: OpenOptions): LineProducer {
  const child: ChildProcess = spawn("kcat", [
    "-P", "-b", options.brokers.join(","), "-t", options.topic,
    "-X", `linger.ms=${String(options.lingerMs)}`,
    "-X", "batch.size=1000000",
    "-X", "queue.buffering.max.kbytes=262144",
    "-X", `compression.codec=${codecOf(options.variant)}`,
  ], { stdio: ["pipe", "ignore", "pipe"] });
  const stderr: string[] = [];
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => { stderr.push(chunk); });
  const exited = once(child, "exit") as Promise<[number | null, NodeJS.Signals | null]>;
  let closing = false;
  // Rejects only if kcat dies before close(); handled here so a normal exit is no error.
  const died = exited.then(([code]) => {
    if (!closing) throw new Error(`kcat exited early (${String(code)}): ${stderr.join("").slice(-2000)}`);
  });
  died.catch(() => undefined);
  const stdin = child.stdin;
  if (stdin === null) throw new Error("kcat has no stdin");
  stdin.on("error", () => undefined); // EPIPE when kcat died: reported by `died`
  return {
    kind: "kcat",
    async write(lines) {
      if (lines.length === 0) return;
      if (lines.some((line) => typeof line !== "string")) throw new Error("kcat takes text lines: binary values go through the kafkajs producer");
      if (!stdin.write(`${lines.join("\n")}\n`)) await Promise.race([once(stdin, "drain"), died]);
    },
    async close() {
      closing = true;
      stdin.end();
      const [code, signal] = await exited;
      if (code !== 0) throw new Error(`kcat exited with ${String(code ?? signal)}: ${stderr.join("").slice(-2000)}`);
    },
  };
}

const KAFKAJS_CODECS = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
  snappy: CompressionTypes.Snappy,
  lz4: CompressionTypes.LZ4,
  zstd: CompressionTypes.ZSTD,
} as const;

/** Keeps several sends in flight: one at a time, kafkajs would wait a round trip per chunk. */
const KAFKAJS_IN_FLIGHT = 4;

async function kafkajsProducer(options: OpenOptions): Promise<LineProducer> {
  const kafka = newKafkaClient({ clientId: "kes-bench-producer", brokers: [...options.brokers], logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const inFlight = new Set<Promise<void>>();
  let failure: Error | undefined;
  let next = 0;
  return {
    kind: "kafkajs",
    async write(lines) {
      if (failure !== undefined) throw failure;
      const messages = lines.map((value) => ({ value, partition: next++ % options.partitions }));
      const sent: Promise<void> = producer
        .send({ topic: options.topic, messages, acks: 1, compression: KAFKAJS_CODECS[codecOf(options.variant)] })
        .then(() => undefined, (error: unknown) => { failure ??= error instanceof Error ? error : new Error(String(error)); })
        .finally(() => { inFlight.delete(sent); });
      inFlight.add(sent);
      while (inFlight.size >= KAFKAJS_IN_FLIGHT) await Promise.race(inFlight);
    },
    async close() {
      await Promise.all(inFlight);
      await producer.disconnect();
      if (failure !== undefined) throw failure;
    },
  };
}

export function openProducer(kind: ProducerKind, options: OpenOptions): Promise<LineProducer> {
  return kind === "kcat" ? Promise.resolve(kcatProducer(options)) : kafkajsProducer(options);
}

export interface ProduceResult {
  readonly producer: ProducerKind;
  readonly records: number;
  readonly bytes: number;
  readonly seconds: number;
  readonly recordsPerSecond: number;
}

/** Kafka refuses record batches over ~1 MiB: keep a kafkajs chunk's share per partition below that. */
const CHUNK = 3_000;

/** Produces records 0..count-1 of the variant as fast as the producer takes them. */
export async function produceBacklog(
  kind: ProducerKind,
  options: { brokers: readonly string[]; topic: string; partitions: number; variant: Variant; count: number; recordBytes: number },
): Promise<ProduceResult> {
  const producer = await openProducer(kind, { ...options, lingerMs: 20 });
  const label = `[produce ${options.variant}]`;
  const started = performance.now();
  let bytes = 0;
  try {
    for (let start = 0; start < options.count; start += CHUNK) {
      const end = Math.min(options.count, start + CHUNK);
      const lines: (string | Buffer)[] = [];
      for (let i = start; i < end; i++) {
        const line = recordValue(options.variant, i, options.recordBytes);
        bytes += line.length;
        lines.push(line);
      }
      await producer.write(lines);
      const seconds = (performance.now() - started) / 1000;
      progress.update(`${label} ${fmt(end)}/${fmt(options.count)} written  ${fmt(end / seconds)} rec/s  (${kind})`);
    }
  } finally {
    await producer.close();
  }
  const seconds = (performance.now() - started) / 1000;
  return { producer: kind, records: options.count, bytes, seconds, recordsPerSecond: options.count / seconds };
}
