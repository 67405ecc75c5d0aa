import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { KafkaRecord } from "../../../../src/pipeline/record.ts";
import { fixedFormats, type RecordFormat } from "../../../../src/pipeline/schemas/record-format.ts";
import { SchemaCache } from "../../../../src/pipeline/schemas/schema-cache.ts";
import { SchemaGate, type SchemaFetchOutcome } from "../../../../src/pipeline/schemas/schema-gate.ts";
import type { SchemaReader } from "../../../../src/pipeline/schemas/schema-reader.ts";
import { frameHeader } from "../../../../src/pipeline/schemas/wire-format.ts";

describe("schema cache", () => {
  test("bounded; evicts entries not read since the last sweep first", () => {
    const cache = new SchemaCache<string>(3);
    cache.set(1, "a");
    cache.set(2, "b");
    cache.set(3, "c");
    assert.equal(cache.get(1), "a");
    assert.equal(cache.get(3), "c");
    assert.equal(cache.set(4, "d"), 2, "2 was not read: it goes");
    assert.equal(cache.size, 3);
    assert.equal(cache.get(2), undefined);
    cache.get(4);
    assert.equal(cache.set(5, "e"), 1, "then the oldest of those whose second chance is spent");
    assert.deepEqual([1, 2, 3, 4, 5].map((id) => cache.has(id)), [false, false, true, true, true]);
    assert.equal(cache.set(3, "c2"), undefined, "replacing evicts nothing");
    assert.throws(() => new SchemaCache(0), /positive integer/);
  });
});

interface Item {
  readonly record: KafkaRecord;
  readonly n: number;
}

function item(n: number, value: Buffer | null, key: Buffer | null = null, topic = "t"): Item {
  return { n, record: { topic, partition: 0, offset: String(n), timestamp: 0, key, value, headers: {}, size: 1 } };
}

const reader = (id: number): SchemaReader => ({ format: "avro", read: () => ({ id }) });

/** A registry stand-in whose answers the test settles by hand. */
function harness(options: { value?: RecordFormat; key?: RecordFormat } = {}) {
  const loads: { id: number; resolve: (r: SchemaReader) => void; reject: (e: unknown) => void }[] = [];
  const outcomes: SchemaFetchOutcome[] = [];
  const awaiting: number[] = [];
  const resumed: number[] = [];
  const gate = new SchemaGate<Item>({
    formats: fixedFormats({ valueFormat: options.value ?? "avro", keyFormat: options.key ?? "json" }),
    load: (id) => new Promise<SchemaReader>((resolve, reject) => loads.push({ id, resolve, reject })),
    recordOf: (i) => i.record,
    cacheSize: 16,
    retryDelayMs: (attempt) => 100 * 2 ** attempt,
    observer: { schemaFetched: (o) => outcomes.push(o), recordsAwaitingSchema: (n) => awaiting.push(n), schemasCached: () => undefined },
  });
  gate.onResume((items) => resumed.push(...items.map((i) => i.n)));
  return { gate, loads, outcomes, awaiting, resumed };
}

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe("schema gate", () => {
  test("records without a frame or with a cached schema pass; the others wait, one fetch per id", async () => {
    const h = harness();
    assert.equal(h.gate.admit(item(0, Buffer.from("{}"))), true, "not framed: the decoder says what is wrong");
    assert.equal(h.gate.admit(item(1, null)), true, "a tombstone");
    assert.equal(h.gate.admit(item(2, frameHeader(7))), false);
    assert.equal(h.gate.admit(item(3, frameHeader(7))), false);
    assert.equal(h.gate.admit(item(4, frameHeader(8))), false);
    assert.deepEqual(h.loads.map((l) => l.id), [7, 8], "one fetch per id");
    assert.equal(h.gate.held, 3);
    h.loads[0]?.resolve(reader(7));
    await flush();
    assert.deepEqual(h.resumed, [2, 3]);
    assert.equal(h.gate.held, 1);
    assert.ok(h.gate.reader(7) !== undefined);
    assert.equal(h.gate.admit(item(5, frameHeader(7))), true, "cached now");
    assert.deepEqual(h.awaiting, [1, 2, 3, 1]);
  });

  test("a failed fetch is retried with backoff for as long as records wait; they are never dropped", async (t) => {
    t.mock.timers.enable({ apis: ["setTimeout"] });
    const h = harness();
    h.gate.admit(item(1, frameHeader(7)));
    h.loads[0]?.reject(Object.assign(new Error("ECONNREFUSED"), { notFound: false }));
    await flush();
    assert.deepEqual(h.outcomes, ["error"]);
    assert.equal(h.loads.length, 1);
    t.mock.timers.tick(99);
    assert.equal(h.loads.length, 1, "not before the backoff");
    t.mock.timers.tick(1);
    assert.equal(h.loads.length, 2, "fetched again after it");
    h.loads[1]?.reject(Object.assign(new Error("no such id"), { notFound: true }));
    await flush();
    t.mock.timers.tick(199);
    assert.equal(h.loads.length, 2, "the delay doubled");
    t.mock.timers.tick(1);
    h.loads[2]?.resolve(reader(7));
    await flush();
    assert.deepEqual(h.outcomes, ["error", "not_found", "success"]);
    assert.deepEqual(h.resumed, [1], "the record was held throughout, then handed back");
  });

  test("auto: an id the registry does not know releases its records (read as JSON then); strict formats keep waiting", async () => {
    const auto = harness({ value: "auto" });
    auto.gate.admit(item(1, frameHeader(7)));
    auto.loads[0]?.reject(Object.assign(new Error("404"), { notFound: true }));
    await flush();
    assert.deepEqual(auto.resumed, [1]);
    assert.equal(auto.gate.admit(item(2, frameHeader(7))), true, "remembered for a while");
    assert.equal(auto.gate.reader(7), undefined);
    auto.gate.close();

    const strict = harness({ value: "avro" });
    strict.gate.admit(item(1, frameHeader(7)));
    strict.loads[0]?.reject(Object.assign(new Error("404"), { notFound: true }));
    await flush();
    assert.deepEqual(strict.resumed, []);
    assert.equal(strict.gate.held, 1);
    strict.gate.close();
  });

  test("keys need their schema too; json topics never wait", async () => {
    const h = harness({ value: "json", key: "avro" });
    assert.equal(h.gate.admit(item(1, frameHeader(9), frameHeader(9))), false, "the key's schema");
    assert.equal(h.gate.admit(item(2, frameHeader(9), null)), true, "value format json: its frame is not looked at");
    h.loads[0]?.resolve(reader(9));
    await flush();
    assert.deepEqual(h.resumed, [1]);
  });

  test("after close, nothing more is fetched and nothing handed back", async (t) => {
    t.mock.timers.enable({ apis: ["setTimeout"] });
    const h = harness();
    h.gate.admit(item(1, frameHeader(7)));
    h.loads[0]?.reject(new Error("down"));
    await flush();
    h.gate.close();
    t.mock.timers.tick(10_000);
    assert.equal(h.loads.length, 1);
  });
});
