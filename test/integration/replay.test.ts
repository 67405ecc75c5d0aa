/**
 * Replay on the real servers: records produced with explicit timestamps over several
 * partitions of two topics; `replay --from --to` writes exactly the records whose
 * timestamps fall in [from, to) (an out-of-order record inside the offset range but
 * outside the time range included), leaves the configured group's committed offsets
 * alone, and an interrupted replay resumed from its file ends with the same documents.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, test } from "node:test";
import type { Client } from "@elastic/elasticsearch";
import { countDocuments } from "../support/elasticsearch.ts";
import { waitFor } from "../support/env.ts";
import { committedOffsets, createTopics, produce, withAdmin } from "../support/kafka.ts";
import { WorkerProcess, withWorkers } from "../support/worker.ts";
import { suiteFixture } from "../support/fixture.ts";

const MINUTE = 60_000;
/** Record i of a topic has timestamp BASE + i * STEP. */
const BASE = Date.UTC(2026, 0, 1, 0, 0, 0);
/**
 * The records are dated BASE, far older than the broker's 7-day retention: without
 * this, the broker's periodic retention check deletes them between the produce and
 * the replay whenever it happens to run in between.
 */
const KEEP_FOREVER = { "retention.ms": "-1" };
const STEP = 6_000;
const N = 4_000;
/** Inside the range: records 1000..2999 of each topic. */
const FROM = BASE + 1_000 * STEP;
const TO = BASE + 3_000 * STEP;
/** An out-of-order record: produced among the range's offsets, timestamped long before it. */
const STRAY_AT = 2_000;

function topicRecords(topic: string, partitions: number): (i: number) => { value: string; timestamp: string; partition: number } {
  return (i) => {
    const timestamp = i === STRAY_AT ? BASE - 10 * MINUTE : BASE + i * STEP;
    return { value: JSON.stringify({ seq: i, topic }), timestamp: String(timestamp), partition: i % partitions };
  };
}

function expectedSeqs(): number[] {
  const seqs: number[] = [];
  for (let i = 0; i < N; i++) {
    const ts = i === STRAY_AT ? BASE - 10 * MINUTE : BASE + i * STEP;
    if (ts >= FROM && ts < TO) seqs.push(i);
  }
  return seqs;
}

/** Every document of `index` as "topic:seq", sorted (fewer than 10 000: one page). */
async function documentKeys(es: Client, index: string): Promise<string[]> {
  await es.indices.refresh({ index });
  const page = await es.search<{ seq: number; topic: string }>({ index, size: 10_000, track_total_hits: true });
  assert.ok(page.hits.hits.length < 10_000, "one page holds every document");
  return page.hits.hits.map((h) => `${h._source?.topic ?? "?"}:${String(h._source?.seq)}`).sort();
}

function replay(env: Record<string, string>, args: string[], name: string): WorkerProcess {
  return new WorkerProcess(env, ["replay", ...args], name);
}

/** A figure of the summary on stdout, e.g. "records read". */
function summaryFigure(worker: WorkerProcess, label: string): number {
  const line = worker.stderr.find((l) => l.trimStart().startsWith(`${label} `));
  assert.ok(line !== undefined, `summary line "${label}" in: ${worker.stderr.join(" | ")}`);
  return Number(line.trim().slice(label.length).trim().split(/\s/)[0]);
}

