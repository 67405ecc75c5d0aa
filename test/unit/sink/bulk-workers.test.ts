import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { RecordDecodeError, RecordRejectedError } from "../../../src/errors.ts";
import { createFailurePolicy } from "../../../src/sink/failure-policy.ts";
import { PartitionHolds } from "../../../src/sink/partition-holds.ts";
import { BoundedQueue } from "../../../src/pipeline/bounded-queue.ts";
import type { KafkaRecord, QueuedRecord } from "../../../src/pipeline/record.ts";
import type { BulkFunction } from "../../../src/sink/bulk-client.ts";
import type { BulkResponseBody } from "../../../src/sink/bulk-response.ts";
import { startBulkWorkers, type BulkWorkersOptions, type DecodeResult, type RecordGate } from "../../../src/sink/bulk-workers.ts";
import { idsOf, record, recorder, response, seeded } from "./fixtures.ts";

const baseOptions: BulkWorkersOptions = {
  workers: 2,
  maxDocuments: 10,
  maxBytes: 1_000_000,
  lingerMs: 5,
  retryInitialMs: 1,
  retryMaxMs: 5,
  failurePolicy: "skip",
};

function decode(r: KafkaRecord): DecodeResult {
  if (r.value === null) return { kind: "skip", reason: "null value" };
  const text = r.value.toString();
  if (text === "throw") throw new Error("decoder bug");
  return { kind: "document", action: { op: "index", index: r.topic, id: `${r.topic}-${r.offset}`, source: text } };
}

function setup(count: number, values: (i: number) => string | null = (i) => `{"n":${i}}`) {
  const queue = new BoundedQueue<QueuedRecord>({ maxRecords: 10_000, maxBytes: 1e9, lowWatermarkRatio: 0.5 }, (q) => q.record.size);
  const acks = new Map<string, number>();
  const items: QueuedRecord[] = Array.from({ length: count }, (_, i) => {
    const r = record(i, values(i));
    return { record: r, ack: () => acks.set(r.offset, (acks.get(r.offset) ?? 0) + 1) };
  });
  queue.push(items);
  return { queue, acks };
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const started = performance.now();
  while (!condition()) {
    if (performance.now() - started > timeoutMs) throw new Error("condition not met in time");
    await delay(2);
  }
}

function okBulk(calls: string[][]): BulkFunction {
  return (body): Promise<BulkResponseBody> => {
    const ids = idsOf(body);
    calls.push(ids);
    return Promise.resolve(response(ids.map(() => ({ status: 201 }))));
  };
}

