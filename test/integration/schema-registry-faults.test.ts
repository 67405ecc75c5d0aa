/**
 * The schema registry's failures and records that do not decode:
 * - registry stopped: records whose schema is cached keep being indexed; records whose
 *   schema is not wait (unacknowledged: the committed offset never passes the first of
 *   them) and are indexed once the registry is back;
 * - a schema id the registry does not know: the record waits and its fetch is retried,
 *   it is never dead-lettered (the registry is at fault, not the record);
 * - records that do not decode against their schema, are not framed, or are framed with
 *   a schema of another format: the failure policy (here the dead-letter topic), with
 *   error.type saying why.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Client } from "@elastic/elasticsearch";
import { readTopic } from "../support/dead-letters.ts";
import { countDocuments, getSource } from "../support/elasticsearch.ts";
import { REGISTRY_URL, waitFor } from "../support/env.ts";
import { suiteFixture } from "../support/fixture.ts";
import { committedOffsets, createTopics, produce, waitForCommittedAtEnd, withAdmin, type ProducedRecord } from "../support/kafka.ts";
import { avroWriter, protobufWriter } from "../support/registry.ts";
import { startRegistry, stopRegistry } from "../support/services.ts";
import { WorkerProcess, withWorkers } from "../support/worker.ts";
import { frameHeader } from "../../src/pipeline/schemas/wire-format.ts";

const PING = { type: "record", name: "Ping", namespace: "faults", fields: [{ name: "n", type: "int" }, { name: "at", type: { type: "long", logicalType: "timestamp-millis" } }] };
const PONG = { type: "record", name: "Pong", namespace: "faults", fields: [{ name: "n", type: "int" }, { name: "label", type: "string" }] };
const AT = Date.UTC(2026, 0, 2);

/** The worker's settings: registry retries every few hundred ms, commits every 200 ms. */
function workerEnv(topic: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    KAFKA_TOPICS: topic,
    KAFKA_GROUP_ID: `${topic}-group`,
    VALUE_FORMAT: "avro",
    SCHEMA_REGISTRY_URL: REGISTRY_URL,
    SCHEMA_REGISTRY_REQUEST_TIMEOUT_MS: "2000",
    BULK_RETRY_INITIAL_MS: "200",
    BULK_RETRY_MAX_MS: "1000",
    KAFKA_COMMIT_INTERVAL_MS: "200",
    ...extra,
  };
}

async function committed(groupId: string, topic: string): Promise<bigint> {
  return (await withAdmin((admin) => committedOffsets(admin, groupId, topic))).get(0) ?? -1n;
}

async function indexed(es: Client, topic: string, expected: number): Promise<void> {
  await waitFor(`${String(expected)} documents in ${topic}`, async () => ((await countDocuments(es, topic)) === expected ? true : undefined), 90_000, 500);
}