describe("replay", () => {
  const { es, name, groupId } = suiteFixture("replay");
  const topics = [`${name}-a`, `${name}-b`];
  const partitions = [3, 2];
  const expected = topics.flatMap((t) => expectedSeqs().map((s) => `${t}:${String(s)}`)).sort();
  const env = { KAFKA_GROUP_ID: groupId, LOG_LEVEL: "warn" };
  const range = ["--from", new Date(FROM).toISOString(), "--to", String(TO)];
  let seeded = false;

  async function seed(): Promise<void> {
    if (seeded) return;
    seeded = true;
    await createTopics([topics[0] ?? ""], partitions[0] ?? 1, KEEP_FOREVER);
    await createTopics([topics[1] ?? ""], partitions[1] ?? 1, KEEP_FOREVER);
    for (const [i, topic] of topics.entries()) await produce(topic, N, topicRecords(topic, partitions[i] ?? 1));
    // The configured group has committed offsets of its own: replay must not move them.
    await withAdmin(async (admin) => {
      for (const [i, topic] of topics.entries()) {
        const count = partitions[i] ?? 1;
        await admin.setOffsets({ groupId, topic, partitions: Array.from({ length: count }, (_, p) => ({ partition: p, offset: String(7 + p) })) });
      }
    });
  }

  test("writes exactly the records of [from, to) on every partition; the group's offsets are untouched", async () => {
    let worker: WorkerProcess | undefined;
    await withWorkers(() => [worker], async () => {
      await seed();
      const before = await withAdmin(async (admin) => Promise.all(topics.map((t) => committedOffsets(admin, groupId, t))));
      const index = "{topic}-exact";
      worker = replay(env, ["--topics", topics.join(","), ...range, "--index", index], "replay");
      const exit = await worker.exited;
      assert.deepEqual(exit, { code: 0, signal: null }, worker.tail());
      assert.deepEqual(await documentKeys(es, `${name}-*-exact`), expected);
      assert.equal(summaryFigure(worker, "records read"), expected.length);
      assert.equal(summaryFigure(worker, "indexed"), expected.length);
      const after = await withAdmin(async (admin) => Promise.all(topics.map((t) => committedOffsets(admin, groupId, t))));
      assert.deepEqual(after, before, "the configured group's committed offsets did not move");
      const groups = await withAdmin(async (admin) => (await admin.listGroups()).groups.map((g) => g.groupId));
      assert.deepEqual(groups.filter((g) => g.startsWith(`${groupId}-replay-`)), [], "the throwaway group was deleted");
    });
  });

  test("interrupted by SIGINT, then resumed from its file: the same documents, each once", async () => {
    let first: WorkerProcess | undefined;
    let second: WorkerProcess | undefined;
    const file = path.join(tmpdir(), `${name}.resume.json`);
    await withWorkers(() => [first, second], async () => {
      await seed();
      const index = "{topic}-resumed";
      // Small bulk requests and fetches: slow enough to be interrupted in the middle.
      const slow = { ...env, BULK_WORKERS: "1", BULK_MAX_DOCUMENTS: "10", QUEUE_MAX_RECORDS: "100", KAFKA_MAX_BYTES_PER_PARTITION: "2048", KAFKA_MAX_BYTES: "4096" };
      first = replay(slow, ["--topics", topics.join(","), ...range, "--index", index, "--resume-file", file], "first");
      const w1 = first;
      await waitFor("some documents indexed", async () => {
        if (!w1.running) throw new Error(`replay ended before it could be interrupted: ${w1.tail()}`);
        const count = (await countDocuments(es, `${name}-*-resumed`).catch(() => 0));
        return count >= 200 ? count : undefined;
      }, 120_000, 50);
      w1.kill("SIGINT");
      assert.deepEqual(await w1.exited, { code: 130, signal: null }, w1.tail());
      assert.ok(existsSync(file), "resume file written");
      const state = JSON.parse(readFileSync(file, "utf8")) as { partitions: { start: string; next: string; end: string }[] };
      assert.ok(state.partitions.some((p) => BigInt(p.next) > BigInt(p.start)), "progress saved");
      assert.ok(state.partitions.some((p) => BigInt(p.next) < BigInt(p.end)), "work left");
      assert.ok(w1.stderr.some((l) => l.includes("stopped at")), "says where it stopped");
      const readFirst = summaryFigure(w1, "records read");

      second = replay(env, ["--resume", file], "second");
      assert.deepEqual(await second.exited, { code: 0, signal: null }, second.tail());
      assert.ok(summaryFigure(second, "records read") < expected.length, "the resumed run did not start over");
      assert.ok(readFirst + summaryFigure(second, "records read") >= expected.length);
      assert.deepEqual(await documentKeys(es, `${name}-*-resumed`), expected);
      assert.equal(existsSync(file), false, "resume file removed once the range is done");
    }).finally(() => {
      rmSync(file, { force: true });
    });
  });
});
