/**
 * The consumer lag gauge against the brokers' own numbers. With Elasticsearch stopped
 * nothing can be acknowledged or committed, so the lag must equal the backlog per
 * partition; once Elasticsearch is back it must fall to 0. After a second worker
 * joins, each worker reports only the partitions it owns, and together all of them.
 *
 * Stops and starts the shared Elasticsearch: run under the exclusive servers lock.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { countDocuments } from "../support/elasticsearch.ts";
import { waitFor } from "../support/env.ts";
import { committedOffsets, createTopics, describeGroup, produce, waitForCommittedAtEnd, withAdmin } from "../support/kafka.ts";
import { startElasticsearch, stopElasticsearch } from "../support/services.ts";
import { partitionSeries, WorkerProcess, withWorkers } from "../support/worker.ts";
import { suiteFixture } from "../support/fixture.ts";

const PARTITIONS = 4;
/** An uneven backlog, so a gauge reporting the wrong partition's value shows. */
const BACKLOG = [500, 1_000, 1_500, 2_000];
const LAG = "kafka_es_transfer_consumer_lag";
const PENDING = "kafka_es_transfer_pending_records";
const TIME_LAG = "kafka_es_transfer_time_lag_seconds";
const PER_PARTITION = [LAG, PENDING, TIME_LAG];

const sorted = (values: Iterable<number>): number[] => [...values].sort((a, b) => a - b);

