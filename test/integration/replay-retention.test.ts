/**
 * Replay when retention deleted part of the requested range (issue 17, item 4), before
 * the run or before `--resume`. Retention is `deleteTopicRecords`, which moves the log start
 * exactly as retention does. The replay reads what is left, then says what was lost,
 * naming the partitions and offsets, and exits 3 instead of reporting the range
 * complete (before: exit 0, "replay complete").
 */
import assert from "node:assert/strict";
import { writeFile, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, test } from "node:test";
import { serializeResumeState } from "../../src/replay/resume-state.ts";
import { countDocuments } from "../support/elasticsearch.ts";
import { suiteFixture } from "../support/fixture.ts";
import { createTopics, produce, withAdmin } from "../support/kafka.ts";
import { WorkerProcess, withWorkers } from "../support/worker.ts";

const BASE = Date.UTC(2026, 0, 1, 0, 0, 0);
const STEP = 1_000;
const PER_PARTITION = 200;
const PARTITIONS = 2;
const FROM = BASE - 60_000;
const TO = BASE + PER_PARTITION * PARTITIONS * STEP + 60_000;

describe("replay: retention deleted part of the range", () => {
  const { es, name, groupId } = suiteFixture("replay-retention");
  const env = { KAFKA_GROUP_ID: groupId, LOG_LEVEL: "warn" };

  async function seed(topic: string, deleteBelow: number): Promise<void> {
    await createTopics([topic], PARTITIONS, { "retention.ms": "-1" });
    await produce(topic, PER_PARTITION * PARTITIONS, (i) => ({ value: JSON.stringify({ seq: i }), timestamp: String(BASE + i * STEP), partition: i % PARTITIONS }));
    await withAdmin(async (admin) => {
      await admin.fetchTopicMetadata({ topics: [topic] });
      await admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: String(deleteBelow) }] });
    });
  }

  async function run(args: string[], runName: string): Promise<WorkerProcess> {
    const w = new WorkerProcess(env, ["replay", ...args], runName);
    await w.exited;
    return w;
  }

  test("before the run: what is left is replayed, the lost partition is named, exit 3", async (t) => {
    const topic = `${name}-fresh`;
    let worker: WorkerProcess | undefined;
    await withWorkers(() => [worker], async () => {
      await seed(topic, 50);
      worker = await run(["--topics", topic, "--from", new Date(FROM).toISOString(), "--to", String(TO), "--index", `${topic}-out`], "fresh");
      const lines = worker.stderr.filter((l) => l.includes("retention deleted part of the range"));
      t.diagnostic(lines.join("\n"));
      assert.equal((await worker.exited).code, 3, worker.tail());
      assert.ok(lines.some((l) => l === `replay: retention deleted part of the range before it was read: ${topic}[0]: offsets below 50 (the range starts before the oldest record kept)`), lines.join("\n"));
      assert.ok(lines.some((l) => l.startsWith("replay incomplete: ")), "said again at the end");
      assert.ok(!lines.some((l) => l.includes(`${topic}[1]`)), "partition 1 lost nothing");
      await es.indices.refresh({ index: `${topic}-out` });
      assert.equal(await countDocuments(es, `${topic}-out`), PER_PARTITION * PARTITIONS - 50);
    });
  });

  test("before --resume: the offsets deleted since the run stopped are named, exit 3", async (t) => {
    const topic = `${name}-resume`;
    let worker: WorkerProcess | undefined;
    await withWorkers(() => [worker], async () => {
      await seed(topic, 80);
      // An interrupted run that had settled partition 0 up to offset 10 and partition 1 whole.
      const dir = await mkdtemp(path.join(tmpdir(), "replay-retention-"));
      const file = path.join(dir, "run.resume.json");
      const end = String(PER_PARTITION);
      await writeFile(file, serializeResumeState({
        topics: [topic], range: { from: FROM, to: TO }, index: `${topic}-out`,
        partitions: [{ topic, partition: 0, start: "0", end, next: "10" }, { topic, partition: 1, start: "0", end, next: end }],
      }));
      worker = await run(["--resume", file], "resume");
      const lines = worker.stderr.filter((l) => l.includes("retention deleted part of the range"));
      t.diagnostic(lines.join("\n"));
      assert.equal((await worker.exited).code, 3, worker.tail());
      assert.ok(lines.some((l) => l.endsWith(`${topic}[0]: offsets 10-79 (70)`)), lines.join("\n"));
      await es.indices.refresh({ index: `${topic}-out` });
      assert.equal(await countDocuments(es, `${topic}-out`), PER_PARTITION - 80, "partition 0 from its new log start");
    });
  });
});
