import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Checkpointer } from "../../../../src/source/offsets/checkpointer.ts";
import type { CommitRequest, SegmentHandle } from "../../../../src/source/offsets/checkpointer.ts";

const T = "orders";
const U = "payments";

function assigned(...pairs: [string, number][]): Checkpointer {
  const cp = new Checkpointer();
  cp.assign(pairs.map(([topic, partition]) => ({ topic, partition })));
  return cp;
}

function mustTrack(cp: Checkpointer, topic: string, partition: number, first: string, last: string, count: number): SegmentHandle {
  const handle = cp.track(topic, partition, first, last, count);
  assert.ok(handle, `expected ${topic}/${partition} to be assigned`);
  return handle;
}

function ackTimes(handle: SegmentHandle, times: number): void {
  for (let i = 0; i < times; i += 1) handle.ack();
}

/** committable() as "topic/partition=offset" strings, sorted, for readable assertions. */
function offsets(cp: Checkpointer): string[] {
  return cp
    .committable()
    .map((r) => `${r.topic}/${r.partition}=${r.offset}`)
    .sort();
}

function commitAll(cp: Checkpointer): CommitRequest[] {
  const requests = cp.committable();
  cp.markCommitted(requests);
  return requests;
}

void describe("Checkpointer: assignment", () => {
  void test("starts with epoch 0 and nothing assigned", () => {
    const cp = new Checkpointer();
    assert.equal(cp.epoch, 0);
    assert.equal(cp.isAssigned(T, 0), false);
    assert.equal(cp.track(T, 0, "0", "0", 1), undefined);
    assert.deepEqual(cp.committable(), []);
    assert.deepEqual(cp.snapshot(), []);
    assert.equal(cp.pendingCount(), 0);
  });

  void test("assign bumps the epoch every time, even with an unchanged assignment", () => {
    const cp = new Checkpointer();
    cp.assign([{ topic: T, partition: 0 }]);
    assert.equal(cp.epoch, 1);
    cp.assign([{ topic: T, partition: 0 }]);
    assert.equal(cp.epoch, 2);
    cp.assign([]);
    assert.equal(cp.epoch, 3);
  });

  void test("assign returns exactly the revoked partitions", () => {
    const cp = assigned([T, 0], [T, 1], [U, 0]);
    const revoked = cp.assign([
      { topic: T, partition: 1 },
      { topic: U, partition: 1 },
    ]);
    assert.deepEqual(
      revoked.map((tp) => `${tp.topic}/${tp.partition}`).sort(),
      [`${T}/0`, `${U}/0`],
    );
    assert.equal(cp.isAssigned(T, 0), false);
    assert.equal(cp.isAssigned(T, 1), true);
    assert.equal(cp.isAssigned(U, 0), false);
    assert.equal(cp.isAssigned(U, 1), true);
  });

  void test("duplicate entries in an assignment are harmless", () => {
    const cp = assigned([T, 0], [T, 0]);
    assert.equal(cp.snapshot().length, 1);
  });

  void test("topic and partition do not collide in keys", () => {
    const cp = assigned(["a", 11], ["a1", 1]);
    const h = mustTrack(cp, "a", 11, "0", "0", 1);
    h.ack();
    assert.deepEqual(offsets(cp), ["a/11=1"]);
  });
});

