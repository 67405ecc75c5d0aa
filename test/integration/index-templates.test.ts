/**
 * Index templates on the real server: installed at start and used by the new index;
 * records that are mapping conflicts under dynamic mapping are indexed under the
 * template's rules; data-stream mode indexes into a data stream; a user's own
 * template of the same name is left alone; a version/digest decides updates.
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { countDocuments } from "../support/elasticsearch.ts";
import { waitFor } from "../support/env.ts";
import { createTopics, produce } from "../support/kafka.ts";
import { WorkerProcess, withWorkers } from "../support/worker.ts";
import { suiteFixture } from "../support/fixture.ts";

/** Each of these conflicts with an earlier one under dynamic mapping. */
const RECORDS = [
  { "@timestamp": "2026-01-01T00:00:00Z", host: "web1", status: 200, message: "GET / 200" },
  { host: { name: "web2" }, status: "ok", "service.name": "api" }, // object where a string was, text where a long was
  { "@timestamp": "yesterday", "host.ip": "10.0.0.1", message: "bad time" }, // not a date
  { service: "billing", status: 503, error_message: "upstream timed out" }, // a string where an object path was
];

async function runCli(env: Record<string, string>, args: string[]): Promise<{ code: number | null; out: string[] }> {
  const cli = new WorkerProcess(env, args, `cli ${args.join(" ")}`);
  const exit = await cli.exited;
  return { code: exit.code, out: cli.stderr };
}

describe("index templates", () => {
  const { es, name } = suiteFixture("templates");
  after(async () => {
    // Templates are not indices: the fixture does not remove them. (The data stream
    // stays: this server has no _data_stream API to delete it; the name is unique.)
    await es.indices.deleteIndexTemplate({ name: `${name}*` }).catch(() => undefined);
    await es.cluster.deleteComponentTemplate({ name: `${name}*` }).catch(() => undefined);
  });

  test("installed at start, used by the new index: records that conflict under dynamic mapping are all indexed", async () => {
    let worker: WorkerProcess | undefined;
    const topic = `${name}-logs`;
    const template = `${name}-tpl`;
    await withWorkers(() => [worker], async () => {
      // Under dynamic mapping, the same records are refused: the control.
      const control = await es.bulk({
        refresh: true,
        operations: RECORDS.flatMap((r) => [{ index: { _index: `${name}-control` } }, r]),
      });
      const refused = control.items.filter((i) => i.index?.error !== undefined).length;
      assert.ok(refused >= 2, `dynamic mapping refuses conflicting records (refused ${String(refused)})`);

      await createTopics([topic], 2);
      worker = new WorkerProcess({
        KAFKA_TOPICS: topic, KAFKA_GROUP_ID: `${name}-group`, INDEX_TEMPLATE_INSTALL: "true", INDEX_TEMPLATE_NAME: template, INDEX_REPLICAS: "0",
      }, ["start"], "worker");
      await worker.ready();
      await produce(topic, RECORDS.length, (i) => ({ value: JSON.stringify(RECORDS[i]) }), 2);
      await waitFor("every record indexed", async () => ((await countDocuments(es, topic)) === RECORDS.length ? true : undefined), 60_000);
      assert.equal(await worker.metric("kafka_es_transfer_records_rejected_total"), 0);

      const installed = await es.indices.getIndexTemplate({ name: template });
      const body = installed.index_templates.find((t) => t.name === template)?.index_template;
      assert.ok(body !== undefined, "template installed");
      assert.deepEqual(body.index_patterns, [topic]);
      assert.deepEqual(body._meta?.managed_by, "kafka-es-transfer");
      const mapping = (await es.indices.getMapping({ index: topic }))[topic]?.mappings as Record<string, unknown>;
      assert.equal(mapping.subobjects, false, "the index took the template's mappings");
      const settings = (await es.indices.getSettings({ index: topic }))[topic]?.settings?.index;
      assert.equal(settings?.number_of_replicas, "0", "replicas from the configuration");
      const props = mapping.properties as Record<string, { type?: string; fields?: unknown }>;
      assert.equal(props["@timestamp"]?.type, "date");
      assert.equal(props.message?.type, "text");
      assert.equal(props.host?.type, "keyword");
      assert.equal(props["host.name"]?.type, "keyword", "dotted names kept as leaf fields");
      assert.ok(props.error_message?.fields !== undefined, "message-like strings get a text sub-field");
    });
  });

  test("data-stream mode: logs-{topic}-default is a data stream written with op_type create", async () => {
    let worker: WorkerProcess | undefined;
    const topic = `${name}-ds`;
    const stream = `logs-${topic}-default`;
    await withWorkers(() => [worker], async () => {
      await createTopics([topic], 1);
      worker = new WorkerProcess({
        KAFKA_TOPICS: topic, KAFKA_GROUP_ID: `${name}-ds-group`, INDEX_TEMPLATE_INSTALL: "true", INDEX_TEMPLATE_NAME: `${name}-ds`,
        INDEX_DATA_STREAM: "true", INDEX_REPLICAS: "0",
      }, ["start"], "ds-worker");
      await worker.ready();
      await produce(topic, 50, (i) => ({ value: JSON.stringify({ seq: i, message: `line ${String(i)}` }) }));
      await waitFor("every record in the data stream", async () => ((await countDocuments(es, stream)) === 50 ? true : undefined), 60_000);
      const backing = Object.keys(await es.indices.get({ index: stream }));
      assert.equal(backing.length, 1);
      assert.match(backing[0] ?? "", /^\.ds-/, `a data stream's backing index (${backing.join(",")})`);
      assert.equal(await worker.metric("kafka_es_transfer_records_rejected_total"), 0);
    });
  });

  test("a user's own template of the same name is left alone; ours is updated only when due", async () => {
    const template = `${name}-mine`;
    const env = { KAFKA_TOPICS: `${name}-x`, INDEX_TEMPLATE_NAME: template, LOG_LEVEL: "warn" };
    const users = { index_patterns: [`${name}-x`], priority: 300, template: { settings: { number_of_shards: 1 } } };
    await es.indices.putIndexTemplate({ name: template, ...users });
    try {
      const left = await runCli(env, ["templates", "--apply"]);
      assert.equal(left.code, 0);
      assert.ok(left.out.includes(`index template ${template}: foreign`), left.out.join("\n"));
      const after = (await es.indices.getIndexTemplate({ name: template })).index_templates.find((t) => t.name === template)?.index_template;
      assert.ok(after !== undefined);
      assert.equal(after.priority, 300);
      assert.equal(after._meta, undefined, "the user's template is unchanged");

      const replaced = await runCli({ ...env, INDEX_TEMPLATE_OVERWRITE: "true" }, ["templates", "--apply"]);
      assert.ok(replaced.out.includes(`index template ${template}: update`), replaced.out.join("\n"));
      const again = await runCli(env, ["templates", "--apply"]);
      assert.ok(again.out.includes(`index template ${template}: keep`), again.out.join("\n"));
      const changed = await runCli({ ...env, INDEX_SHARDS: "2" }, ["templates", "--apply"]);
      assert.ok(changed.out.includes(`component template ${template}-settings: update`), changed.out.join("\n"));
    } finally {
      await es.indices.deleteIndexTemplate({ name: template }).catch(() => undefined);
      await es.cluster.deleteComponentTemplate({ name: `${template}-settings` }).catch(() => undefined);
      await es.cluster.deleteComponentTemplate({ name: `${template}-mappings` }).catch(() => undefined);
    }
  });
});