describe("bulk workers", () => {
  test("every record is decoded, batched, indexed, acked once and released from the queue", async () => {
    const { queue, acks } = setup(45);
    const calls: string[][] = [];
    const { observer, recorded } = recorder();
    const workers = startBulkWorkers({ queue, decode, client: okBulk(calls), options: baseOptions, observer, signal: new AbortController().signal });
    await queue.drained();
    await workers.stop();
    assert.equal(acks.size, 45);
    assert.ok([...acks.values()].every((n) => n === 1));
    assert.equal(queue.outstanding, 0);
    assert.ok(calls.every((ids) => ids.length <= 10));
    assert.equal(calls.flat().length, 45);
    assert.equal(recorded.count("recordAcked"), 45);
  });

  test("skipped records are acked at once and never sent", async () => {
    const { queue, acks } = setup(6, (i) => (i % 2 === 0 ? null : `{"n":${i}}`));
    const calls: string[][] = [];
    const { observer, recorded } = recorder();
    const workers = startBulkWorkers({ queue, decode, client: okBulk(calls), options: baseOptions, observer, signal: new AbortController().signal });
    await queue.drained();
    await workers.stop();
    assert.deepEqual(calls.flat().sort(), ["t-1", "t-3", "t-5"]);
    assert.equal(acks.size, 6);
    assert.equal(recorded.count("recordSkipped"), 3);
  });

  test("a record the gate holds waits, keeps its budget and blocks nothing; once handed back it is indexed", async () => {
    const { queue, acks } = setup(6);
    const calls: string[][] = [];
    let resume: (items: QueuedRecord[]) => void = () => undefined;
    const held: QueuedRecord[] = [];
    const gate: RecordGate<QueuedRecord> = {
      admit: (item) => {
        if (item.record.offset !== "2" || held.includes(item)) return true;
        held.push(item);
        return false;
      },
      onResume: (fn) => {
        resume = fn;
      },
    };
    const workers = startBulkWorkers({ queue, decode, client: okBulk(calls), options: baseOptions, gate, signal: new AbortController().signal });
    await until(() => acks.size === 5);
    assert.equal(acks.has("2"), false, "the held record is not acked");
    assert.equal(queue.outstanding, 1, "and keeps its place in the budget");
    resume(held);
    await queue.drained();
    await workers.stop();
    assert.equal(acks.get("2"), 1);
    assert.deepEqual(calls.flat().sort(), ["t-0", "t-1", "t-2", "t-3", "t-4", "t-5"]);
  });

  test("a RecordDecodeError's type reaches the failure policy", async () => {
    const { queue } = setup(1);
    const { observer, recorded } = recorder();
    const failing = (): DecodeResult => {
      throw new RecordDecodeError("avro_decode_error", "value (schema 3) does not decode");
    };
    const workers = startBulkWorkers({ queue, decode: failing, client: okBulk([]), options: baseOptions, observer, signal: new AbortController().signal });
    await queue.drained();
    await workers.stop();
    const rejected = recorded.calls.find((c) => c.method === "documentRejected")?.args[0] as { errorType?: string } | undefined;
    assert.equal(rejected?.errorType, "avro_decode_error");
  });

  test("a record that cannot be decoded nor dead-lettered holds its partition: budget given back, not acked", async () => {
    const { queue, acks } = setup(1);
    const { observer, logger } = recorder();
    const holds = new PartitionHolds({ probeInitialMs: 60_000, probeMaxMs: 60_000, holdMaxMs: 0 }, { logger });
    const failurePolicy = createFailurePolicy("dlq", {
      observer, logger,
      deadLetter: { writer: { write: () => Promise.reject(new Error("UNKNOWN_TOPIC_OR_PARTITION")) }, retry: { retryInitialMs: 1, retryMaxMs: 1 } },
    });
    const failing = (): DecodeResult => {
      throw new RecordDecodeError("avro_decode_error", "value (schema 3) does not decode");
    };
    const workers = startBulkWorkers({ queue, decode: failing, client: okBulk([]), options: baseOptions, observer, failurePolicy, holds, signal: new AbortController().signal });
    await queue.drained();
    await workers.stop();
    holds.close();
    assert.equal(acks.get("0"), undefined);
    assert.equal(holds.get("t", 0)?.reason, "dead_letter_unwritable");
  });

  test("a record the decoder throws on goes to the failure policy", async () => {
    const { queue, acks } = setup(3, (i) => (i === 1 ? "throw" : "{}"));
    const calls: string[][] = [];
    const { observer, recorded } = recorder();
    const workers = startBulkWorkers({ queue, decode, client: okBulk(calls), options: baseOptions, observer, signal: new AbortController().signal });
    await queue.drained();
    await workers.stop();
    assert.equal(acks.get("1"), 1);
    assert.equal(recorded.count("documentRejected"), 1);
    assert.equal(calls.flat().length, 2);
  });

  test("at most `workers` requests in flight (fixed concurrency), and records wait in the queue meanwhile", async () => {
    const { queue, acks } = setup(200);
    let active = 0;
    let maxActive = 0;
    const gates: (() => void)[] = [];
    const bulk: BulkFunction = async (body) => {
      active++;
      maxActive = Math.max(maxActive, active);
      await new Promise<void>((resolve) => gates.push(resolve));
      active--;
      return response(idsOf(body).map(() => ({ status: 201 })));
    };
    const options = { ...baseOptions, adaptiveConcurrency: false };
    const workers = startBulkWorkers({ queue, decode, client: bulk, options, signal: new AbortController().signal });
    await until(() => gates.length === 2);
    await delay(30);
    assert.equal(maxActive, 2);
    assert.equal(workers.inFlight, 2);
    // Two batches in flight, at most about one more prepared: the rest is still queued.
    assert.ok(queue.waiting >= 200 - 4 * baseOptions.maxDocuments, `waiting ${queue.waiting}`);
    while (acks.size < 200) {
      gates.shift()?.();
      await delay(1);
    }
    await workers.stop();
    assert.equal(maxActive, 2);
    assert.equal(queue.outstanding, 0);
  });

  test("adaptive concurrency starts at its floor (2) and climbs to `workers` on a server whose latency stays flat", async () => {
    const { queue } = setup(400);
    let active = 0;
    let maxActive = 0;
    const bulk: BulkFunction = async (body) => {
      active++;
      maxActive = Math.max(maxActive, active);
      await delay(10);
      active--;
      return response(idsOf(body).map(() => ({ status: 201 })));
    };
    const { observer, recorded } = recorder();
    const options = { ...baseOptions, workers: 4 };
    const workers = startBulkWorkers({ queue, decode, client: bulk, options, observer, signal: new AbortController().signal });
    assert.equal(workers.concurrencyLimit, 2);
    await queue.drained();
    await workers.stop();
    const limits = recorded.calls.filter((c) => c.method === "concurrencyLimit").map((c) => c.args[0] as number);
    assert.equal(limits[0], 2);
    assert.ok(limits.includes(4), `reaches the ceiling: ${limits.join(",")}`);
    assert.ok(limits.every((l) => l >= 1 && l <= 4));
    assert.ok(maxActive <= 4);
  });

  test("a partial batch goes at once to an idle pipe, and lingers while a request is in flight", async () => {
    const { queue, acks } = setup(3);
    const calls: string[][] = [];
    const gates: (() => void)[] = [];
    const bulk: BulkFunction = async (body) => {
      const ids = idsOf(body);
      calls.push(ids);
      await new Promise<void>((resolve) => gates.push(resolve));
      return response(ids.map(() => ({ status: 201 })));
    };
    const workers = startBulkWorkers({
      queue,
      decode,
      client: bulk,
      // A linger far longer than the test: only Nagle's rule can send these batches.
      options: { ...baseOptions, maxDocuments: 100, lingerMs: 600_000, adaptiveConcurrency: false },
      signal: new AbortController().signal,
    });
    await until(() => calls.length === 1);
    assert.deepEqual(calls[0], ["t-0", "t-1", "t-2"]);
    // Two more records while the first request is in flight: they linger...
    queue.push([3, 4].map((i) => ({ record: record(i), ack: () => acks.set(String(i), 1) })));
    await delay(50);
    assert.equal(calls.length, 1, "a partial batch waits while a request is in flight");
    // ...until the pipe is idle again.
    gates.shift()?.();
    await until(() => calls.length === 2);
    assert.deepEqual(calls[1], ["t-3", "t-4"]);
    gates.shift()?.();
    await until(() => acks.size === 5);
    await workers.stop();
  });

  test("stop sends the partly filled batch and waits for it", async () => {
    const { queue, acks } = setup(3);
    const calls: string[][] = [];
    const workers = startBulkWorkers({
      queue,
      decode,
      client: okBulk(calls),
      options: { ...baseOptions, maxDocuments: 100, lingerMs: 60_000 },
      signal: new AbortController().signal,
    });
    await until(() => queue.waiting === 0);
    await workers.stop();
    assert.equal(acks.size, 3);
    await workers.stop(); // idempotent
  });

  test("policy stop: the pool reports a fatal error and leaves the record unacked", async () => {
    const { queue, acks } = setup(5);
    const bulk: BulkFunction = (body) =>
      Promise.resolve(response(idsOf(body).map((id) => (id === "t-2" ? { status: 400, type: "mapper_parsing_exception" } : { status: 201 }))));
    const workers = startBulkWorkers({ queue, decode, client: bulk, options: { ...baseOptions, failurePolicy: "stop" }, signal: new AbortController().signal });
    const error = await workers.fatal;
    assert.ok(error instanceof RecordRejectedError);
    await workers.stop();
    assert.equal(acks.get("2"), undefined);
    assert.equal(acks.get("1"), 1);
  });

  test("aborting the signal interrupts retries: unsettled records are not acked", async () => {
    const { queue, acks } = setup(4);
    const controller = new AbortController();
    const bulk: BulkFunction = (body) =>
      Promise.resolve(response(idsOf(body).map((id) => (id === "t-3" ? { status: 429 } : { status: 201 }))));
    const workers = startBulkWorkers({
      queue,
      decode,
      client: bulk,
      options: { ...baseOptions, retryInitialMs: 60_000, retryMaxMs: 60_000 },
      signal: controller.signal,
    });
    await until(() => acks.size === 3);
    const started = performance.now();
    controller.abort();
    await workers.stop();
    assert.ok(performance.now() - started < 5000);
    assert.equal(acks.get("3"), undefined);
    assert.equal(queue.outstanding, 1, "the unsettled record keeps its budget");
  });
});