void describe("Checkpointer: acks within one partition", () => {
  void test("a fully acked batch commits lastOffset + 1", () => {
    const cp = assigned([T, 0]);
    const h = mustTrack(cp, T, 0, "0", "9", 10);
    ackTimes(h, 9);
    assert.deepEqual(cp.committable(), []);
    h.ack();
    assert.deepEqual(cp.committable(), [{ topic: T, partition: 0, offset: "10", ownership: 1 }]);
  });

  void test("out-of-order batch completion: a later batch waits for the earlier one", () => {
    const cp = assigned([T, 0]);
    const a = mustTrack(cp, T, 0, "0", "4", 5);
    const b = mustTrack(cp, T, 0, "5", "9", 5);
    const c = mustTrack(cp, T, 0, "10", "14", 5);
    ackTimes(c, 5);
    ackTimes(b, 5);
    assert.deepEqual(cp.committable(), []);
    ackTimes(a, 4);
    assert.deepEqual(cp.committable(), []);
    a.ack();
    assert.deepEqual(offsets(cp), [`${T}/0=15`]);
  });

  void test("the safe point advances one completed head at a time", () => {
    const cp = assigned([T, 0]);
    const a = mustTrack(cp, T, 0, "0", "4", 5);
    const b = mustTrack(cp, T, 0, "5", "9", 5);
    const c = mustTrack(cp, T, 0, "10", "14", 5);
    ackTimes(a, 5);
    assert.deepEqual(offsets(cp), [`${T}/0=5`]);
    ackTimes(c, 5);
    assert.deepEqual(offsets(cp), [`${T}/0=5`]);
    ackTimes(b, 5);
    assert.deepEqual(offsets(cp), [`${T}/0=15`]);
  });

  void test("interleaved acks across segments settle each segment independently", () => {
    const cp = assigned([T, 0]);
    const a = mustTrack(cp, T, 0, "0", "2", 3);
    const b = mustTrack(cp, T, 0, "3", "5", 3);
    b.ack();
    a.ack();
    b.ack();
    a.ack();
    b.ack();
    assert.equal(b.pending, 0);
    assert.equal(a.pending, 1);
    assert.deepEqual(cp.committable(), []);
    a.ack();
    assert.deepEqual(offsets(cp), [`${T}/0=6`]);
  });

  void test("extra acks are ignored and never leak into the next segment", () => {
    const cp = assigned([T, 0]);
    const a = mustTrack(cp, T, 0, "0", "1", 2);
    const b = mustTrack(cp, T, 0, "2", "3", 2);
    ackTimes(a, 10);
    assert.equal(a.pending, 0);
    assert.equal(b.pending, 2);
    assert.deepEqual(offsets(cp), [`${T}/0=2`]);
    assert.equal(cp.pendingCount(T, 0), 2);
  });

  void test("recordAck settles one record at most once", () => {
    const cp = assigned([T, 0]);
    const h = mustTrack(cp, T, 0, "0", "1", 2);
    const first = h.recordAck();
    const second = h.recordAck();
    first();
    first();
    first();
    assert.equal(h.pending, 1);
    assert.deepEqual(cp.committable(), []);
    second();
    assert.deepEqual(offsets(cp), [`${T}/0=2`]);
  });

  void test("committable does not mark: it repeats until markCommitted", () => {
    const cp = assigned([T, 0]);
    ackTimes(mustTrack(cp, T, 0, "0", "0", 1), 1);
    assert.deepEqual(offsets(cp), [`${T}/0=1`]);
    assert.deepEqual(offsets(cp), [`${T}/0=1`]);
    commitAll(cp);
    assert.deepEqual(cp.committable(), []);
    ackTimes(mustTrack(cp, T, 0, "1", "1", 1), 1);
    assert.deepEqual(offsets(cp), [`${T}/0=2`]);
  });

  void test("a failed commit (no markCommitted) is offered again, later merged with progress", () => {
    const cp = assigned([T, 0]);
    ackTimes(mustTrack(cp, T, 0, "0", "4", 5), 5);
    assert.deepEqual(offsets(cp), [`${T}/0=5`]);
    ackTimes(mustTrack(cp, T, 0, "5", "9", 5), 5);
    assert.deepEqual(offsets(cp), [`${T}/0=10`]);
  });

  void test("markCommitted never moves lastCommitted backwards", () => {
    const cp = assigned([T, 0]);
    ackTimes(mustTrack(cp, T, 0, "0", "4", 5), 5);
    const early = cp.committable();
    ackTimes(mustTrack(cp, T, 0, "5", "9", 5), 5);
    const late = cp.committable();
    cp.markCommitted(late);
    cp.markCommitted(early); // a slow commit finishing last
    assert.equal(cp.snapshot()[0]?.lastCommitted, "10");
    assert.deepEqual(cp.committable(), []);
  });
});

