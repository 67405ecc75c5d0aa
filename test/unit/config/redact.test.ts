import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { loadConfig } from "../../../src/config/load.ts";
import { REDACTED, redactedConfig } from "../../../src/config/redact.ts";
import { schemaLeaves } from "../../../src/config/schema.ts";

function get(object: unknown, path: string): unknown {
  let node = object;
  for (const part of path.split(".")) node = (node as Record<string, unknown>)[part];
  return node;
}

describe("redactedConfig", () => {
  const env = {
    KAFKA_TOPICS: "orders",
    KAFKA_SASL_MECHANISM: "plain",
    KAFKA_SASL_USERNAME: "user",
    KAFKA_SASL_PASSWORD: "kafka-secret",
    ES_API_KEY: "api-secret",
  };
  const config = loadConfig({ argv: [], files: [], env });

  test("hides set secrets, shows unset ones as empty, leaves the rest", () => {
    const shown = redactedConfig(config);
    assert.equal(get(shown, "kafka.sasl.password"), REDACTED);
    assert.equal(get(shown, "elasticsearch.apiKey"), REDACTED);
    assert.equal(get(shown, "elasticsearch.password"), "");
    assert.equal(get(shown, "kafka.sasl.username"), "user");
    assert.deepEqual(get(shown, "kafka.topics"), ["orders"]);
    const text = JSON.stringify(shown);
    assert.ok(!text.includes("kafka-secret") && !text.includes("api-secret"), text);
  });

  test("follows the schema's sensitive flags", () => {
    const sensitive = schemaLeaves.filter((l) => l.item.sensitive === true).map((l) => l.path);
    assert.deepEqual(sensitive.sort(), [
      "elasticsearch.apiKey",
      "elasticsearch.bearerToken",
      "elasticsearch.keyPassphrase",
      "elasticsearch.password",
      "kafka.sasl.aws.secretAccessKey",
      "kafka.sasl.aws.sessionToken",
      "kafka.sasl.oauth.clientSecret",
      "kafka.sasl.password",
      "kafka.tls.keyPassphrase",
      "schemaRegistry.bearerToken",
      "schemaRegistry.keyPassphrase",
      "schemaRegistry.password",
    ]);
  });

  test("does not modify the config it is given", () => {
    redactedConfig(config);
    assert.equal(config.kafka.sasl.password, "kafka-secret");
    assert.equal(config.elasticsearch.apiKey, "api-secret");
  });
});
