/** The SASL table agrees with the schema: every setting a row requires exists, is read from its own key, and a secret is sensitive. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { schemaLeaves } from "../../../../src/config/schema.ts";
import { SASL_MECHANISM_NAMES, SASL_MECHANISM_TABLE, saslMechanism, type KafkaSaslOptions } from "../../../../src/source/auth/sasl-mechanisms.ts";

/** kafka.sasl options whose every text value is its own key ("oauth.clientId"...). */
const OWN_KEYS: KafkaSaslOptions = {
  mechanism: "mechanism",
  username: "username",
  password: "password",
  oauth: { tokenEndpoint: "oauth.tokenEndpoint", clientId: "oauth.clientId", clientSecret: "oauth.clientSecret", scope: "oauth.scope" },
  aws: { region: "aws.region", accessKeyId: "aws.accessKeyId", secretAccessKey: "aws.secretAccessKey", sessionToken: "aws.sessionToken" },
};

describe("SASL mechanism table", () => {
  test("names are unique, lower case, and found in any case", () => {
    assert.equal(new Set(SASL_MECHANISM_NAMES).size, SASL_MECHANISM_NAMES.length);
    for (const name of SASL_MECHANISM_NAMES) {
      assert.equal(name, name.toLowerCase());
      assert.equal(saslMechanism(name.toUpperCase())?.name, name);
    }
    assert.equal(saslMechanism(""), undefined);
    assert.equal(saslMechanism("gssapi"), undefined);
  });

  test("every required setting is a schema key under kafka.sasl, read from that key; secrets are sensitive", () => {
    const leaves = new Map(schemaLeaves.map((l) => [l.path, l.item]));
    for (const row of SASL_MECHANISM_TABLE) {
      for (const setting of row.requires) {
        const item = leaves.get(`kafka.sasl.${setting.key}`);
        assert.ok(item !== undefined, `${row.name}: kafka.sasl.${setting.key} is not in the schema`);
        assert.equal(setting.value(OWN_KEYS), setting.key, `${row.name}: ${setting.key} reads another key`);
        assert.equal(item.sensitive === true, setting.secret, `${row.name}: kafka.sasl.${setting.key} sensitivity`);
      }
    }
  });
});