void describe("Checkpointer: offsets", () => {
  void test("non-contiguous offsets: lastOffset decides, never first + count", () => {
    const cp = assigned([T, 0]);
    // Compacted log: 3 records at offsets 100, 250, 999.
    const a = mustTrack(cp, T, 0, "100", "999", 3);
    ackTimes(a, 3);
    assert.deepEqual(offsets(cp), [`${T}/0=1000`]);
    // A gap between batches (retention or transaction markers) is fine too.
    const b = mustTrack(cp, T, 0, "5000", "5002", 2);
    ackTimes(b, 2);
    assert.deepEqual(offsets(cp), [`${T}/0=5003`]);
  });

  void test("an empty batch (only control records) is complete at once", () => {
    const cp = assigned([T, 0]);
    const h = mustTrack(cp, T, 0, "10", "12", 0);
    assert.equal(h.pending, 0);
    assert.deepEqual(offsets(cp), [`${T}/0=13`]);
  });

  void test("an empty batch behind a pending one waits for it", () => {
    const cp = assigned([T, 0]);
    const a = mustTrack(cp, T, 0, "0", "4", 5);
    mustTrack(cp, T, 0, "5", "5", 0);
    assert.deepEqual(cp.committable(), []);
    ackTimes(a, 5);
    assert.deepEqual(offsets(cp), [`${T}/0=6`]);
  });

  void test("offsets beyond 2^53 keep full precision", () => {
    const cp = assigned([T, 0]);
    const a = mustTrack(cp, T, 0, "9007199254740991", "9007199254740992", 2);
    const b = mustTrack(cp, T, 0, "9007199254740993", "9007199254740993", 1);
    ackTimes(a, 2);
    assert.deepEqual(offsets(cp), [`${T}/0=9007199254740993`]);
    b.ack();
    assert.deepEqual(offsets(cp), [`${T}/0=9007199254740994`]);
    commitAll(cp);
    // 9007199254740994 and ...995 are distinct for bigint, not for number.
    const c = mustTrack(cp, T, 0, "9007199254740994", "9007199254740994", 1);
    c.ack();
    assert.deepEqual(offsets(cp), [`${T}/0=9007199254740995`]);
  });

  void test("the int64 maximum does not overflow", () => {
    const cp = assigned([T, 0]);
    ackTimes(mustTrack(cp, T, 0, "9223372036854775806", "9223372036854775806", 1), 1);
    assert.deepEqual(offsets(cp), [`${T}/0=9223372036854775807`]);
  });

  void test("rejects malformed offsets and counts", () => {
    const cp = assigned([T, 0]);
    assert.throws(() => cp.track(T, 0, "", "1", 1), RangeError);
    assert.throws(() => cp.track(T, 0, "1.5", "2", 1), RangeError);
    assert.throws(() => cp.track(T, 0, " 1", "2", 1), RangeError);
    assert.throws(() => cp.track(T, 0, "0x10", "20", 1), RangeError);
    assert.throws(() => cp.track(T, 0, "5", "4", 1), RangeError);
    assert.throws(() => cp.track(T, 0, "0", "4", -1), RangeError);
    assert.throws(() => cp.track(T, 0, "0", "4", 1.5), RangeError);
    assert.throws(() => cp.track(T, 0, "0", "4", Number.NaN), RangeError);
    assert.equal(cp.snapshot()[0]?.segments, 0);
  });
});

void describe("Checkpointer: partitions and topics", () => {
  void test("interleaved partitions and topics are independent", () => {
    const cp = assigned([T, 0], [T, 1], [U, 0]);
    const t0a = mustTrack(cp, T, 0, "0", "1", 2);
    const t1a = mustTrack(cp, T, 1, "50", "51", 2);
    const u0a = mustTrack(cp, U, 0, "7", "7", 1);
    const t0b = mustTrack(cp, T, 0, "2", "3", 2);
    t1a.ack();
    t0b.ack();
    u0a.ack();
    t0a.ack();
    t0b.ack();
    assert.deepEqual(offsets(cp), [`${U}/0=8`]);
    t1a.ack();
    assert.deepEqual(offsets(cp), [`${T}/1=52`, `${U}/0=8`]);
    t0a.ack();
    assert.deepEqual(offsets(cp), [`${T}/0=4`, `${T}/1=52`, `${U}/0=8`]);
  });

  void test("pendingCount per partition, per topic and in total", () => {
    const cp = assigned([T, 0], [T, 1], [U, 0]);
    const a = mustTrack(cp, T, 0, "0", "2", 3);
    mustTrack(cp, T, 0, "3", "4", 2);
    mustTrack(cp, T, 1, "0", "0", 1);
    mustTrack(cp, U, 0, "0", "3", 4);
    a.ack();
    assert.equal(cp.pendingCount(T, 0), 4);
    assert.equal(cp.pendingCount(T, 1), 1);
    assert.equal(cp.pendingCount(T), 5);
    assert.equal(cp.pendingCount(U), 4);
    assert.equal(cp.pendingCount(), 9);
    assert.equal(cp.pendingCount(T, 9), 0);
    assert.equal(cp.pendingCount("nope"), 0);
  });

  void test("snapshot reports committed, safe, pending and segments", () => {
    const cp = assigned([T, 0], [T, 1]);
    ackTimes(mustTrack(cp, T, 0, "0", "4", 5), 5);
    commitAll(cp);
    ackTimes(mustTrack(cp, T, 0, "5", "9", 5), 5);
    const pending = mustTrack(cp, T, 0, "10", "12", 3);
    pending.ack();
    mustTrack(cp, T, 0, "13", "13", 1);
    const byPartition = new Map(cp.snapshot().map((s) => [s.partition, s] as const));
    assert.deepEqual(byPartition.get(0), {
      topic: T,
      partition: 0,
      lastCommitted: "5",
      safe: "10",
      pending: 3,
      segments: 2,
    });
    assert.deepEqual(byPartition.get(1), { topic: T, partition: 1, pending: 0, segments: 0 });
  });
});

