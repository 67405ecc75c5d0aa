/**
 * Issue 8, items 3 and 4: a member must never move another member's committed offset
 * backwards, neither through kafkajs' own commit retry after a rebalance nor after an
 * expulsion it never saw. Two in-process members on the real broker; the faults are
 * injected into member A's sockets.
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { sleep, uniqueName, waitFor } from "../../support/env.ts";
import { API } from "../../support/kafka-faults.ts";
import { committedOffsets, createTopics, produce, withAdmin } from "../../support/kafka.ts";
import { Rigs, type Rig } from "../../support/source-rig.ts";

const value = (i: number): string => JSON.stringify({ seq: i });

async function committed(groupId: string, topic: string): Promise<Map<number, bigint>> {
  return withAdmin((admin) => committedOffsets(admin, groupId, topic));
}

/** Samples the group's committed offsets until stopped; reports every backwards move. */
function sampleBackwards(groupId: string, topic: string): { stop: () => Promise<string[]> } {
  const highest = new Map<number, bigint>();
  const backwards: string[] = [];
  const halt = new AbortController();
  const loop = (async () => {
    while (!halt.signal.aborted) {
      const now = await committed(groupId, topic).catch(() => new Map<number, bigint>());
      for (const [partition, offset] of now) {
        const before = highest.get(partition);
        if (before !== undefined && offset < before) backwards.push(`partition ${String(partition)}: ${String(before)} -> ${String(offset)}`);
        if (before === undefined || offset > before) highest.set(partition, offset);
      }
      await sleep(100);
    }
  })();
  return {
    stop: async () => {
      halt.abort();
      await loop;
      return backwards;
    },
  };
}

const ownsOne = (rig: Rig): true | undefined => (rig.reader.joined && rig.reader.assignment.length === 1 ? true : undefined);

void describe("source: committed offsets never go backwards across owners", () => {
  const rigs = new Rigs();
  after(() => rigs.stopAll());

  void test("item 3: a commit that failed retriably is not retried for a partition now owned by another member", async (t) => {
    const topic = uniqueName("src-commit-retry");
    const groupId = `${topic}-g`;
    await createTopics([topic], 2);
    await produce(topic, 200, (i) => ({ value: value(i) }), 2);
    // A's kafkajs retries slowly, so that its retry comes after the rebalance below.
    const a = await rigs.start({ groupId, topics: [topic], clientId: "A", sink: "ack", retry: { initialRetryTime: 6_000, retries: 3, maxRetryTime: 8_000 } });
    await waitFor("A acknowledged all 200 records", () => (a.acked.length >= 200 ? true : undefined), 60_000, 100);

    // A's commit: the first attempt loses its connection; any later attempt is held.
    const dropped = a.faults.dropNext(API.OffsetCommit);
    const retried = a.faults.holdNext(API.OffsetCommit);
    const sampler = sampleBackwards(groupId, topic);
    const commit = a.reader.commitNow();
    await dropped;

    // B joins: the partitions are split; B reads its partition again, more records come, B commits them.
    const b = await rigs.start({ groupId, topics: [topic], clientId: "B", sink: "ack" });
    await waitFor("A and B own one partition each", () => (ownsOne(a) && ownsOne(b) ? true : undefined), 60_000, 100);
    const q = b.reader.assignment[0]?.partition ?? -1;
    await produce(topic, 50, (i) => ({ value: value(1_000 + i), partition: q }));
    await waitFor(`B acknowledged offset 149 of partition ${String(q)}`, () => (b.acked.includes(`${String(q)}:149`) ? true : undefined), 60_000, 100);
    await b.reader.commitNow();
    assert.equal((await committed(groupId, topic)).get(q), 150n, "B committed its partition");

    // Whatever A sends now (kafkajs' retry in the old code), let it reach the broker.
    await Promise.race([retried.seen, sleep(12_000)]);
    retried.release();
    await Promise.race([commit, sleep(10_000)]);
    await sleep(2_000);
    const backwards = await sampler.stop();
    const final = (await committed(groupId, topic)).get(q);
    t.diagnostic(`partition ${String(q)}: committed ${String(final)}; backwards moves: ${JSON.stringify(backwards)}`);
    assert.deepEqual(backwards, [], "no committed offset went backwards");
    assert.equal(final, 150n);
  });

  void test("item 4: after an expulsion it never saw, a member does not commit below the next owner", async (t) => {
    const topic = uniqueName("src-expelled");
    const groupId = `${topic}-g`;
    await createTopics([topic], 1);
    await produce(topic, 100, (i) => ({ value: value(i) }), 1);
    const a = await rigs.start({ groupId, topics: [topic], clientId: "A", sink: "hold", sessionTimeoutMs: 6_000 });
    await waitFor("A fetched all 100 records", () => (a.queue.outstanding === 100 ? true : undefined), 60_000, 100);

    // A freezes (a GC pause, a stopped VM) past its session timeout; B takes over.
    const thaw = a.faults.freeze();
    const sampler = sampleBackwards(groupId, topic);
    const b = await rigs.start({ groupId, topics: [topic], clientId: "B", sink: "ack" });
    await waitFor("B owns the partition", () => ownsOne(b), 60_000, 100);
    await produce(topic, 50, (i) => ({ value: value(1_000 + i) }), 1);
    await waitFor("B acknowledged offset 149", () => (b.acked.includes("0:149") ? true : undefined), 60_000, 100);
    await b.reader.commitNow();
    assert.equal((await committed(groupId, topic)).get(0), 150n, "B committed");
    await b.stop();

    // A wakes up, is told it is unknown, rejoins and gets the partition back: to kafkajs
    // (and to the old reader) it looks kept. Its old records (offsets 0-99, fetched before
    // the freeze) are then acknowledged, late, as a slow bulk request would.
    thaw();
    await waitFor("A owns the partition again", () => ownsOne(a), 60_000, 100);
    await sleep(1_000);
    for (const item of a.queue.take(1_000, Number.POSITIVE_INFINITY)) {
      if (BigInt(item.record.offset) >= 100n) continue;
      item.ack();
      a.queue.release(item.record.size);
    }
    await a.reader.commitNow();
    await sleep(1_000);
    await a.reader.commitNow();
    const backwards = await sampler.stop();
    const final = (await committed(groupId, topic)).get(0);
    const joins = a.logs.filter((l) => l.msg === "partitions assigned").map((l) => `assigned ${String(l.assigned)} revoked ${String(l.revoked)}`);
    t.diagnostic(`committed ${String(final)}; backwards moves: ${JSON.stringify(backwards)}; A's joins: ${joins.join(", ")}`);
    assert.deepEqual(backwards, [], "no committed offset went backwards");
    assert.equal(final, 150n);
  });
});
