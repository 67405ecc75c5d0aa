/**
 * Fault: binary values through a 429 storm with large bulk requests, under the
 * launchers' heap flags (issue 17, item 3). 3,000 records of 16 KiB that are not UTF-8
 * (Avro or compressed blobs without a decoder), BULK_MAX_BYTES=15 MiB, Elasticsearch
 * answering every bulk request 429 for 20 s while the worker reads the backlog. Before,
 * a binary value became a JavaScript string of its text and base64 as soon as it was
 * batched (about 4.5 heap bytes per payload byte, held through every retry): two
 * workers' 15 MiB of such records passed the 64 MiB old space ("JavaScript heap out of
 * memory"). Now the value stays the record's Buffer until the bulk body is written,
 * and the backlog drains: every record once, committed == end, documents unchanged.
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { countDocuments, getSource } from "../support/elasticsearch.ts";
import { ES_NODE, waitFor } from "../support/env.ts";
import { faultProxyPort, startEsFaultProxy } from "../support/es-fault-proxy.ts";
import { drainedOrFail } from "../support/drain-checks.ts";
import { suiteFixture } from "../support/fixture.ts";
import { createTopics, produce } from "../support/kafka.ts";
import { modelAgainstPeak, parseGcTrace, plannedHeapOf, TRACED_NODE_FLAGS } from "../support/gc-trace.ts";
import { WORKER_ENTRY, WorkerProcess, withWorkers } from "../support/worker.ts";

const N = 3_000;
const PARTITIONS = 4;
const VALUE_BYTES = 16 * 1024;
const MIB = 2 ** 20;
const STORM_MS = 20_000;

/** 16 KiB of text with one byte that is not UTF-8 in it: a binary value to the decoder. */
function binaryValue(i: number): Buffer {
  const value = Buffer.alloc(VALUE_BYTES, 0x61 + (i % 26));
  value.write(String(i), 0, "latin1");
  value[VALUE_BYTES - 1] = 0xff;
  return value;
}

describe("fault: 16 KiB binary records through a 429 storm with 15 MiB bulk requests", () => {
  const { es, name: topic, groupId } = suiteFixture("fault-binary-storm");

  test("binary values are held as bytes: the backlog drains through the storm, every record once", async (t) => {
    const proxy = await startEsFaultProxy({ target: ES_NODE, port: faultProxyPort(ES_NODE), seed: 17 });
    after(() => proxy.close());
    let worker: WorkerProcess | undefined;
    await withWorkers(() => [worker], async () => {
      await createTopics([topic], PARTITIONS, { "retention.ms": "-1" });
      // 50 records of 16 KiB per partition per request: under the broker's 1 MiB batch limit.
      await produce(topic, N, (i) => ({ value: binaryValue(i) }), PARTITIONS, 200);
      proxy.schedule([{ durationMs: STORM_MS, requestStatus: 429 }]);
      const w = new WorkerProcess({ KAFKA_TOPICS: topic, KAFKA_GROUP_ID: groupId, ES_NODE: proxy.url, BULK_MAX_BYTES: String(15 * MIB) }, ["start"], "worker", WORKER_ENTRY, TRACED_NODE_FLAGS);
      worker = w;
      const peak = await drainedOrFail(w, groupId, topic, 300_000);
      assert.ok(proxy.stats.injectedRequests["429"] > 0, "the storm refused bulk requests");
      await es.indices.refresh({ index: topic });
      await waitFor("every record indexed once", async () => ((await countDocuments(es, topic)) === N ? true : undefined), 60_000, 1_000);
      const doc = await getSource(es, topic, `${topic}-1-1`);
      assert.deepEqual(Buffer.from(String(doc?.message_base64), "base64"), binaryValue(1 * PARTITIONS + 1), "the document keeps the bytes in base64");
      assert.equal(typeof doc?.message, "string");
      t.diagnostic(`${String(N)} binary records of ${String(VALUE_BYTES)} bytes; ${String(proxy.stats.injectedRequests["429"])} bulk requests answered 429 over ${String(STORM_MS)} ms; worker peak RSS ${peak.toFixed(0)} MiB`);
      assert.equal((await w.stop()).code, 0);
      // The model's start-up plan beside the heap the collector saw (issue 17: the model is a tight upper bound).
      t.diagnostic(modelAgainstPeak(plannedHeapOf(w.logs), parseGcTrace(w.stderr)));
    });
  });
});