describe("schema registry faults", () => {
  const { es, name } = suiteFixture("schema-faults", { restartsRegistry: true });

  test("registry down: cached schemas keep flowing, uncached ones wait below the commit and are indexed once it is back", async (t) => {
    const topic = `${name}-outage`;
    const groupId = `${topic}-group`;
    const ping = await avroWriter(`${topic}-value`, PING);
    // Registered now, first needed while the registry is down.
    const pong = await avroWriter(`${topic}-pong-value`, PONG);
    await createTopics([topic], 1);
    const BEFORE = 10;
    await produce(topic, BEFORE, (i): ProducedRecord => ({ value: ping.encode({ n: i, at: AT + i }) }), 1);
    let worker: WorkerProcess | undefined;
    await withWorkers(() => [worker], async () => {
        const w = new WorkerProcess(workerEnv(topic));
        worker = w;
        await w.ready();
        await indexed(es, topic, BEFORE);

        await stopRegistry();
        // 20 more: every fifth is a Pong (schema not cached), the first at offset BEFORE.
        const DURING = 20;
        const isPong = (i: number): boolean => i % 5 === 0;
        await produce(topic, DURING, (i): ProducedRecord => ({ value: isPong(i) ? pong.encode({ n: i, label: `pong ${String(i)}` }) : ping.encode({ n: i, at: AT + i }) }), 1);
        const pongs = Array.from({ length: DURING }, (_, i) => i).filter(isPong).length;
        await indexed(es, topic, BEFORE + DURING - pongs);
        // Fetches keep failing and being retried (three more from here: seconds, many commit
        // intervals); meanwhile the commit stays below the first Pong.
        const failedSoFar = await w.metric("kafka_es_transfer_schema_fetches_total", { outcome: "error" });
        let checks = 0;
        await waitFor("three more failed schema fetches", async () => {
          const offset = await committed(groupId, topic);
          assert.ok(offset <= BigInt(BEFORE), `committed ${String(offset)} passed the waiting record at ${String(BEFORE)}`);
          checks++;
          return (await w.metric("kafka_es_transfer_schema_fetches_total", { outcome: "error" })) >= failedSoFar + 3 ? true : undefined;
        }, 60_000, 300);
        assert.equal(await w.metric("kafka_es_transfer_records_awaiting_schema"), pongs, "the Pong records wait");
        assert.equal(await w.metric("kafka_es_transfer_records_rejected_total"), 0, "nothing rejected");
        assert.equal(await getSource(es, topic, `${topic}-0-${String(BEFORE)}`), undefined);
        assert.ok(w.logs.some((l) => l.level === "warn" && l.msg.startsWith(`schema registry: schema ${String(pong.id)} not fetched`)), "the wait is logged");
        t.diagnostic(`committed stayed <= ${String(BEFORE)} over ${String(checks)} checks while ${String(pongs)} records waited`);

        await startRegistry();
        await waitForCommittedAtEnd(groupId, [topic], 90_000);
        await indexed(es, topic, BEFORE + DURING);
        assert.deepEqual(await getSource(es, topic, `${topic}-0-${String(BEFORE + 5)}`), { "@timestamp": (await getSource(es, topic, `${topic}-0-${String(BEFORE + 5)}`))?.["@timestamp"], n: 5, label: "pong 5" });
        assert.equal(await w.metric("kafka_es_transfer_records_awaiting_schema"), 0);
        assert.equal((await w.stop()).code, 0);
    });
  });

  test("a schema id the registry does not know: the record waits, its fetch is retried, it is not dead-lettered", async () => {
    const topic = `${name}-unknown`;
    const groupId = `${topic}-group`;
    const ping = await avroWriter(`${topic}-value`, PING);
    const UNKNOWN_AT = 3;
    const N = 8;
    const unknown = Buffer.concat([frameHeader(2_000_000_000), Buffer.from([2, 4])]);
    await createTopics([topic], 1);
    await produce(topic, N, (i): ProducedRecord => ({ value: i === UNKNOWN_AT ? unknown : ping.encode({ n: i, at: AT + i }) }), 1);
    let worker: WorkerProcess | undefined;
    await withWorkers(() => [worker], async () => {
      const w = new WorkerProcess(workerEnv(topic, { ON_PERMANENT_ERROR: "skip" }));
      worker = w;
      await w.ready();
      await indexed(es, topic, N - 1);
      await waitFor("the unknown id asked for three times", async () => ((await w.metric("kafka_es_transfer_schema_fetches_total", { outcome: "not_found" })) >= 3 ? true : undefined), 60_000, 300);
      assert.equal(await w.metric("kafka_es_transfer_records_awaiting_schema"), 1);
      assert.equal(await w.metric("kafka_es_transfer_records_rejected_total"), 0, "not rejected");
      assert.equal(await w.metric("kafka_es_transfer_records_settled_total", { outcome: "dropped" }), 0, "not skipped");
      const offset = await committed(groupId, topic);
      assert.ok(offset <= BigInt(UNKNOWN_AT), `committed ${String(offset)} must not pass the record at ${String(UNKNOWN_AT)}`);
      assert.ok(w.logs.some((l) => l.level === "warn" && l.msg.includes("the registry does not know this id")));
      assert.equal((await w.stop()).code, 0);
    });
  });

  test("records that do not decode take the failure policy with error.type saying why", async () => {
    const topic = `${name}-bad`;
    const dlq = `${topic}-dlq`;
    const ping = await avroWriter(`${topic}-value`, PING);
    const proto = await protobufWriter(`${topic}-proto-value`, 'syntax = "proto3";\nmessage P { int32 n = 1; }', "P");
    const good = (i: number): Buffer => ping.encode({ n: i, at: AT + i });
    const bad: Record<number, { value: Buffer; type: string }> = {
      1: { value: good(1).subarray(0, 6), type: "avro_decode_error" },
      3: { value: Buffer.from('{"n": 3}'), type: "schema_wire_format_error" },
      5: { value: proto.encode({ n: 5 }), type: "schema_type_mismatch" },
      6: { value: Buffer.concat([good(6), Buffer.from([1, 2, 3])]), type: "avro_decode_error" },
    };
    const N = 8;
    await createTopics([topic, dlq], 1);
    await produce(topic, N, (i): ProducedRecord => ({ value: bad[i]?.value ?? good(i) }), 1);
    let worker: WorkerProcess | undefined;
    await withWorkers(() => [worker], async () => {
      const w = new WorkerProcess(workerEnv(topic, { DLQ_TOPIC: dlq }));
      worker = w;
      await w.ready();
      await waitForCommittedAtEnd(`${topic}-group`, [topic], 90_000);
      assert.equal(await countDocuments(es, topic), N - Object.keys(bad).length);
      // Dead-lettered in the order their schemas were resolved: compare by source offset.
      const letters = (await readTopic(dlq)).sort((a, b) => Number(a.headers["source.offset"]) - Number(b.headers["source.offset"]));
      assert.deepEqual(letters.map((l) => [l.headers["source.offset"], l.headers["error.type"]]), Object.entries(bad).map(([offset, b]) => [offset, b.type]));
      for (const letter of letters) {
        const offset = Number(letter.headers["source.offset"]);
        assert.deepEqual(letter.value, bad[offset]?.value, "the record's own bytes");
        assert.equal(letter.headers["error.status"], "0");
      }
      assert.match(letters[0]?.headers["error.reason"] ?? "", /^value \(schema \d+\) does not decode against its Avro schema/);
      assert.match(letters[2]?.headers["error.reason"] ?? "", /is a protobuf schema; the topic is configured for avro/);
      assert.equal(await w.metric("kafka_es_transfer_records_dead_lettered_total", { reason: "avro_decode_error" }), 2);
      assert.equal((await w.stop()).code, 0);
    });
  });
});