void describe("Checkpointer: seeding the committed offset", () => {
  void test("suppresses offsets at or below the seed", () => {
    const cp = assigned([T, 0]);
    cp.seedCommitted(T, 0, "10");
    ackTimes(mustTrack(cp, T, 0, "5", "9", 5), 5);
    assert.deepEqual(cp.committable(), []);
    ackTimes(mustTrack(cp, T, 0, "10", "10", 1), 1);
    assert.deepEqual(offsets(cp), [`${T}/0=11`]);
    assert.equal(cp.snapshot()[0]?.lastCommitted, "10");
  });

  void test("never lowers lastCommitted and ignores unassigned partitions", () => {
    const cp = assigned([T, 0]);
    cp.seedCommitted(T, 0, "10");
    cp.seedCommitted(T, 0, "3");
    assert.equal(cp.snapshot()[0]?.lastCommitted, "10");
    cp.seedCommitted(T, 7, "3");
    assert.equal(cp.isAssigned(T, 7), false);
    assert.throws(() => { cp.seedCommitted(T, 0, "ten"); }, RangeError);
  });
});

void describe("Checkpointer: rebalances", () => {
  void test("revoked partitions: no commit, pending acks become no-ops", () => {
    const cp = assigned([T, 0], [T, 1]);
    const t0 = mustTrack(cp, T, 0, "0", "1", 2);
    const t1 = mustTrack(cp, T, 1, "0", "1", 2);
    t0.ack();
    cp.assign([{ topic: T, partition: 1 }]);
    assert.equal(t0.live, false);
    assert.equal(t0.pending, 0);
    t0.ack();
    assert.deepEqual(offsets(cp), []);
    assert.equal(cp.pendingCount(), 2);
    ackTimes(t1, 2);
    assert.deepEqual(offsets(cp), [`${T}/1=2`]);
    assert.equal(cp.track(T, 0, "2", "3", 2), undefined);
  });

  void test("acks arriving after revocation do not touch anything", () => {
    const cp = assigned([T, 0]);
    const old = mustTrack(cp, T, 0, "0", "9", 10);
    old.ack();
    cp.assign([]);
    ackTimes(old, 20);
    assert.equal(cp.pendingCount(), 0);
    assert.deepEqual(cp.committable(), []);
  });

  void test("a re-added partition gets a fresh tracker; old acks stay no-ops", () => {
    const cp = assigned([T, 0]);
    const old = mustTrack(cp, T, 0, "0", "9", 10);
    ackTimes(old, 9);
    ackTimes(mustTrack(cp, T, 0, "10", "19", 10), 10);
    commitAll(cp); // nothing (old head pending)
    cp.assign([]);
    cp.assign([{ topic: T, partition: 0 }]);
    assert.deepEqual(cp.snapshot(), [{ topic: T, partition: 0, pending: 0, segments: 0 }]);
    const fresh = mustTrack(cp, T, 0, "0", "9", 10);
    old.ack(); // the last ack of the old ownership
    assert.deepEqual(cp.committable(), []);
    assert.equal(fresh.pending, 10);
    ackTimes(fresh, 10);
    assert.deepEqual(offsets(cp), [`${T}/0=10`]);
  });

  void test("a commit that completes after revoke + re-add is ignored", () => {
    const cp = assigned([T, 0]);
    ackTimes(mustTrack(cp, T, 0, "0", "99", 100), 100);
    const stale = cp.committable();
    cp.assign([]);
    cp.markCommitted(stale); // revoked: ignored
    cp.assign([{ topic: T, partition: 0 }]);
    cp.markCommitted(stale); // another ownership now: ignored
    assert.equal(cp.snapshot()[0]?.lastCommitted, undefined);
    ackTimes(mustTrack(cp, T, 0, "50", "59", 10), 10);
    assert.deepEqual(offsets(cp), [`${T}/0=60`]);
  });

  void test("a commit that completes after a rebalance keeping the partition still counts", () => {
    const cp = assigned([T, 0]);
    ackTimes(mustTrack(cp, T, 0, "0", "9", 10), 10);
    const requests = cp.committable();
    cp.assign([{ topic: T, partition: 0 }, { topic: T, partition: 1 }]);
    cp.markCommitted(requests);
    assert.equal(cp.snapshot().find((s) => s.partition === 0)?.lastCommitted, "10");
  });

  void test("kept partitions keep their tracker, segments and acks", () => {
    const cp = assigned([T, 0]);
    const a = mustTrack(cp, T, 0, "0", "4", 5);
    cp.assign([{ topic: T, partition: 0 }]);
    assert.equal(a.live, true);
    ackTimes(a, 5);
    assert.deepEqual(offsets(cp), [`${T}/0=5`]);
  });
});