describe("consumer lag", () => {
  const { es, name: topic, groupId } = suiteFixture("lag", { restartsElasticsearch: true });

  test("equals the backlog while nothing can be indexed, 0 after, and follows the assignment", async (t) => {
    let a: WorkerProcess | undefined;
    let b: WorkerProcess | undefined;
    await withWorkers(() => [a, b], async () => {
      await createTopics([topic], PARTITIONS);
      const total = BACKLOG.reduce((x, y) => x + y, 0);
      const partitionOf: number[] = BACKLOG.flatMap((n, p) => Array.from({ length: n }, () => p));
      await produce(topic, total, (i) => ({ value: JSON.stringify({ seq: i }), partition: partitionOf[i] ?? 0 }));

      await stopElasticsearch();
      const env = { KAFKA_TOPICS: topic, KAFKA_GROUP_ID: groupId, KAFKA_LAG_INTERVAL_MS: "1000", BULK_RETRY_MAX_MS: "2000" };
      const wa = new WorkerProcess({ ...env, KAFKA_CLIENT_ID: "lag-a" }, ["start"], "A");
      a = wa;
      await wa.ready();

      // The gauge, once populated, is the backlog; the brokers agree.
      const lag = await waitFor("a consumer_lag series per partition", async () => {
        const series = partitionSeries(await wa.scrape(), LAG, topic);
        return series.size === PARTITIONS ? series : undefined;
      }, 30_000);
      assert.deepEqual(sorted(lag.keys()), [0, 1, 2, 3]);
      for (const [p, n] of BACKLOG.entries()) assert.equal(lag.get(p), n, `lag of partition ${String(p)}`);
      const { ends, committed } = await withAdmin(async (admin) => ({
        ends: await admin.fetchTopicOffsets(topic),
        committed: await committedOffsets(admin, groupId, topic),
      }));
      for (const { partition, high, low } of ends) {
        // The worker may commit where it starts (the log start: it fixes a new group's
        // position), never past it: nothing was acknowledged.
        const done = committed.get(partition) ?? -1n;
        assert.ok(done === -1n || done === BigInt(low), `partition ${String(partition)}: committed ${String(done)} while Elasticsearch is down (log start ${low})`);
        assert.equal(lag.get(partition), Number(BigInt(high) - BigInt(low)), `gauge == end - start for partition ${String(partition)}`);
      }
      // Everything was fetched and waits for Elasticsearch.
      const pending = await waitFor("pending records == backlog", async () => {
        const series = partitionSeries(await wa.scrape(), PENDING, topic);
        return BACKLOG.every((n, p) => series.get(p) === n) ? series : undefined;
      }, 30_000);
      t.diagnostic(`while Elasticsearch is down: lag ${JSON.stringify([...lag])}, pending ${JSON.stringify([...pending])}`);
      assert.equal(await wa.metric("kafka_es_transfer_records_indexed_total"), 0);

      await startElasticsearch();
      await waitFor("consumer_lag 0 on every partition", async () => {
        const series = partitionSeries(await wa.scrape(), LAG, topic);
        return series.size === PARTITIONS && [...series.values()].every((v) => v === 0) ? true : undefined;
      }, 60_000, 500);
      await waitForCommittedAtEnd(groupId, [topic], 10_000);
      assert.equal(await countDocuments(es, topic), total);

      // A second worker joins: the partitions are split between the two.
      const wb = new WorkerProcess({ ...env, KAFKA_CLIENT_ID: "lag-b" }, ["start"], "B");
      b = wb;
      await wb.ready();
      const firstAssignment = wa.logsWith("partitions assigned")[0];
      assert.ok(firstAssignment !== undefined);
      await wa.waitForLogAfter(firstAssignment, (l) => l.msg === "partitions assigned" && Number(l.assigned) < PARTITIONS, 30_000);
      const group = await waitFor("a stable group of two", async () => {
        const g = await withAdmin((admin) => describeGroup(admin, groupId));
        return g.state === "Stable" && g.members.length === 2 ? g : undefined;
      }, 30_000);
      const owned = (clientId: string): number[] => sorted(group.members.find((m) => m.clientId === clientId)?.assignment.get(topic) ?? []);
      const ofA = owned("lag-a");
      const ofB = owned("lag-b");
      t.diagnostic(`A owns ${JSON.stringify(ofA)}, B owns ${JSON.stringify(ofB)}`);
      assert.ok(ofA.length > 0 && ofB.length > 0);
      assert.deepEqual(sorted([...ofA, ...ofB]), [0, 1, 2, 3]);

      // At once (no waiting): A dropped every series of the partitions it gave away.
      const aNow = await wa.scrape();
      for (const name of PER_PARTITION) {
        const kept = [...partitionSeries(aNow, name, topic).keys()].filter((p) => ofB.includes(p));
        assert.deepEqual(kept, [], `A still exposes ${name} for partitions now owned by B`);
      }

      // New records on every partition, so each owner acknowledges some (time lag series).
      await produce(topic, 400, (i) => ({ value: JSON.stringify({ seq: total + i }) }), PARTITIONS);
      await waitForCommittedAtEnd(groupId, [topic], 60_000);

      // Each worker's per-partition series are exactly its own partitions.
      for (const [worker, mine] of [[wa, ofA], [wb, ofB]] as const) {
        await waitFor(`${worker.name}'s series match its assignment`, async () => {
          const scrape = await worker.scrape();
          const ok = PER_PARTITION.every((name) => JSON.stringify(sorted(partitionSeries(scrape, name, topic).keys())) === JSON.stringify(mine));
          return ok ? true : undefined;
        }, 15_000, 500).catch(async (error: unknown) => {
          const scrape = await worker.scrape();
          const got = PER_PARTITION.map((name) => `${name}: ${JSON.stringify(sorted(partitionSeries(scrape, name, topic).keys()))}`);
          throw new Error(`${String(error)}; ${worker.name} owns ${JSON.stringify(mine)} but exposes ${got.join(", ")}`);
        });
        // The lag gauge follows the brokers on the monitor's interval: the commit that
        // ended the backlog shows at the next poll, so wait (bounded) for it.
        const caughtUp = (scrape: string): boolean => [...partitionSeries(scrape, LAG, topic).values()].every((v) => v === 0);
        const scrape = await waitFor(`${worker.name}'s lag gauge to follow the commit`, async () => {
          const latest = await worker.scrape();
          return caughtUp(latest) ? latest : undefined;
        }, 15_000, 500).catch(() => worker.scrape());
        for (const [p, v] of partitionSeries(scrape, LAG, topic)) assert.equal(v, 0, `${worker.name}: lag of partition ${String(p)} after catching up`);
      }
      const union = new Set([...partitionSeries(await wa.scrape(), LAG, topic).keys(), ...partitionSeries(await wb.scrape(), LAG, topic).keys()]);
      assert.deepEqual(sorted(union), [0, 1, 2, 3], "together the two workers report every partition");
      assert.equal(await countDocuments(es, topic), total + 400);
      assert.equal((await wb.stop()).code, 0);
      assert.equal((await wa.stop()).code, 0);
    });
  });
});
