import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { PendingDocument } from "../../../src/pipeline/document.ts";
import type { BulkFunction } from "../../../src/sink/bulk-client.ts";
import type { BulkResponseBody } from "../../../src/sink/bulk-response.ts";
import { createBulkSender } from "../../../src/sink/bulk-sender.ts";
import { createFailurePolicy } from "../../../src/sink/failure-policy.ts";
import { PartitionHolds } from "../../../src/sink/partition-holds.ts";
import { idsOf, record, recorder, response, seeded } from "./fixtures.ts";

/** Documents of topics "a" and "b" whose acks and give-backs are counted per id. */
class Tracked {
  readonly acked = new Map<string, number>();
  readonly givenBack = new Map<string, number>();

  make(topic: string, offset: number): PendingDocument {
    const id = `${topic}${String(offset)}`;
    const count = (map: Map<string, number>) => (): void => {
      map.set(id, (map.get(id) ?? 0) + 1);
    };
    return { action: { op: "index", index: topic, id, source: "{}" }, origin: record(offset, "{}", topic), ack: count(this.acked), giveBack: count(this.givenBack) };
  }
}

/** Index "a" is closed while `closed()` says so; everything else is indexed. */
function closableBulk(closed: () => boolean): { bulk: BulkFunction; calls: string[][] } {
  const calls: string[][] = [];
  const bulk: BulkFunction = (body): Promise<BulkResponseBody> => {
    const ids = idsOf(body);
    calls.push(ids);
    return Promise.resolve(response(ids.map((id) => (id.startsWith("a") && closed() ? { status: 400, type: "index_closed_exception" } : { status: 201 }))));
  };
  return { bulk, calls };
}

function setup(closed: () => boolean, holdMaxMs = 0) {
  const { observer, logger, recorded } = recorder();
  let now = 0;
  const holds = new PartitionHolds({ probeInitialMs: 1000, probeMaxMs: 8000, holdMaxMs }, { logger, now: () => now, random: () => 0.5 });
  const { bulk, calls } = closableBulk(closed);
  const send = createBulkSender({
    bulk, failurePolicy: createFailurePolicy("skip", { observer, logger }), retry: { retryInitialMs: 100, retryMaxMs: 1000 },
    observer, logger, random: seeded(1), sleep: () => Promise.resolve(), holds,
  });
  return { send, holds, calls, recorded, advance: (ms: number) => { now += ms; } };
}

const signal = new AbortController().signal;

describe("bulk sender with held partitions", () => {
  test("records refused for an operator reason are given back at once and hold their partition; the others are acked", async () => {
    const docs = new Tracked();
    const { send, holds, calls } = setup(() => true);
    const result = await send([docs.make("a", 1), docs.make("b", 1), docs.make("a", 2), docs.make("b", 2)], signal);
    assert.deepEqual(result, { kind: "settled" });
    assert.equal(calls.length, 1, "nothing is retried in the slot");
    assert.deepEqual([...docs.acked.keys()].sort(), ["b1", "b2"]);
    assert.deepEqual([...docs.givenBack.keys()].sort(), ["a1", "a2"]);
    assert.equal(holds.get("a", 0)?.firstOffset, "1");
    assert.equal(holds.isHeld("b", 0), false);
  });

  test("documents of a held partition are given back without being sent", async () => {
    const docs = new Tracked();
    const { send, calls } = setup(() => true);
    await send([docs.make("a", 1)], signal);
    await send([docs.make("a", 2), docs.make("b", 3)], signal);
    assert.deepEqual(calls, [["a1"], ["b3"]]);
    assert.equal(docs.givenBack.get("a2"), 1);
    assert.equal(docs.acked.get("a2"), undefined);
  });

  test("records of a partition no longer owned leave the slot at once: given back, not sent, not acked", async () => {
    const docs = new Tracked();
    const { send, holds, calls } = setup(() => false);
    holds.retain([{ topic: "b", partition: 0 }]);
    await send([docs.make("a", 1), docs.make("b", 1)], signal);
    assert.deepEqual(calls, [["b1"]]);
    assert.equal(docs.givenBack.get("a1"), 1);
    assert.equal(docs.acked.get("a1"), undefined);
    holds.retain([{ topic: "a", partition: 0 }, { topic: "b", partition: 0 }]);
    await send([docs.make("a", 2)], signal);
    assert.deepEqual(calls, [["b1"], ["a2"]], "owned again: sent");
  });

  test("while probing, a written record releases the hold", async () => {
    let closed = true;
    const docs = new Tracked();
    const { send, holds, advance } = setup(() => closed);
    const changes: string[] = [];
    holds.onChange((c) => changes.push(c.kind));
    await send([docs.make("a", 1)], signal);
    advance(1000);
    // The timer would do this; the test drives the clock by hand.
    holds.checkDue();
    assert.deepEqual(changes, ["held", "probing"]);
    closed = false;
    await send([docs.make("a", 1)], signal);
    assert.deepEqual(changes, ["held", "probing", "released"]);
    assert.equal(holds.active, false);
    holds.close();
  });

  test("a rejected record whose dead-letter write fails holds its partition; the others go on", async () => {
    const docs = new Tracked();
    const { observer, logger } = recorder();
    const holds = new PartitionHolds({ probeInitialMs: 1000, probeMaxMs: 8000, holdMaxMs: 0 }, { logger });
    let writable = false;
    const failurePolicy = createFailurePolicy("dlq", {
      observer, logger,
      deadLetter: { writer: { write: () => (writable ? Promise.resolve() : Promise.reject(new Error("UNKNOWN_TOPIC_OR_PARTITION"))) }, retry: { retryInitialMs: 1, retryMaxMs: 1 } },
    });
    const bulk: BulkFunction = (body) =>
      Promise.resolve(response(idsOf(body).map((id) => (id.startsWith("a") ? { status: 400, type: "document_parsing_exception" } : { status: 201 }))));
    const send = createBulkSender({ bulk, failurePolicy, retry: { retryInitialMs: 100, retryMaxMs: 1000 }, observer, logger, holds });
    assert.deepEqual(await send([docs.make("a", 1), docs.make("b", 1)], signal), { kind: "settled" });
    assert.equal(docs.givenBack.get("a1"), 1);
    assert.equal(docs.acked.get("b1"), 1);
    assert.equal(holds.get("a", 0)?.reason, "dead_letter_unwritable");
    holds.close();
    writable = true;
    const other = new PartitionHolds({ probeInitialMs: 1000, probeMaxMs: 8000, holdMaxMs: 0 }, { logger });
    const again = createBulkSender({ bulk, failurePolicy, retry: { retryInitialMs: 100, retryMaxMs: 1000 }, observer, logger, holds: other });
    await again([docs.make("a", 1)], signal);
    assert.equal(docs.acked.get("a1"), 1, "dead-lettered once the topic can be written");
  });

  test("past HOLD_MAX_MS, refused records take the failure policy with the hold's duration in the reason", async () => {
    const docs = new Tracked();
    const { send, holds, advance, recorded } = setup(() => true, 2000);
    await send([docs.make("a", 1)], signal);
    advance(2000);
    holds.checkDue();
    assert.equal(holds.isExpired("a", 0), true);
    await send([docs.make("a", 1)], signal);
    assert.equal(docs.acked.get("a1"), 1, "skipped by the failure policy");
    const skipped = recorded.calls.find((c) => c.method === "documentRejected");
    assert.match(JSON.stringify(skipped?.args), /held_index_closed_exception/);
    assert.match(JSON.stringify(skipped?.args), /held 2\.0 s, past HOLD_MAX_MS/);
    holds.close();
  });
});
