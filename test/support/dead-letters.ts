/** Reading a topic back whole (the dead-letter topic), and running `redrive` as a process. */
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import type { IHeaders } from "kafkajs";
import { BROKERS, ES_NODE, ROOT, uniqueName, waitFor } from "./env.ts";
import { endOffsets, testKafka } from "./kafka.ts";
import { WORKER_ENTRY, WORKER_NODE_FLAGS } from "./worker.ts";

export interface ReadRecord {
  readonly partition: number;
  readonly offset: string;
  readonly key: string | null;
  readonly value: Buffer | null;
  readonly timestamp: string;
  readonly headers: Record<string, string>;
}

function headerStrings(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    const last = Array.isArray(value) ? value[value.length - 1] : value;
    if (last !== undefined) out[name] = last.toString();
  }
  return out;
}

/** Every record of `topic` up to its current end offsets, in partition and offset order. */
export async function readTopic(topic: string, timeoutMs = 60_000): Promise<ReadRecord[]> {
  const ends = await endOffsets(topic);
  const total = [...ends.values()].reduce((a, b) => a + Number(b), 0);
  const records: ReadRecord[] = [];
  if (total === 0) return records;
  const consumer = testKafka().consumer({ groupId: uniqueName("reader") });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachMessage: ({ partition, message }) => {
        if (BigInt(message.offset) < (ends.get(partition) ?? 0n)) {
          records.push({
            partition,
            offset: message.offset,
            key: message.key === null ? null : message.key.toString(),
            value: message.value,
            timestamp: message.timestamp,
            headers: headerStrings(message.headers),
          });
        }
        return Promise.resolve();
      },
    });
    await waitFor(`${String(total)} records of ${topic}`, () => (records.length >= total ? true : undefined), timeoutMs, 200);
  } finally {
    await consumer.disconnect();
  }
  return records.sort((a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)));
}

const run = promisify(execFile);

export interface RedriveRun {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number;
}

/** Runs `kafka-es-transfer redrive` to its end with this environment. */
export async function runRedrive(env: Record<string, string>, timeoutMs = 180_000): Promise<RedriveRun> {
  try {
    const { stdout, stderr } = await run(process.execPath, [...WORKER_NODE_FLAGS, path.join(ROOT, WORKER_ENTRY), "redrive"], {
      cwd: ROOT,
      timeout: timeoutMs,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", KAFKA_BROKERS: BROKERS.join(","), ES_NODE, LOG_LEVEL: "warn", ...env },
    });
    return { stdout, stderr, code: 0 };
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string; code?: number };
    return { stdout: failed.stdout ?? "", stderr: failed.stderr ?? "", code: typeof failed.code === "number" ? failed.code : -1 };
  }
}

/** "redriven: 12" -> 12, from the redrive summary. */
export function summaryCount(stdout: string, label: string): number {
  const match = new RegExp(`^\\s*${label}:\\s+(\\d+)`, "m").exec(stdout);
  if (match?.[1] === undefined) throw new Error(`no "${label}" in the redrive summary:\n${stdout}`);
  return Number(match[1]);
}
