import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { createTopicSettingsLookup, topicEntryProblems, type TopicSettings } from "../../../src/pipeline/topic-settings.ts";

const DEFAULTS: TopicSettings = { valueFormat: "json", keyFormat: "json", indexTemplate: "{topic}", pipeline: "", idStrategy: "coordinates", opType: "index" };

describe("per-topic settings lookup", () => {
  const lookup = createTopicSettingsLookup(DEFAULTS, {
    "/logs-.*/": { indexTemplate: "logs-{field:service.name}-{yyyy.MM.dd}", pipeline: "logs" },
    "/logs-audit.*/": { pipeline: "audit", idStrategy: "none" },
    "logs-audit": { opType: "create" },
    users: { idStrategy: "key", opType: "update" },
  });

  test("a topic no entry selects gets the global settings", () => {
    assert.deepEqual(lookup("other"), DEFAULTS);
    assert.deepEqual(lookup("xlogs-a"), DEFAULTS, "patterns are anchored");
  });

  test("exact entries win per setting, then the first pattern that sets it, then the global value", () => {
    assert.deepEqual(lookup("users"), { ...DEFAULTS, idStrategy: "key", opType: "update" });
    assert.deepEqual(lookup("logs-app"), { ...DEFAULTS, indexTemplate: "logs-{field:service.name}-{yyyy.MM.dd}", pipeline: "logs" });
    assert.deepEqual(lookup("logs-audit"), { ...DEFAULTS, indexTemplate: "logs-{field:service.name}-{yyyy.MM.dd}", pipeline: "logs", idStrategy: "none", opType: "create" });
  });

  test("answers are cached and stable", () => {
    assert.equal(lookup("users"), lookup("users"));
  });
});

describe("per-topic settings validation", () => {
  test("a valid entry has no problem", () => {
    assert.deepEqual(topicEntryProblems("orders", { valueFormat: "avro", keyFormat: "json", indexTemplate: "o-{yyyy}", pipeline: "p", idStrategy: "key", opType: "update" }), []);
    assert.deepEqual(topicEntryProblems("/a|b/", {}), []);
  });

  test("each problem names the entry, the setting and the value", () => {
    assert.deepEqual(topicEntryProblems("orders", { opType: "upsert" }), ['["orders"].opType = "upsert": must be one of "index", "create", "update"']);
    assert.deepEqual(topicEntryProblems("orders", { valueFormat: "xml" }), ['["orders"].valueFormat = "xml": must be one of "json", "avro", "protobuf", "json-schema", "auto"']);
    assert.match(String(topicEntryProblems("orders", { indexTemplate: "Bad" })), /\["orders"\]\.indexTemplate = "Bad": uppercase "B"/);
    assert.match(String(topicEntryProblems("orders", { pipeline: " p" })), /\.pipeline = " p": must not start or end with spaces/);
    assert.match(String(topicEntryProblems("orders", { pipeline: 3 })), /must be a string/);
    assert.deepEqual(topicEntryProblems("orders", { opTyp: "index" }), ['["orders"]: unknown setting "opTyp" (one of valueFormat, keyFormat, indexTemplate, pipeline, idStrategy, opType)']);
    assert.match(String(topicEntryProblems("orders", "index")), /must be an object of settings/);
    assert.match(String(topicEntryProblems("bad topic", {})), /neither a Kafka topic name .* nor a \/regular expression\//);
    assert.match(String(topicEntryProblems("/(/", {})), /not a valid regular expression/);
  });
});
