import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { buildTemplateRequests, decideInstall, derivePatterns, MANAGED_BY, TEMPLATE_VERSION, type IndexTemplateOptions } from "../../../src/sink/index-templates.ts";

const options: IndexTemplateOptions = {
  name: "kes",
  patterns: ["app-logs", "audit-*"],
  priority: 200,
  shards: 3,
  replicas: 0,
  totalFieldsLimit: 1500,
  dataStream: false,
  timestampField: "@timestamp",
  messageField: "message",
  metadataField: "",
};

describe("index template bodies", () => {
  test("two component templates, then the index template composing them, each with version and _meta", () => {
    const requests = buildTemplateRequests(options);
    assert.deepEqual(requests.map((r) => `${r.kind}:${r.name}`), ["component:kes-settings", "component:kes-mappings", "index:kes"]);
    const [settings, mappings, index] = requests.map((r) => r.body);
    assert.deepEqual((settings?.template as { settings: unknown }).settings, {
      index: { number_of_shards: 3, number_of_replicas: 0, mapping: { total_fields: { limit: 1500 }, ignore_malformed: true } },
    });
    const m = (mappings?.template as { mappings: { subobjects: boolean; properties: Record<string, unknown> } }).mappings;
    assert.equal(m.subobjects, false);
    assert.deepEqual(m.properties["@timestamp"], { type: "date" });
    assert.deepEqual(m.properties.message, { type: "text" });
    assert.deepEqual(index?.index_patterns, ["app-logs", "audit-*"]);
    assert.deepEqual(index.composed_of, ["kes-settings", "kes-mappings"]);
    assert.equal(index.data_stream, undefined);
    for (const r of requests) {
      const meta = r.body._meta as { managed_by: string; version: number; digest: string };
      assert.equal(meta.managed_by, MANAGED_BY);
      assert.equal(meta.version, TEMPLATE_VERSION);
      assert.match(meta.digest, /^[0-9a-f]{16}$/);
    }
  });

  test("data-stream mode declares the data stream and keeps the timestamp strict; metadata fields are mapped", () => {
    const requests = buildTemplateRequests({ ...options, dataStream: true, metadataField: "kafka" });
    const index = requests[2]?.body;
    assert.deepEqual(index?.data_stream, {});
    const props = (requests[1]?.body.template as { mappings: { properties: Record<string, unknown> } }).mappings.properties;
    assert.deepEqual(props["@timestamp"], { type: "date", ignore_malformed: false });
    assert.deepEqual(props["kafka.offset"], { type: "long" });
    assert.deepEqual(props["kafka.topic"], { type: "keyword" });
  });

  test("a configuration change changes the digest, not the version", () => {
    const a = buildTemplateRequests(options)[0]?.body._meta as { digest: string };
    const b = buildTemplateRequests({ ...options, shards: 1 })[0]?.body._meta as { digest: string };
    assert.notEqual(a.digest, b.digest);
  });
});

describe("index patterns from the routing", () => {
  test("per listed topic, sanitized, dates as wildcards; mapped topics use their template", () => {
    assert.deepEqual(derivePatterns({ template: "kafka-{topic}-{yyyy.MM.dd}", topicMap: { Audit: "audit-{yyyy.MM}" }, topics: ["App.Logs", "Audit"], topicPattern: false }), [
      "audit-*",
      "kafka-app.logs-*",
    ]);
  });

  test("a topic pattern needs a literal part, else the patterns must be configured", () => {
    assert.deepEqual(derivePatterns({ template: "logs-{topic}-default", topicMap: {}, topics: [], topicPattern: true }), ["logs-*-default"]);
    assert.match(String(derivePatterns({ template: "{topic}-{yyyy.MM.dd}", topicMap: {}, topics: [], topicPattern: true })), /would match every index/);
    assert.match(String(derivePatterns({ template: "{topic}", topicMap: {}, topics: [], topicPattern: false })), /no topics/);
  });

  test("a {field:...} group is a wildcard; templates of topicSettings patterns count like a topic pattern's", () => {
    assert.deepEqual(
      derivePatterns({ template: "{topic}", topicMap: { app: "logs-{field:service.name|unrouted}-{yyyy.MM.dd}" }, patternTemplates: ["audit-{topic}-{yyyy}"], topics: ["app"], topicPattern: false }),
      ["audit-*-*", "logs-*-*"],
    );
    assert.match(String(derivePatterns({ template: "x-{topic}", topicMap: {}, patternTemplates: ["{field:a}"], topics: ["t"], topicPattern: false })), /would match every index/);
  });
});

describe("install decision", () => {
  const wanted = buildTemplateRequests(options)[2]?.body ?? {};
  const ours = (meta: Record<string, unknown>): Record<string, unknown> => ({ index_patterns: ["x"], _meta: { managed_by: MANAGED_BY, ...meta } });
  const digest = (wanted._meta as { digest: string }).digest;

  test("absent: create; same version and digest: keep; older version or other digest: update; newer: keep", () => {
    assert.equal(decideInstall(undefined, wanted, false), "create");
    assert.equal(decideInstall(ours({ version: TEMPLATE_VERSION, digest }), wanted, false), "keep");
    assert.equal(decideInstall(ours({ version: TEMPLATE_VERSION, digest: "other" }), wanted, false), "update");
    assert.equal(decideInstall(ours({ version: TEMPLATE_VERSION - 1, digest }), wanted, false), "update");
    assert.equal(decideInstall(ours({ version: TEMPLATE_VERSION + 1, digest: "x" }), wanted, false), "keep");
  });

  test("someone else's template: left alone unless overwrite", () => {
    const theirs = { index_patterns: ["x"], _meta: { managed_by: "team-a" } };
    assert.equal(decideInstall(theirs, wanted, false), "foreign");
    assert.equal(decideInstall({ index_patterns: ["x"] }, wanted, false), "foreign");
    assert.equal(decideInstall(theirs, wanted, true), "update");
  });
});