void describe("Checkpointer: fetch position reset", () => {
  void test("a refetch from the committed offset discards the in-flight segments", () => {
    const cp = assigned([T, 0]);
    ackTimes(mustTrack(cp, T, 0, "0", "9", 10), 10);
    commitAll(cp); // committed 10
    const b = mustTrack(cp, T, 0, "10", "19", 10);
    const c = mustTrack(cp, T, 0, "20", "29", 10);
    ackTimes(c, 10);
    b.ack();
    cp.assign([{ topic: T, partition: 0 }]); // kept: kafkajs refetches from 10
    const b2 = mustTrack(cp, T, 0, "10", "19", 10);
    assert.equal(b.live, false);
    assert.equal(c.live, false);
    assert.equal(cp.pendingCount(T, 0), 10);
    ackTimes(b, 9); // late acks of the discarded copy: no effect
    assert.deepEqual(cp.committable(), []);
    ackTimes(b2, 10);
    assert.deepEqual(offsets(cp), [`${T}/0=20`]);
    const c2 = mustTrack(cp, T, 0, "20", "29", 10);
    ackTimes(c2, 10);
    assert.deepEqual(offsets(cp), [`${T}/0=30`]);
  });

  void test("keeps lastCommitted and the safe point across the reset", () => {
    const cp = assigned([T, 0]);
    ackTimes(mustTrack(cp, T, 0, "0", "9", 10), 10);
    commitAll(cp); // committed 10
    ackTimes(mustTrack(cp, T, 0, "10", "19", 10), 10); // safe 20, not committed yet
    mustTrack(cp, T, 0, "20", "29", 10);
    // Refetch from the committed offset 10: records 10..19 come again.
    const again = mustTrack(cp, T, 0, "10", "19", 10);
    assert.deepEqual(offsets(cp), [`${T}/0=20`]);
    assert.equal(cp.snapshot()[0]?.lastCommitted, "10");
    ackTimes(again, 10);
    assert.deepEqual(offsets(cp), [`${T}/0=20`]);
    ackTimes(mustTrack(cp, T, 0, "20", "29", 10), 10);
    assert.deepEqual(offsets(cp), [`${T}/0=30`]);
  });

  void test("a refetch of an already settled range never moves the safe point back", () => {
    const cp = assigned([T, 0]);
    ackTimes(mustTrack(cp, T, 0, "0", "9", 10), 10);
    ackTimes(mustTrack(cp, T, 0, "0", "4", 5), 5);
    assert.deepEqual(offsets(cp), [`${T}/0=10`]);
    const rest = mustTrack(cp, T, 0, "5", "14", 10);
    assert.deepEqual(offsets(cp), [`${T}/0=10`]);
    ackTimes(rest, 10);
    assert.deepEqual(offsets(cp), [`${T}/0=15`]);
  });

  void test("overlap check uses the last tracked end even once shifted out", () => {
    const cp = assigned([T, 0]);
    ackTimes(mustTrack(cp, T, 0, "0", "9", 10), 10);
    assert.equal(cp.snapshot()[0]?.segments, 0);
    const pending = mustTrack(cp, T, 0, "10", "19", 10);
    const dup = mustTrack(cp, T, 0, "9", "19", 11); // starts at 9 <= 19: reset
    assert.equal(pending.live, false);
    assert.equal(dup.live, true);
  });

  void test("a duplicate batch keeps earlier pending segments whose records will not come back", () => {
    // Two fetchers raced over the partition (leader moved): batch 10..19 arrives twice.
    const cp = assigned([T, 0]);
    const a = mustTrack(cp, T, 0, "0", "9", 10);
    const b = mustTrack(cp, T, 0, "10", "19", 10);
    const b2 = mustTrack(cp, T, 0, "10", "19", 10);
    assert.equal(a.live, true, "records 0..9 are not refetched: their segment must stay");
    assert.equal(b.live, false);
    ackTimes(b2, 10);
    assert.deepEqual(cp.committable(), [], "must not pass the unsettled records 0..9");
    ackTimes(a, 10);
    assert.deepEqual(offsets(cp), [`${T}/0=20`]);
  });

  void test("a segment straddling the reset point stays and must complete", () => {
    const cp = assigned([T, 0]);
    const a = mustTrack(cp, T, 0, "0", "9", 10);
    const again = mustTrack(cp, T, 0, "5", "14", 10);
    assert.equal(a.live, true);
    ackTimes(again, 10);
    assert.deepEqual(cp.committable(), []);
    ackTimes(a, 10);
    assert.deepEqual(offsets(cp), [`${T}/0=15`]);
  });

  void test("after a reset, the next contiguous batch is tracked normally", () => {
    const cp = assigned([T, 0]);
    mustTrack(cp, T, 0, "0", "9", 10);
    const x = mustTrack(cp, T, 0, "0", "4", 5); // reset to 0 with a smaller batch
    const y = mustTrack(cp, T, 0, "5", "9", 5); // 5 > 4: no reset
    assert.equal(x.live, true);
    ackTimes(y, 5);
    ackTimes(x, 5);
    assert.deepEqual(offsets(cp), [`${T}/0=10`]);
  });

  void test("a reset with only empty batches behaves", () => {
    const cp = assigned([T, 0]);
    mustTrack(cp, T, 0, "0", "9", 10);
    const marker = mustTrack(cp, T, 0, "0", "0", 0);
    assert.equal(marker.live, true);
    assert.deepEqual(offsets(cp), [`${T}/0=1`]);
  });
});

