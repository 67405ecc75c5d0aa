/**
 * Randomized model check of the Checkpointer: simulates a consumer over compacted
 * logs with transaction markers, random fetch sizes, duplicate (raced) fetches, acks in
 * random order (also after revocation), rebalances that reset the fetch position to the
 * committed offset, commits that fail or complete late, and checks after every step:
 *
 * - a commit X for a partition implies every record below X (since this ownership
 *   started) was acked through a live handle of this ownership;
 * - committed offsets per partition never decrease, and only assigned partitions are
 *   ever offered;
 * - handles of revoked partitions are dead; pending counts match the model;
 * - once everything is acked, nothing is stuck: the safe point reaches the fetch position.
 *
 * Seeded: a failure prints its seed, and `SEED=<n>` replays that one run.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Checkpointer } from "../../../../src/source/offsets/checkpointer.ts";
import type { CommitRequest, SegmentHandle } from "../../../../src/source/offsets/checkpointer.ts";
import type { Ack } from "../../../../src/pipeline/record.ts";
import { seededRandom } from "../../../support/prng.ts";


interface Entry {
  readonly offset: bigint;
  /** False for a transaction marker / control record: fetched, never delivered. */
  readonly isRecord: boolean;
}

interface Batch {
  readonly first: bigint;
  readonly last: bigint;
  readonly records: readonly bigint[];
}

interface PartitionModel {
  readonly topic: string;
  readonly partition: number;
  readonly log: readonly Entry[];
  brokerCommitted: bigint;
  owned: boolean;
  ownership: number;
  ownStart: bigint;
  position: bigint;
  lastTrackedEnd: bigint | undefined;
  lastMarked: bigint | undefined;
  ackedLive: Set<bigint>;
  delivered: Batch[];
}

interface InFlight {
  readonly model: PartitionModel;
  readonly ownership: number;
  readonly offset: bigint;
  readonly handle: SegmentHandle;
  readonly ack: Ack;
}

interface DeferredMark {
  readonly requests: CommitRequest[];
  readonly ownerships: Map<PartitionModel, number>;
}

const TWO_POW_53 = 9007199254740992n;

function makeLog(random: () => number): Entry[] {
  const base = random() < 0.3 ? TWO_POW_53 - 20n : BigInt(Math.floor(random() * 1000));
  const length = 20 + Math.floor(random() * 100);
  const log: Entry[] = [];
  let offset = base;
  for (let i = 0; i < length; i += 1) {
    log.push({ offset, isRecord: random() < 0.85 });
    offset += random() < 0.2 ? BigInt(2 + Math.floor(random() * 5)) : 1n; // compaction gaps
  }
  return log;
}

function pick<X>(random: () => number, items: readonly X[]): X | undefined {
  return items[Math.floor(random() * items.length)];
}

