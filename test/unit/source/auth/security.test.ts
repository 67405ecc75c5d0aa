/** The Kafka security options, the OAuth token provider, MSK IAM signing and the failure diagnoses. */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { kafkaSasl } from "../../../../src/source/auth/kafka-security.ts";
import { createTokenProvider, jwtExpiry, parseTokenResponse, renewAt } from "../../../../src/source/auth/oauth-token.ts";
import { mskIamPayload } from "../../../../src/source/auth/msk-iam.ts";
import { explainKafkaError, explainKafkaFailure, type KafkaFailureContext } from "../../../../src/source/client/kafka-diagnosis.ts";

const NONE = { tokenEndpoint: "", clientId: "", clientSecret: "", scope: "" };
const NO_AWS = { region: "", accessKeyId: "", secretAccessKey: "", sessionToken: "" };

describe("kafkaSasl", () => {
  test("any case maps to kafkajs' mechanism", () => {
    const sasl = kafkaSasl({ mechanism: "SCRAM-SHA-512", username: "u", password: "p", oauth: NONE, aws: NO_AWS });
    assert.deepEqual(sasl, { mechanism: "scram-sha-512", username: "u", password: "p" });
    assert.equal(kafkaSasl({ mechanism: "", username: "", password: "", oauth: NONE, aws: NO_AWS }), undefined);
  });
  test("aws is Amazon MSK's AWS_MSK_IAM, with credentials from AWS_* when not configured", () => {
    const sasl = kafkaSasl({ mechanism: "AWS", username: "", password: "", oauth: NONE, aws: { ...NO_AWS, region: "eu-west-1" } }, { AWS_ACCESS_KEY_ID: "AKID" });
    assert.equal(sasl?.mechanism, "AWS_MSK_IAM");
  });
});