describe("bulk workers: ordered writes (updates)", () => {
  const KEYS = 8;
  const RECORDS = 240;

  /** A store that applies partial updates and deletes in the order it receives them, and refuses ~30% of items with 429. */
  function mergingStore(seed: number) {
    const docs = new Map<string, Record<string, unknown>>();
    const inside = new Map<string, number>();
    const random = seeded(seed);
    let overlap = 0;
    const bulk: BulkFunction = async (body) => {
      const lines = body.toString().split("\n").filter((l) => l !== "");
      const items: { op: string; id: string; doc?: Record<string, unknown> }[] = [];
      for (let i = 0; i < lines.length; i++) {
        const meta = JSON.parse(lines[i] ?? "") as Record<string, { _id: string }>;
        const op = Object.keys(meta)[0] ?? "";
        const id = meta[op]?._id ?? "";
        const doc = op === "update" ? (JSON.parse(lines[++i] ?? "") as { doc: Record<string, unknown> }).doc : undefined;
        items.push({ op, id, ...(doc === undefined ? {} : { doc }) });
      }
      for (const { id } of items) {
        inside.set(id, (inside.get(id) ?? 0) + 1);
        overlap = Math.max(overlap, inside.get(id) ?? 0);
      }
      await delay(Math.floor(random() * 4));
      const results = items.map(({ op, id, doc }) => {
        if (random() < 0.3) return { op, status: 429 };
        if (op === "delete") docs.delete(id);
        else docs.set(id, { ...docs.get(id), ...doc });
        return { op, status: 200 };
      });
      for (const { id } of items) inside.set(id, (inside.get(id) ?? 0) - 1);
      return response(results);
    };
    return { docs, bulk, overlap: () => overlap };
  }

  function update(r: KafkaRecord): DecodeResult {
    const i = Number(r.offset);
    const id = `k${String(i % KEYS)}`;
    if (r.value === null) return { kind: "document", action: { op: "delete", index: "i", id, orderedByKey: true, source: undefined } };
    return { kind: "document", action: { op: "update", index: "i", id, orderedByKey: true, source: `{"doc":${r.value.toString()},"doc_as_upsert":true}` } };
  }

  test("one write per document in flight, applied in offset order, whatever fails and is retried", async () => {
    // Each record sets v (the last one wins) and one of three other fields; every 50th is a tombstone.
    const value = (i: number): string | null => (i % 50 === 49 ? null : JSON.stringify({ v: i, [`f${String(i % 3)}`]: i }));
    const expected = new Map<string, Record<string, unknown>>();
    for (let i = 0; i < RECORDS; i++) {
      const id = `k${String(i % KEYS)}`;
      const v = value(i);
      if (v === null) expected.delete(id);
      else expected.set(id, { ...expected.get(id), ...(JSON.parse(v) as Record<string, unknown>) });
    }
    const { queue, acks } = setup(RECORDS, value);
    const store = mergingStore(11);
    const workers = startBulkWorkers({ queue, decode: update, client: store.bulk, options: { ...baseOptions, workers: 3, maxDocuments: 16 }, signal: new AbortController().signal });
    await until(() => acks.size === RECORDS, 20_000);
    await workers.stop();
    assert.equal(store.overlap(), 1, "never two writes of one document in flight together");
    assert.deepEqual(Object.fromEntries(store.docs), Object.fromEntries(expected), "the store equals the updates applied in offset order");
    assert.equal(queue.outstanding, 0);
  });
});
