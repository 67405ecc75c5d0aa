import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Kafka } from "kafkajs";
import { DeadLetterProducer, takeBatch } from "../../../../src/source/dead-letter/dead-letter-producer.ts";

describe("dead-letter producer batching", () => {
  test("takes writes up to the record and byte limits, at least one", () => {
    const waiting = [{ bytes: 300 }, { bytes: 300 }, { bytes: 300 }, { bytes: 2000 }, { bytes: 10 }];
    assert.equal(takeBatch(waiting, 10, 700).length, 2, "bytes");
    assert.equal(takeBatch(waiting, 10, 700).length, 1, "the next one would exceed the bytes");
    assert.deepEqual(takeBatch(waiting, 10, 700), [{ bytes: 2000 }], "a larger record goes alone");
    assert.deepEqual(waiting, [{ bytes: 10 }]);
    const many = Array.from({ length: 5 }, () => ({ bytes: 1 }));
    assert.equal(takeBatch(many, 3, 1000).length, 3, "records");
  });
});

describe("dead-letter producer on shutdown", () => {
  /** A kafkajs client whose sends never return (a throttled or unreachable broker); counts disconnects. */
  function stuckKafka(): { kafka: Kafka; sends: number; disconnects: number } {
    const state = { kafka: undefined as unknown as Kafka, sends: 0, disconnects: 0 };
    const producer = {
      connect: () => Promise.resolve(),
      send: () => {
        state.sends += 1;
        return new Promise(() => undefined);
      },
      disconnect: () => {
        state.disconnects += 1;
        return Promise.resolve();
      },
    };
    state.kafka = { producer: () => producer } as unknown as Kafka;
    return state;
  }
  const letter = { key: null, value: Buffer.from("v"), headers: { tags: ["a", "b"] }, timestamp: "1" };

  test("the abort signal fails the write in flight and the ones waiting at once, and refuses new ones", async () => {
    const stuck = stuckKafka();
    const abort = new AbortController();
    const producer = new DeadLetterProducer(stuck.kafka, { topic: "dlq", signal: abort.signal });
    const inFlight = producer.write(letter);
    await new Promise((resolve) => setImmediate(resolve));
    const waiting = producer.write(letter);
    assert.equal(stuck.sends, 1, "one send in flight, the second write waits for it");
    abort.abort();
    await assert.rejects(inFlight, /abandoned: stopping/);
    await assert.rejects(waiting, /abandoned: stopping/);
    await assert.rejects(producer.write(letter), /closed/);
    await producer.close();
    assert.equal(stuck.disconnects, 1);
  });

  test("close fails a write in flight too", async () => {
    const stuck = stuckKafka();
    const producer = new DeadLetterProducer(stuck.kafka, { topic: "dlq" });
    const inFlight = producer.write(letter);
    await new Promise((resolve) => setImmediate(resolve));
    await producer.close();
    await assert.rejects(inFlight, /closed/);
  });
});
