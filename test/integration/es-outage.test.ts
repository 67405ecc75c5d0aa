/**
 * Elasticsearch goes away for 20 seconds in the middle of a run. The worker keeps its
 * place in the consumer group (a paused consumer still heartbeats), retries, reports
 * itself not ready while Elasticsearch is gone and alive all along, and catches up
 * once it is back, having lost and duplicated nothing.
 *
 * Stops and starts the shared Elasticsearch: run under the exclusive servers lock.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { countDocuments, distinctValues, fieldStats } from "../support/elasticsearch.ts";
import { sleep, waitFor } from "../support/env.ts";
import { createTopics, describeGroup, produceOverTime, waitForCommittedAtEnd, withAdmin } from "../support/kafka.ts";
import { startElasticsearch, stopElasticsearch } from "../support/services.ts";
import { metricSum, WorkerProcess, withWorkers } from "../support/worker.ts";
import { suiteFixture } from "../support/fixture.ts";

const N = 60_000;
const PARTITIONS = 6;
const PRODUCE_MS = 30_000;
const OUTAGE_MS = 20_000;
/** After Elasticsearch answers again, the worker must be done within this. */
const CATCH_UP_MS = 60_000;

describe("Elasticsearch outage", () => {
  const { es, name: topic, groupId } = suiteFixture("outage", { restartsElasticsearch: true });

  test("20 s without Elasticsearch: same member, retries, not ready then ready, nothing lost", async (t) => {
    let worker: WorkerProcess | undefined;
    await withWorkers(() => [worker], async () => {
      await createTopics([topic], PARTITIONS);
      const w = new WorkerProcess({
        KAFKA_TOPICS: topic,
        KAFKA_GROUP_ID: groupId,
        // Back-off capped low, so that the first retry after the outage comes soon.
        BULK_RETRY_MAX_MS: "5000",
      }, ["start"], "worker");
      worker = w;
      await w.ready();
      await waitFor("/readyz 200", async () => ((await w.get("/readyz")).status === 200 ? true : undefined), 15_000);
      const memberBefore = await withAdmin((admin) => describeGroup(admin, groupId));
      assert.equal(memberBefore.members.length, 1);
      const memberId = memberBefore.members[0]?.memberId;

      const producing = produceOverTime(topic, N, PRODUCE_MS, (i) => ({ value: JSON.stringify({ seq: i }) }), PARTITIONS, 1_000);
      await waitFor("some records indexed", async () => ((await countDocuments(es, topic)) > 0 ? true : undefined), 30_000);
      const rebalancesBefore = await w.metric("kafka_es_transfer_rebalances_total");
      const retriedBefore = await w.metric("kafka_es_transfer_records_retried_total");
      assert.equal(rebalancesBefore, 1, "one assignment so far: the initial join");

      await stopElasticsearch();
      const stoppedAt = Date.now();
      let healthChecks = 0;
      const notReady = await waitFor("/readyz 503 while Elasticsearch is down", async () => {
        const health = await w.get("/healthz");
        assert.equal(health.status, 200, "liveness is not about Elasticsearch");
        healthChecks++;
        const ready = await w.get("/readyz");
        return ready.status === 503 ? ready.body : undefined;
      }, 15_000, 500);
      const reason = (notReady as { reason?: unknown }).reason;
      assert.equal(typeof reason, "string");
      assert.match(String(reason), /elasticsearch/i, "the reason names Elasticsearch");
      assert.equal((notReady as { status?: unknown }).status, "not_ready");
      while (Date.now() - stoppedAt < OUTAGE_MS) {
        assert.equal((await w.get("/healthz")).status, 200, "alive throughout the outage");
        healthChecks++;
        await sleep(1_000);
      }
      assert.ok(healthChecks >= 10);
      const duringOutage = await w.scrape();
      await startElasticsearch();
      const backAt = Date.now();
      t.diagnostic(`Elasticsearch was down for ${((backAt - stoppedAt) / 1000).toFixed(1)} s`);

      await waitFor("/readyz 200 once Elasticsearch is back", async () => ((await w.get("/readyz")).status === 200 ? true : undefined), 15_000, 500);
      assert.equal((await w.get("/healthz")).status, 200);
      await producing;
      await waitForCommittedAtEnd(groupId, [topic], CATCH_UP_MS - (Date.now() - backAt));
      t.diagnostic(`caught up ${((Date.now() - backAt) / 1000).toFixed(1)} s after Elasticsearch was back`);

      assert.equal(await countDocuments(es, topic), N);
      const stats = await fieldStats(es, topic, "seq");
      assert.deepEqual(stats, { count: N, sum: (N * (N - 1)) / 2, min: 0, max: N - 1 });
      const { distinct, duplicated } = await distinctValues(es, topic, "seq");
      assert.equal(distinct, N);
      assert.deepEqual(duplicated, []);

      // It retried, and it never left the group.
      const scrape = await w.scrape();
      assert.ok(metricSum(scrape, "kafka_es_transfer_records_retried_total") > retriedBefore, "records were retried");
      assert.ok(metricSum(duringOutage, "kafka_es_transfer_records_retried_total") > retriedBefore, "retried during the outage");
      assert.equal(metricSum(scrape, "kafka_es_transfer_rebalances_total"), rebalancesBefore, "no rebalance after the initial join");
      assert.equal(metricSum(scrape, "kafka_es_transfer_group_member"), 1);
      assert.equal(w.logsWith("partitions assigned").length, 1);
      const memberAfter = await withAdmin((admin) => describeGroup(admin, groupId));
      assert.deepEqual(memberAfter.members.map((m) => m.memberId), [memberId], "the same member id: never expelled");
      assert.equal((await w.stop()).code, 0);
    });
  });
});
