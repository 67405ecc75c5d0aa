/** Elasticsearch client options for secured clusters, and the diagnoses of their failures. */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { errors } from "@elastic/elasticsearch";
import { elasticsearchAuth, normalizeFingerprint, type ElasticsearchOptions } from "../../../src/sink/es-client.ts";
import { explainElasticsearchFailure } from "../../../src/sink/es-diagnosis.ts";

const BASE: ElasticsearchOptions = {
  nodes: ["https://127.0.0.1:9200"], username: "", password: "", apiKey: "", bearerToken: "", cloudId: "", caFile: "", caFingerprint: "",
  certFile: "", keyFile: "", keyPassphrase: "", tlsRejectUnauthorized: true, requestTimeoutMs: 1000, compression: false,
};

describe("Elasticsearch authentication", () => {
  test("an API key in either form, a bearer token, basic auth", () => {
    assert.deepEqual(elasticsearchAuth({ ...BASE, apiKey: "ZW5jb2RlZA==" }), { apiKey: "ZW5jb2RlZA==" });
    assert.deepEqual(elasticsearchAuth({ ...BASE, apiKey: "id1:key:with:colons" }), { apiKey: { id: "id1", api_key: "key:with:colons" } });
    assert.deepEqual(elasticsearchAuth({ ...BASE, bearerToken: "tok" }), { bearer: "tok" });
    assert.deepEqual(elasticsearchAuth({ ...BASE, username: "u", password: "p" }), { username: "u", password: "p" });
    assert.equal(elasticsearchAuth(BASE), undefined);
  });
  test("fingerprints as Node prints them", () => {
    assert.equal(normalizeFingerprint("ab".repeat(32)), Array(32).fill("AB").join(":"));
    assert.equal(normalizeFingerprint("ab:".repeat(31) + "ab"), Array(32).fill("AB").join(":"));
  });
});

describe("Elasticsearch failure diagnoses", () => {
  const responseError = (statusCode: number, reason: string): errors.ResponseError =>
    new errors.ResponseError({ body: { error: { type: "security_exception", reason } }, statusCode, headers: {}, warnings: null, meta: {} as never });

  test("401: bad credentials, with what to check", async () => {
    const line = await explainElasticsearchFailure(responseError(401, "unable to authenticate user [w]"), []);
    assert.match(line ?? "", /^Elasticsearch: authentication failed \(unable to authenticate user \[w\]\): check ES_USERNAME\/ES_PASSWORD, ES_API_KEY/);
  });
  test("TLS causes", async () => {
    const cases: [string, RegExp][] = [
      ["self-signed certificate in certificate chain", /check ES_CA_FILE/],
      ["Server certificate CA fingerprint does not match the value configured in caFingerprint", /ES_CA_FINGERPRINT/],
      ["Hostname/IP does not match certificate's altnames", /does not name the host of ES_NODE/],
      ["write EPROTO 0000:error:0A00010B:SSL routines:ssl3_get_record:wrong version number", /does not speak TLS: use http:\/\//],
    ];
    for (const [message, expected] of cases) {
      assert.match((await explainElasticsearchFailure(new errors.ConnectionError(message), [])) ?? "(none)", expected);
    }
  });
  test("403 and outages are not misconfigurations", async () => {
    assert.equal(await explainElasticsearchFailure(responseError(403, "no monitor"), []), undefined);
    assert.equal(await explainElasticsearchFailure(new errors.ConnectionError("connect ECONNREFUSED 127.0.0.1:9200"), []), undefined);
  });
});