describe("OAuth tokens", () => {
  const jwt = (exp: number): string => `${Buffer.from('{"alg":"none"}').toString("base64url")}.${Buffer.from(JSON.stringify({ sub: "w", exp })).toString("base64url")}.`;
  test("expiry from expires_in, else the JWT's exp, else a default", () => {
    assert.equal(parseTokenResponse({ access_token: "t", expires_in: 60 }, 1_000).expiresAt, 61_000);
    assert.equal(parseTokenResponse({ access_token: jwt(100) }, 1_000).expiresAt, 100_000);
    assert.equal(jwtExpiry("opaque"), undefined);
    assert.equal(parseTokenResponse({ access_token: "opaque" }, 0).expiresAt, 300_000);
    assert.throws(() => parseTokenResponse({ error: "x" }, 0), /no access_token/);
  });
  test("renewed at 80% of its life, and never with less than 15 s left", () => {
    assert.equal(renewAt({ value: "t", expiresAt: 3_600_000 }, 0), 2_880_000);
    assert.equal(renewAt({ value: "t", expiresAt: 20_000 }, 0), 5_000);
  });

  test("the provider caches, renews, and names a refusal without the secret", async () => {
    let issued = 0;
    let refuse = false;
    const server = createServer((request, response) => {
      request.resume();
      request.on("end", () => {
        if (refuse) {
          response.statusCode = 401;
          response.end('{"error":"invalid_client","error_description":"secret s3cr3t is wrong"}');
          return;
        }
        issued += 1;
        response.end(JSON.stringify({ access_token: `token-${String(issued)}`, expires_in: 100 }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      let clock = 0;
      const url = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}/token`;
      const provider = createTokenProvider({ tokenEndpoint: url, clientId: "c", clientSecret: "s3cr3t", scope: "kafka" }, () => clock);
      const [a, b] = await Promise.all([provider.token(), provider.token()]);
      assert.equal(a.value, "token-1");
      assert.equal(b.value, "token-1");
      clock = 79_000;
      assert.equal((await provider.token()).value, "token-1");
      clock = 81_000;
      assert.equal((await provider.token()).value, "token-2");
      refuse = true;
      clock = 200_000;
      await assert.rejects(provider.token(), (error: Error) => {
        assert.match(error.message, /^Kafka: the OAuth token endpoint refused the client credentials: HTTP 401 invalid_client: check KAFKA_SASL_OAUTH_CLIENT_ID/);
        assert.ok(!error.message.includes("s3cr3t"));
        return true;
      });
    } finally {
      server.close();
    }
  });
});

describe("MSK IAM", () => {
  test("a SigV4-signed Connect document for the broker host", () => {
    const credentials = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret", sessionToken: "session" };
    const payload = mskIamPayload("b-1.msk.example:9098", "eu-west-1", credentials, new Date("2026-01-02T03:04:05.678Z"));
    assert.equal(payload.version, "2020_10_22");
    assert.equal(payload.action, "kafka-cluster:Connect");
    assert.equal(payload["x-amz-credential"], "AKIDEXAMPLE/20260102/eu-west-1/kafka-cluster/aws4_request");
    assert.equal(payload["x-amz-date"], "20260102T030405Z");
    assert.equal(payload["x-amz-security-token"], "session");
    assert.match(payload["x-amz-signature"] ?? "", /^[0-9a-f]{64}$/);
    assert.ok(!JSON.stringify(payload).includes('"secret"'));
    const again = mskIamPayload("b-1.msk.example:9098", "eu-west-1", credentials, new Date("2026-01-02T03:04:05.678Z"));
    assert.equal(again["x-amz-signature"], payload["x-amz-signature"]);
  });
});

describe("Kafka failure diagnoses", () => {
  const context: KafkaFailureContext = { brokers: ["127.0.0.1:1"], ssl: true, mechanism: "scram-sha-512", groupId: "g" };
  /** An error shaped as kafkajs makes them: retries exceeded, wrapping the connection's error. */
  const wrapped = (message: string, code?: string): Error => {
    const cause = Object.assign(new Error(`Connection error: ${message}`), { name: "KafkaJSConnectionError", code });
    return Object.assign(new Error(cause.message, { cause }), { name: "KafkaJSNumberOfRetriesExceeded" });
  };
  const protocol = (type: string, message: string): Error => Object.assign(new Error(message), { name: "KafkaJSProtocolError", type });

  test("each known cause gets its line", () => {
    const cases: [Error, KafkaFailureContext, RegExp][] = [
      [wrapped("self-signed certificate in certificate chain", "SELF_SIGNED_CERT_IN_CHAIN"), context, /^Kafka: TLS handshake failed \(self-signed certificate in certificate chain\): .*check KAFKA_SSL_CA_FILE$/],
      [wrapped("Hostname/IP does not match certificate's altnames", "ERR_TLS_CERT_ALTNAME_INVALID"), context, /KAFKA_SSL_SERVERNAME/],
      [wrapped("ssl/tls alert bad certificate", "ERR_SSL_SSL/TLS_ALERT_BAD_CERTIFICATE"), context, /refused our client certificate/],
      [wrapped("Client network socket disconnected before secure TLS connection was established", "ECONNRESET"), context, /port does not speak TLS: set KAFKA_SSL=false/],
      [protocol("UNSUPPORTED_SASL_MECHANISM", "The broker does not support the requested SASL mechanism"), context, /does not enable SASL mechanism SCRAM-SHA-512/],
      [Object.assign(new Error("SASL SCRAM SHA512 authentication failed: invalid credentials"), { name: "KafkaJSSASLAuthenticationError" }), context, /^Kafka: SASL SCRAM-SHA-512 authentication failed \(bad credentials\).*KAFKA_SASL_PASSWORD/],
      [protocol("TOPIC_AUTHORIZATION_FAILED", "Not authorized to access topics: [Topic authorization failed]"), context, /missing ACL\): grant the worker's principal Read and Describe on each topic/],
      [protocol("GROUP_AUTHORIZATION_FAILED", "Not authorized to access group: Group authorization failed"), context, /consumer group "g" \(missing ACL\)/],
    ];
    for (const [error, ctx, expected] of cases) assert.match(explainKafkaError(error, ctx) ?? "(none)", expected);
  });
  test("an outage is not explained", () => {
    assert.equal(explainKafkaError(wrapped("connect ECONNREFUSED 127.0.0.1:1", "ECONNREFUSED"), context), undefined);
  });
  test("a closed connection without TLS or SASL points at SASL when the port does not speak TLS", async () => {
    const closed = Object.assign(new Error("Closed connection"), { name: "KafkaJSConnectionClosedError" });
    const line = await explainKafkaFailure(closed, { ...context, ssl: false, mechanism: "" });
    assert.match(line ?? "", /listener probably requires SASL/);
  });
});
