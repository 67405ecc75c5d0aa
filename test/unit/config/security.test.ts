/**
 * The security settings: SASL mechanisms in any case, secrets from *_FILE variables, and
 * the checks check-config makes on certificate and key files (generated here with openssl).
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError } from "../../../src/errors.ts";
import { loadConfig } from "../../../src/config/load.ts";
import { redactedConfig } from "../../../src/config/redact.ts";

const dir = mkdtempSync(join(tmpdir(), "kest-security-"));
const at = (name: string): string => join(dir, name);
const PASSPHRASE = "key-passphrase-never-shown";

before(() => {
  const openssl = (...args: string[]): void => { execFileSync("openssl", args, { stdio: "ignore" }); };
  for (const name of ["a", "b"]) {
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", `/CN=${name}`, "-keyout", at(`${name}.key`), "-out", at(`${name}.pem`));
  }
  openssl("pkcs8", "-topk8", "-in", at("a.key"), "-v2", "aes-256-cbc", "-passout", `pass:${PASSPHRASE}`, "-out", at("a-encrypted.key"));
  writeFileSync(at("not-pem.txt"), "hello\n");
  writeFileSync(at("password"), "from-a-file\n");
});
after(() => { rmSync(dir, { recursive: true, force: true }); });

function load(env: Record<string, string>): ReturnType<typeof loadConfig> {
  return loadConfig({ argv: [], files: [], env: { KAFKA_TOPICS: "orders", ...env } });
}
function problem(env: Record<string, string>): string {
  try {
    load(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    assert.ok(!error.message.includes(PASSPHRASE), error.message);
    return error.message;
  }
  assert.fail("the configuration loaded");
}

const TLS = { KAFKA_SSL: "true" };

describe("SASL mechanisms", () => {
  test("any case, Kafka's own spelling included", () => {
    for (const [given, expected] of [["SCRAM-SHA-512", "scram-sha-512"], ["Plain", "plain"], ["OAUTHBEARER", "oauthbearer"], ["aws", "aws"]]) {
      const extra: Record<string, string> = expected === "oauthbearer"
        ? { KAFKA_SASL_OAUTH_TOKEN_ENDPOINT: "https://idp/token", KAFKA_SASL_OAUTH_CLIENT_ID: "c", KAFKA_SASL_OAUTH_CLIENT_SECRET: "s" }
        : expected === "aws" ? { KAFKA_SASL_AWS_REGION: "eu-west-1" } : { KAFKA_SASL_USERNAME: "u", KAFKA_SASL_PASSWORD: "p" };
      assert.equal(load({ KAFKA_SASL_MECHANISM: given ?? "", ...extra }).kafka.sasl.mechanism, expected);
    }
  });
  test("an unknown one is named with the choices", () => {
    assert.match(problem({ KAFKA_SASL_MECHANISM: "GSSAPI" }), /kafka\.sasl\.mechanism = "gssapi".*"scram-sha-512", "oauthbearer", "aws" \(any case\)/);
  });
  test("oauthbearer needs the token endpoint, client id and secret; aws a region", () => {
    const message = problem({ KAFKA_SASL_MECHANISM: "oauthbearer", KAFKA_SASL_OAUTH_TOKEN_ENDPOINT: "not a url" });
    assert.match(message, /kafka\.sasl\.oauth\.tokenEndpoint = "not a url": an http\(s\) URL is required/);
    assert.match(message, /kafka\.sasl\.oauth\.clientId/);
    assert.match(message, /kafka\.sasl\.oauth\.clientSecret: required/);
    assert.match(problem({ KAFKA_SASL_MECHANISM: "aws" }), /kafka\.sasl\.aws\.region = "": required/);
  });
});

describe("secrets from files (*_FILE)", () => {
  test("the file's content without its line break", () => {
    const config = load({ KAFKA_SASL_MECHANISM: "plain", KAFKA_SASL_USERNAME: "u", KAFKA_SASL_PASSWORD_FILE: at("password"), ES_API_KEY_FILE: at("password") });
    assert.equal(config.kafka.sasl.password, "from-a-file");
    assert.equal(config.elasticsearch.apiKey, "from-a-file");
    assert.ok(!JSON.stringify(redactedConfig(config)).includes("from-a-file"));
  });
  test("both forms, or an unreadable file, are refused by name", () => {
    assert.match(problem({ ES_PASSWORD: "x", ES_PASSWORD_FILE: at("password") }), /ES_PASSWORD and ES_PASSWORD_FILE are both set/);
    assert.match(problem({ ES_BEARER_TOKEN_FILE: at("missing") }), /ES_BEARER_TOKEN_FILE = ".*missing": cannot read that file \(ENOENT\)/);
  });
});

describe("certificate and key files", () => {
  test("TLS files need kafka.ssl", () => {
    assert.match(problem({ KAFKA_SSL_CA_FILE: at("a.pem") }), /kafka\.ssl = false: set it to true \(KAFKA_SSL=true\) to use kafka\.tls\.caFile/);
  });
  test("a CA file must exist and hold PEM certificates", () => {
    assert.match(problem({ ...TLS, KAFKA_SSL_CA_FILE: at("missing.pem") }), /kafka\.tls\.caFile = ".*missing\.pem": cannot read that file \(ENOENT\)/);
    assert.match(problem({ ES_CA_FILE: at("not-pem.txt") }), /elasticsearch\.caFile = ".*not-pem\.txt": holds no PEM certificate/);
    assert.match(problem({ ES_CA_FILE: at("a.key") }), /holds no PEM certificate/);
  });
  test("a client certificate needs its key, and the key must open and match", () => {
    assert.match(problem({ ...TLS, KAFKA_SSL_CERT_FILE: at("a.pem") }), /kafka\.tls\.keyFile: required with kafka\.tls\.certFile/);
    assert.match(problem({ ES_CERT_FILE: at("a.pem"), ES_KEY_FILE: at("a-encrypted.key") }), /elasticsearch\.keyFile = .*: the key is encrypted: set its passphrase/);
    assert.match(problem({ ES_CERT_FILE: at("a.pem"), ES_KEY_FILE: at("a-encrypted.key"), ES_KEY_PASSPHRASE: "wrong" }), /the key does not open with the passphrase given/);
    assert.match(problem({ ...TLS, KAFKA_SSL_CERT_FILE: at("a.pem"), KAFKA_SSL_KEY_FILE: at("b.key") }), /kafka\.tls\.keyFile = ".*b\.key": is not the private key of kafka\.tls\.certFile/);
    assert.match(problem({ ...TLS, KAFKA_SSL_CERT_FILE: at("not-pem.txt"), KAFKA_SSL_KEY_FILE: at("not-pem.txt") }), /holds no PEM certificate.*holds no PEM private key/);
  });
  test("good files load, the passphrase redacted", () => {
    const config = load({
      ...TLS, KAFKA_SSL_CA_FILE: at("b.pem"), KAFKA_SSL_CERT_FILE: at("a.pem"), KAFKA_SSL_KEY_FILE: at("a-encrypted.key"), KAFKA_SSL_KEY_PASSPHRASE: PASSPHRASE,
      ES_CA_FILE: at("b.pem"), ES_CERT_FILE: at("a.pem"), ES_KEY_FILE: at("a.key"),
    });
    assert.equal(config.kafka.tls.keyPassphrase, PASSPHRASE);
    assert.ok(!JSON.stringify(redactedConfig(config)).includes(PASSPHRASE));
  });
});

describe("Elasticsearch authentication and endpoints", () => {
  test("only one way to authenticate", () => {
    assert.match(problem({ ES_API_KEY: "k", ES_BEARER_TOKEN: "t" }), /elasticsearch\.apiKey, elasticsearch\.bearerToken: give only one way to authenticate/);
  });
  test("a Cloud ID must decode; a fingerprint must be SHA-256", () => {
    const good = `dep:${Buffer.from("eu-west-1.aws.found.io:443$abc123$def456").toString("base64")}`;
    assert.equal(load({ ES_CLOUD_ID: good }).elasticsearch.cloudId, good);
    assert.match(problem({ ES_CLOUD_ID: "nonsense" }), /elasticsearch\.cloudId = "nonsense": is not an Elastic Cloud id/);
    assert.match(problem({ ES_CA_FINGERPRINT: "abcd" }), /elasticsearch\.caFingerprint = "abcd" \(from ES_CA_FINGERPRINT\): must be a SHA-256 fingerprint/);
    assert.equal(load({ ES_CA_FINGERPRINT: "AA:".repeat(31) + "AA" }).elasticsearch.caFingerprint.length, 95);
  });
});

describe("schema registry settings", () => {
  const URL = "https://registry.example:8081";
  test("a registry format needs the registry's URL, an http(s) one without credentials in it", () => {
    assert.match(problem({ VALUE_FORMAT: "avro" }), /format\.value = "avro": needs the schema registry; set schemaRegistry\.url \(SCHEMA_REGISTRY_URL\)/);
    assert.match(problem({ KEY_FORMAT: "auto" }), /format\.key = "auto": needs the schema registry/);
    assert.match(problem({ VALUE_FORMAT: "avro", SCHEMA_REGISTRY_URL: "registry:8081" }), /schemaRegistry\.url = "registry:8081": must be an http\(s\) URL/);
    assert.match(problem({ VALUE_FORMAT: "avro", SCHEMA_REGISTRY_URL: "https://u:p@registry" }), /put credentials in schemaRegistry\.username/);
    assert.match(problem({ VALUE_FORMAT: "xml" }), /format\.value = "xml" \(from VALUE_FORMAT\): must be one of "json", "avro", "protobuf", "json-schema", "auto"/);
    const config = load({ VALUE_FORMAT: "protobuf", KEY_FORMAT: "avro", SCHEMA_REGISTRY_URL: URL });
    assert.deepEqual(config.format, { value: "protobuf", key: "avro" });
    assert.equal(load({}).format.value, "json", "json by default, no registry needed");
  });
  test("one way to authenticate; the secrets from files, never shown", () => {
    assert.match(problem({ SCHEMA_REGISTRY_URL: URL, SCHEMA_REGISTRY_USERNAME: "u", SCHEMA_REGISTRY_PASSWORD: "p", SCHEMA_REGISTRY_BEARER_TOKEN: "t" }), /give only one way to authenticate/);
    assert.match(problem({ SCHEMA_REGISTRY_URL: URL, SCHEMA_REGISTRY_USERNAME: "u" }), /schemaRegistry\.password: required when schemaRegistry\.username is set/);
    const config = load({ SCHEMA_REGISTRY_URL: URL, SCHEMA_REGISTRY_USERNAME: "u", SCHEMA_REGISTRY_PASSWORD_FILE: at("password") });
    assert.equal(config.schemaRegistry.password, "from-a-file");
    assert.ok(!JSON.stringify(redactedConfig(config)).includes("from-a-file"));
  });
  test("TLS files need https, and must open", () => {
    assert.match(problem({ SCHEMA_REGISTRY_URL: "http://r:8081", SCHEMA_REGISTRY_CA_FILE: at("a.pem") }), /schemaRegistry\.url: use https:\/\/ to use schemaRegistry\.caFile/);
    assert.match(problem({ SCHEMA_REGISTRY_URL: URL, SCHEMA_REGISTRY_CA_FILE: at("not-pem.txt") }), /schemaRegistry\.caFile = .*holds no PEM certificate/);
    assert.match(problem({ SCHEMA_REGISTRY_URL: URL, SCHEMA_REGISTRY_CERT_FILE: at("a.pem"), SCHEMA_REGISTRY_KEY_FILE: at("b.key") }), /schemaRegistry\.keyFile = .*is not the private key of schemaRegistry\.certFile/);
    const config = load({ SCHEMA_REGISTRY_URL: URL, SCHEMA_REGISTRY_CA_FILE: at("b.pem"), SCHEMA_REGISTRY_CERT_FILE: at("a.pem"), SCHEMA_REGISTRY_KEY_FILE: at("a-encrypted.key"), SCHEMA_REGISTRY_KEY_PASSPHRASE: PASSPHRASE });
    assert.ok(!JSON.stringify(redactedConfig(config)).includes(PASSPHRASE));
  });
});
