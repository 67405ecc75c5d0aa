/**
 * The fault proxy of the fault suite and the benchmark, checked against the real
 * Elasticsearch through the service's own bulk client: injected whole-request 429/503
 * write nothing, injected item 429s are really not written, the rest is, and once the
 * schedule has run out everything passes through.
 */
import assert from "node:assert/strict";
import { Client } from "@elastic/elasticsearch";
import { after, describe, test } from "node:test";
import { createBulkFunction, httpStatus } from "../../src/sink/bulk-client.ts";
import { countDocuments } from "../support/elasticsearch.ts";
import { ES_NODE } from "../support/env.ts";
import { faultProxyPort, startEsFaultProxy } from "../support/es-fault-proxy.ts";
import { suiteFixture } from "../support/fixture.ts";

function bulkBody(index: string, from: number, count: number): string {
  let body = "";
  for (let i = from; i < from + count; i++) body += `${JSON.stringify({ index: { _index: index, _id: String(i) } })}\n${JSON.stringify({ seq: i })}\n`;
  return body;
}

describe("es-fault-proxy", () => {
  const { es, name: index } = suiteFixture("faultproxy");

  test("injects request-level 429/503 and item 429s on schedule, then passes through", async () => {
    const proxy = await startEsFaultProxy({ target: ES_NODE, port: faultProxyPort(ES_NODE), seed: 7 });
    const client = new Client({ node: proxy.url, maxRetries: 0, requestTimeout: 30_000 });
    after(async () => {
      await client.close();
      await proxy.close();
    });
    const bulk = createBulkFunction(client);
    const signal = new AbortController().signal;

    proxy.schedule([{ durationMs: 60_000, requestStatus: 503 }]);
    await assert.rejects(bulk(bulkBody(index, 0, 10), signal), (error) => httpStatus(error) === 503);
    proxy.schedule([{ durationMs: 60_000, requestStatus: 429 }]);
    await assert.rejects(bulk(bulkBody(index, 0, 10), signal), (error) => httpStatus(error) === 429);
    assert.equal(await countDocuments(es, index), 0, "an injected request fault writes nothing");

    proxy.schedule([{ durationMs: 60_000, itemRejectRatio: 0.4 }]);
    const response = await bulk(bulkBody(index, 0, 200), signal);
    assert.equal(response.items.length, 200, "one result per item, in request order");
    const rejectedIds = response.items.flatMap((item, i) => (item.index?.status === 429 ? [i] : []));
    assert.ok(rejectedIds.length > 40 && rejectedIds.length < 120, `about 40% rejected, got ${String(rejectedIds.length)}`);
    assert.equal(response.errors, true);
    for (const i of rejectedIds) assert.equal(response.items[i]?.index?.error?.type, "es_rejected_execution_exception");
    assert.equal(await countDocuments(es, index), 200 - rejectedIds.length, "rejected items were not written");
    const missing = await es.mget<{ seq: number }>({ index, ids: rejectedIds.map(String) });
    assert.ok(missing.docs.every((doc) => !("found" in doc) || !doc.found), "none of the rejected ids exists");

    proxy.schedule([{ durationMs: 1, itemRejectRatio: 1 }]);
    await proxy.scheduleDone();
    const passed = await bulk(bulkBody(index, 0, 200), signal);
    assert.equal(passed.errors, false);
    assert.equal(await countDocuments(es, index), 200);
    assert.deepEqual(proxy.stats.injectedRequests, { "429": 1, "503": 1 });
    assert.equal(proxy.stats.injectedItemRejections, rejectedIds.length);
  });
});