describe("checkpointer restart (a held partition resumes)", () => {
  test("drops what was fetched past the first unsettled record; the refetch tracks cleanly and late acks are no-ops", () => {
    const cp = new Checkpointer();
    cp.assign([{ topic: "a", partition: 0 }]);
    cp.seedPosition("a", 0, "0");
    const first = cp.track("a", 0, "0", "4", 5);
    const second = cp.track("a", 0, "5", "9", 5);
    assert.ok(first && second);
    for (let i = 0; i < 5; i++) first.ack();
    // Offset 5 refused (given back); 6..9 indexed by other requests.
    for (let i = 0; i < 4; i++) second.ack();
    assert.equal(cp.safeOffset("a", 0), "5");
    assert.equal(cp.restart("a", 0), "5");
    second.ack();
    assert.equal(cp.safeOffset("a", 0), "5", "an ack of a dropped batch never moves the safe point");
    let skipped = 0;
    cp.onSkipped(() => {
      skipped++;
    });
    const again = cp.track("a", 0, "5", "9", 5, true);
    assert.ok(again);
    assert.equal(skipped, 0);
    for (let i = 0; i < 5; i++) again.ack();
    assert.equal(cp.safeOffset("a", 0), "10");
    assert.equal(cp.restart("b", 0), undefined);
  });
});
