/**
 * The naive baseline, the seed design for scale: kafkajs `eachMessage`, one index
 * request per record awaited before the next, no batching, ids chosen by
 * Elasticsearch. It is slow, so it runs on the first `count` records of the backlog
 * and is reported as a rate.
 */
import { Client } from "@elastic/elasticsearch";
import { logLevel } from "kafkajs";
import { newKafkaClient } from "../../src/source/client/kafka-client.ts";
import { fmt, progress } from "./progress.ts";
import { createIndex } from "./servers.ts";

export interface NaiveResult {
  readonly records: number;
  readonly seconds: number;
  readonly recordsPerSecond: number;
}

export async function naiveBaseline(options: {
  brokers: readonly string[];
  esNode: string;
  topic: string;
  groupId: string;
  index: string;
  count: number;
  label: string;
  timeoutMs: number;
  /** The document of a value; default: a JSON object as it is, anything else as {message}. */
  toDocument?: (value: Buffer) => unknown;
}): Promise<NaiveResult> {
  const es = new Client({ node: options.esNode, requestTimeout: 30_000 });
  await createIndex(es, options.index);
  const kafka = newKafkaClient({ clientId: "kes-bench-naive", brokers: [...options.brokers], logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: options.groupId });
  let records = 0;
  let firstAt: number | undefined;
  let resolveDone: (at: number) => void = () => undefined;
  const done = new Promise<number>((resolve) => { resolveDone = resolve; });
  const ticker = setInterval(() => {
    if (firstAt === undefined) return;
    const seconds = (performance.now() - firstAt) / 1000;
    progress.update(`${options.label} ${fmt(records)}/${fmt(options.count)} indexed  ${fmt(records / seconds)} rec/s`);
  }, 1_000);
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [options.topic], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        if (records >= options.count) return;
        firstAt ??= performance.now();
        const text = options.toDocument === undefined ? (message.value?.toString("utf8") ?? "") : "";
        const document: unknown = options.toDocument !== undefined && message.value !== null ? options.toDocument(message.value) : text.startsWith("{") ? JSON.parse(text) : { message: text };
        await es.index({ index: options.index, document });
        records++;
        if (records === options.count) resolveDone(performance.now());
      },
    });
    const timeout = new Promise<never>((_, reject) => {
      setTimeout(() => { reject(new Error(`${options.label} timed out at ${fmt(records)} records`)); }, options.timeoutMs).unref();
    });
    const finishedAt = await Promise.race([done, timeout]);
    const seconds = (finishedAt - (firstAt ?? finishedAt)) / 1000;
    return { records, seconds, recordsPerSecond: records / seconds };
  } finally {
    clearInterval(ticker);
    await consumer.disconnect();
    await es.close();
  }
}
