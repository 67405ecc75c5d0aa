/**
 * Issue 16, item 4: an escape for what will never be writable. Topic A's index is closed
 * for good; with HOLD_MAX_MS its partitions are held for that long, then their refused
 * records take the failure policy: the dead-letter topic, whose headers say why
 * (`error.type` held_index_closed_exception, `error.reason` with the hold's duration).
 * Topic B flows all along. In the end documents + dead letters == records, committed == end.
 * (Before the fix, A's records were retried in their slots forever, B stalled with them.)
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { readTopic } from "../support/dead-letters.ts";
import { countDocuments } from "../support/elasticsearch.ts";
import { faultRecord, faultWorkerEnv } from "../support/fault-checks.ts";
import { suiteFixture } from "../support/fixture.ts";
import { createTopics, produce, waitForCommittedAtEnd } from "../support/kafka.ts";
import { WorkerProcess, withWorkers } from "../support/worker.ts";

const PARTITIONS = 2;
const N = 1_000;

describe("fault: HOLD_MAX_MS expires a hold into the dead-letter topic", () => {
  const { es, name, groupId } = suiteFixture("hold-expiry");
  const [closed, open, dlq] = ["a", "b", "dlq"].map((t) => `${name}-${t}`) as [string, string, string];

  test("records of an index closed for good are dead-lettered after HOLD_MAX_MS, saying why; the other topic flows", async (t) => {
    let worker: WorkerProcess | undefined;
    await withWorkers(() => [worker], async () => {
      await createTopics([closed, open, dlq], PARTITIONS);
      await es.indices.create({ index: closed });
      await es.indices.close({ index: closed });
      const w = new WorkerProcess({ ...faultWorkerEnv(`${closed},${open}`, groupId), DLQ_TOPIC: dlq, HOLD_MAX_MS: "3000" });
      worker = w;
      await w.ready();
      for (const topic of [closed, open]) await produce(topic, N, faultRecord, PARTITIONS);

      await waitForCommittedAtEnd(groupId, [closed, open], 120_000);
      assert.equal(await countDocuments(es, open), N, "the open topic: every record once");
      const letters = (await readTopic(dlq)).filter((l) => l.headers["source.topic"] === closed);
      const offsets = new Set(letters.map((l) => `${l.headers["source.partition"] ?? ""}/${l.headers["source.offset"] ?? ""}`));
      assert.equal(offsets.size, N, "every record of the closed index is in the dead-letter topic");
      for (const letter of letters) {
        assert.equal(letter.headers["error.type"], "held_index_closed_exception");
        assert.match(letter.headers["error.reason"] ?? "", /partition held \d+\.\d s, past HOLD_MAX_MS/);
      }
      assert.ok(w.logs.some((l) => l.msg.startsWith("partition hold expired")), "the expiry is logged");
      t.diagnostic(`${String(letters.length)} dead letters for ${String(N)} records of the closed index (duplicates: re-read records written twice)`);
      assert.equal((await w.stop()).code, 0);
    });
  });
});
