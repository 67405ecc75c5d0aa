/**
 * Compressed topics: one topic holding gzip, snappy, lz4 and zstd batches written by
 * kcat (librdkafka: raw snappy blocks) and by the Java client (xerial-framed snappy),
 * mixed. Every record is indexed and the offsets reach the end; before the codecs were
 * registered, the first snappy batch stopped the worker ("compression not implemented").
 */
import assert from "node:assert/strict";
import path from "node:path";
import { describe, test } from "node:test";
import { countDocuments } from "../support/elasticsearch.ts";
import { BROKERS, ROOT } from "../support/env.ts";
import { suiteFixture } from "../support/fixture.ts";
import { createTopics, waitForCommittedAtEnd } from "../support/kafka.ts";
import { kafkaJava, kcatProduce } from "../support/kafka-tools.ts";
import { WorkerProcess, withWorkers } from "../support/worker.ts";

const KCAT_CODECS = ["gzip", "snappy", "lz4", "zstd"] as const;
const JAVA_CODECS = ["snappy", "lz4", "zstd", "gzip"] as const;
const PER_KCAT_CODEC = 500;
const PER_JAVA_CODEC = 200;

/** The Java client's own compression, through the broker's libs (one JVM for every codec). */
async function javaProduce(topic: string): Promise<void> {
  await kafkaJava(path.join(ROOT, "test/support/java/CompressedProducer.java"), [BROKERS.join(","), topic, JAVA_CODECS.join(","), String(PER_JAVA_CODEC)]);
}

describe("compressed topics", () => {
  const { es, name: topic, groupId } = suiteFixture("codecs");

  test("gzip, snappy (raw and xerial), lz4 and zstd batches from kcat and the Java client, mixed in one topic", async (t) => {
    let worker: WorkerProcess | undefined;
    await withWorkers(() => [worker], async () => {
      await createTopics([topic], 2);
      for (const codec of KCAT_CODECS) {
        const lines = Array.from({ length: PER_KCAT_CODEC }, (_, n) => JSON.stringify({ codec: `kcat-${codec}`, n }));
        // librdkafka compresses each batch.
        await kcatProduce(["-t", topic, "-z", codec, "-X", "linger.ms=20"], lines);
      }
      await javaProduce(topic);
      const total = KCAT_CODECS.length * PER_KCAT_CODEC + JAVA_CODECS.length * PER_JAVA_CODEC;

      const w = new WorkerProcess({ KAFKA_TOPICS: topic, KAFKA_GROUP_ID: groupId });
      worker = w;
      await w.ready();
      await waitForCommittedAtEnd(groupId, [topic], 120_000);
      assert.equal(await countDocuments(es, topic), total);

      const result = await es.search({ index: topic, size: 0, aggs: { codec: { terms: { field: "codec.keyword", size: 20 } } } });
      const buckets = (result.aggregations?.codec as { buckets: { key: string; doc_count: number }[] }).buckets;
      const perCodec = Object.fromEntries(buckets.map((b) => [b.key, b.doc_count]));
      t.diagnostic(`documents per producer and codec: ${JSON.stringify(perCodec)}`);
      for (const codec of KCAT_CODECS) assert.equal(perCodec[`kcat-${codec}`], PER_KCAT_CODEC, `kcat ${codec}`);
      for (const codec of JAVA_CODECS) assert.equal(perCodec[`java-${codec}`], PER_JAVA_CODEC, `java ${codec}`);
      assert.ok(!w.logs.some((l) => /compression not implemented/i.test(JSON.stringify(l))));
      assert.equal((await w.stop()).code, 0);
    });
  });
});