function runSimulation(seed: number): void {
  const random = seededRandom(seed);
  const cp = new Checkpointer();
  const models: PartitionModel[] = [];
  for (const topic of ["a", "b"]) {
    for (let partition = 0; partition < 1 + Math.floor(random() * 3); partition += 1) {
      const log = makeLog(random);
      const start = log[0]?.offset ?? 0n;
      models.push({
        topic,
        partition,
        log,
        brokerCommitted: start,
        owned: false,
        ownership: 0,
        ownStart: start,
        position: start,
        lastTrackedEnd: undefined,
        lastMarked: undefined,
        ackedLive: new Set(),
        delivered: [],
      });
    }
  }
  let inflight: InFlight[] = [];
  const deferred: DeferredMark[] = [];
  let ownerships = 0;

  const track = (m: PartitionModel, batch: Batch, first: bigint): void => {
    const handle = cp.track(m.topic, m.partition, first.toString(), batch.last.toString(), batch.records.length);
    assert.ok(handle, "an owned partition must accept batches");
    m.lastTrackedEnd = batch.last;
    m.position = batch.last + 1n;
    for (const offset of batch.records) {
      inflight.push({ model: m, ownership: m.ownership, offset, handle, ack: handle.recordAck() });
    }
  };

  const rebalance = (): void => {
    const next = models.filter(() => random() < 0.6);
    const expectedRevoked = models.filter((m) => m.owned && !next.includes(m));
    const revoked = cp.assign(next.map((m) => ({ topic: m.topic, partition: m.partition })));
    assert.deepEqual(
      revoked.map((tp) => `${tp.topic}/${tp.partition}`).sort(),
      expectedRevoked.map((m) => `${m.topic}/${m.partition}`).sort(),
    );
    for (const m of expectedRevoked) {
      m.owned = false;
      // Another member may consume and commit further while we do not own it.
      if (random() < 0.5) {
        const ahead = m.log.filter((e) => e.offset >= m.brokerCommitted);
        const target = pick(random, ahead);
        if (target !== undefined) m.brokerCommitted = target.offset;
      }
    }
    for (const m of next) {
      if (!m.owned) {
        ownerships += 1;
        m.owned = true;
        m.ownership = ownerships;
        m.ownStart = m.brokerCommitted;
        m.lastTrackedEnd = undefined;
        m.lastMarked = undefined;
        m.ackedLive = new Set();
        m.delivered = [];
        if (random() < 0.5) {
          cp.seedCommitted(m.topic, m.partition, m.brokerCommitted.toString());
          m.lastMarked = m.brokerCommitted;
        }
      }
      // kafkajs resets the fetch position of every partition to the committed offset.
      m.position = m.brokerCommitted;
    }
  };

  const fetch = (m: PartitionModel): void => {
    const available = m.log.filter((e) => e.offset >= m.position);
    if (available.length === 0) return;
    const entries = available.slice(0, 1 + Math.floor(random() * 8));
    const firstEntry = entries[0];
    const lastEntry = entries[entries.length - 1];
    if (firstEntry === undefined || lastEntry === undefined) return;
    const batch: Batch = {
      first: m.position,
      last: lastEntry.offset,
      records: entries.filter((e) => e.isRecord).map((e) => e.offset),
    };
    m.delivered.push(batch);
    // The reader may pass batch.fetchedOffset or the first record's offset: both must work.
    track(m, batch, random() < 0.5 ? batch.first : firstEntry.offset);
  };

  /** A batch delivered again (two fetchers raced over a partition whose leader moved). */
  const duplicate = (m: PartitionModel): void => {
    const end = m.lastTrackedEnd;
    if (end === undefined) return;
    const batch = pick(
      random,
      m.delivered.filter((b) => b.first <= end),
    );
    if (batch !== undefined) track(m, batch, batch.first);
  };

  const ack = (): void => {
    const index = Math.floor(random() * inflight.length);
    const record = inflight[index];
    if (record === undefined) return;
    inflight.splice(index, 1);
    const { model: m } = record;
    const current = m.owned && m.ownership === record.ownership;
    if (!current) assert.equal(record.handle.live, false, "a revoked partition's handle must be dead");
    if (record.handle.live) m.ackedLive.add(record.offset);
    record.ack();
    if (random() < 0.1) record.ack(); // duplicate ack of the same record: ignored
  };

  const commit = (): void => {
    const requests = cp.committable();
    const ownershipsAtSend = new Map<PartitionModel, number>();
    for (const request of requests) {
      const m = models.find((x) => x.topic === request.topic && x.partition === request.partition);
      assert.ok(m?.owned, `commit offered for unassigned ${request.topic}/${request.partition}`);
      const x = BigInt(request.offset);
      if (m.lastMarked !== undefined) assert.ok(x > m.lastMarked, `offer ${x} not above committed ${m.lastMarked}`);
      assert.ok(x >= m.brokerCommitted, `commit ${x} would move ${m.topic}/${m.partition} back from ${m.brokerCommitted}`);
      for (const entry of m.log) {
        if (entry.offset >= x) break;
        if (entry.isRecord && entry.offset >= m.ownStart) {
          assert.ok(m.ackedLive.has(entry.offset), `commit ${x} passes unacked record ${entry.offset} (seed ${seed})`);
        }
      }
      ownershipsAtSend.set(m, m.ownership);
    }
    if (requests.length === 0 || random() < 0.15) return; // the commit failed: nothing recorded
    for (const [m] of ownershipsAtSend) {
      const request = requests.find((r) => r.topic === m.topic && r.partition === m.partition);
      if (request !== undefined) m.brokerCommitted = BigInt(request.offset);
    }
    const mark: DeferredMark = { requests, ownerships: ownershipsAtSend };
    if (random() < 0.7) applyMark(mark);
    else deferred.push(mark);
  };

  const applyMark = (mark: DeferredMark): void => {
    cp.markCommitted(mark.requests);
    for (const [m, ownership] of mark.ownerships) {
      if (!m.owned || m.ownership !== ownership) continue;
      const request = mark.requests.find((r) => r.topic === m.topic && r.partition === m.partition);
      if (request === undefined) continue;
      const x = BigInt(request.offset);
      if (m.lastMarked === undefined || x > m.lastMarked) m.lastMarked = x;
    }
  };

  const checkState = (): void => {
    const snapshot = new Map(cp.snapshot().map((s) => [`${s.topic}/${s.partition}`, s]));
    let total = 0;
    for (const m of models) {
      const key = `${m.topic}/${m.partition}`;
      assert.equal(cp.isAssigned(m.topic, m.partition), m.owned);
      const s = snapshot.get(key);
      if (!m.owned) {
        assert.equal(s, undefined);
        continue;
      }
      const pending = inflight.filter((r) => r.model === m && r.handle.live).length;
      total += pending;
      assert.equal(cp.pendingCount(m.topic, m.partition), pending, `pending of ${key}`);
      assert.equal(s?.pending, pending);
      assert.equal(s.lastCommitted, m.lastMarked?.toString());
    }
    assert.equal(cp.pendingCount(), total);
  };

  rebalance();
  const steps = 40 + Math.floor(random() * 120);
  for (let step = 0; step < steps; step += 1) {
    const owned = models.filter((m) => m.owned);
    const roll = random();
    if (roll < 0.3) {
      const m = pick(random, owned);
      if (m !== undefined) fetch(m);
    } else if (roll < 0.33) {
      const m = pick(random, owned);
      if (m !== undefined) duplicate(m);
    } else if (roll < 0.7) {
      ack();
    } else if (roll < 0.85) {
      commit();
    } else if (roll < 0.92) {
      const index = Math.floor(random() * deferred.length);
      const mark = deferred[index];
      if (mark !== undefined) {
        deferred.splice(index, 1);
        applyMark(mark);
      }
    } else {
      rebalance();
    }
    checkState();
  }

  // Liveness: once every record is settled, nothing is stuck behind a lost ack.
  while (inflight.length > 0) ack();
  inflight = [];
  checkState();
  commit();
  for (const s of cp.snapshot()) {
    const m = models.find((x) => x.topic === s.topic && x.partition === s.partition);
    assert.ok(m);
    assert.equal(s.pending, 0);
    assert.equal(s.segments, 0, `segments left on ${s.topic}/${s.partition} (seed ${seed})`);
    if (m.lastTrackedEnd !== undefined) {
      assert.ok(s.safe !== undefined && BigInt(s.safe) >= m.position, `safe ${s.safe} below position ${m.position}`);
    }
  }
}

void test("randomized model check of the checkpointer", () => {
  const only = process.env.SEED;
  const seeds = only === undefined ? Array.from({ length: 2000 }, (_, i) => i + 1) : [Number(only)];
  for (const seed of seeds) {
    try {
      runSimulation(seed);
    } catch (error) {
      throw new Error(`simulation failed with SEED=${seed}`, { cause: error });
    }
  }
});
