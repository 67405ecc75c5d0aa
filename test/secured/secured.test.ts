/**
 * The worker against a secured Kafka (SASL_SSL and mutual TLS, ACLs on) and a secured
 * Elasticsearch (TLS, file realm, API keys, tokens, PKI), started by test/infra/secured.sh
 * (`make test-secured`). The worker's identities hold only the privileges the README's
 * Security section documents. Each mode delivers records, commits them and turns ready;
 * each misconfiguration ends the start with one line naming the side, the cause and what
 * to check; no secret appears in any output, at the most verbose log level.
 */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import type { Client } from "@elastic/elasticsearch";
import type { Admin, Kafka } from "kafkajs";
import { countDocuments, deleteIndices } from "../support/elasticsearch.ts";
import { sleep, uniqueName, waitFor } from "../support/env.ts";
import { committedOffsets } from "../support/kafka.ts";
import {
  createApiKey, grantDeadLetterAcls, grantWorkerAcls, produceRaw, need, produceJson, securedElasticsearch, securedEnv, startTokenEndpoint, withSecuredAdmin, workerAccessToken,
} from "../support/secured.ts";
import { WorkerProcess, withWorkers } from "../support/worker.ts";

const RECORDS = 40;
const env = securedEnv();
const certs = need(env, "SEC_CERTS");
const cert = (name: string): string => path.join(certs, name);
const base = uniqueName("sec");
const AWS_SECRET = "aws-secret-not-logged";
const secretsDir = mkdtempSync(path.join(tmpdir(), "kes-secured-"));
/** Every secret of this run: none may appear in any output. */
const secrets = new Set<string>(Object.entries(env).filter(([k]) => k.endsWith("PASSWORD") || k.endsWith("PASSPHRASE")).map(([, v]) => v));
secrets.add(AWS_SECRET);

let secretFiles = 0;
function secretFile(name: string, value: string): string {
  secretFiles += 1;
  const file = path.join(secretsDir, `${name}-${String(secretFiles)}`);
  writeFileSync(file, `${value}\n`, { mode: 0o600 });
  secrets.add(value);
  return file;
}

const kafkaSasl = (mechanism: string, password = need(env, "SEC_KAFKA_WORKER_PASSWORD")): Record<string, string> => ({
  KAFKA_BROKERS: need(env, "SEC_KAFKA_SASL_BROKERS"),
  KAFKA_SSL: "true",
  KAFKA_SSL_CA_FILE: cert("ca.pem"),
  KAFKA_SASL_MECHANISM: mechanism,
  KAFKA_SASL_USERNAME: "worker",
  KAFKA_SASL_PASSWORD_FILE: secretFile(`kafka-${mechanism}`, password),
});
const esUser = (user = "worker", password = need(env, "SEC_ES_WORKER_PASSWORD")): Record<string, string> => ({
  ES_NODE: need(env, "SEC_ES_NODE"),
  ES_CA_FILE: cert("ca.pem"),
  ES_USERNAME: user,
  ES_PASSWORD_FILE: secretFile(`es-${user}`, password),
});

function assertNoSecret(worker: WorkerProcess): void {
  const output = [...worker.logs.map((l) => JSON.stringify(l)), ...worker.stderr].join("\n");
  for (const secret of secrets) assert.ok(!output.includes(secret), `${worker.name}: a secret appears in its output`);
}

describe("secured servers", () => {
  let es: Client;
  let admin: Admin;
  let kafka: Kafka;
  let releaseAdmin: () => void = () => undefined;

  before(async () => {
    es = securedElasticsearch(env);
    await new Promise<void>((ready, failed) => {
      withSecuredAdmin(env, async (a, k) => {
        admin = a;
        kafka = k;
        await grantWorkerAcls(a, "User:worker", base, base);
        ready();
        await new Promise<void>((release) => { releaseAdmin = release; });
      }).catch(failed);
    });
  });
  after(async () => {
    releaseAdmin();
    await deleteIndices(es, `${base}-*`).catch(() => undefined);
    await es.close();
  });

  /**
   * A fresh topic with records and a worker on it with `settings`: checks delivery, the
   * commit, readiness, a clean stop and secrecy. `extra` may produce more while it runs
   * and returns how many.
   */
  async function delivers(mode: string, settings: Record<string, string>, extra?: (topic: string) => Promise<{ produced: number; deadLettered: number }>): Promise<void> {
    const topic = `${base}-${mode}`;
    const groupId = `${base}-${mode}-group`;
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 2 }] });
    await produceJson(kafka, topic, 0, RECORDS);
    const worker = new WorkerProcess({ KAFKA_TOPICS: topic, KAFKA_GROUP_ID: groupId, LOG_LEVEL: "trace", ...settings }, ["start"], mode);
    await withWorkers(() => [worker], async () => {
      await worker.ready(120_000);
      const more = extra ? await extra(topic) : { produced: 0, deadLettered: 0 };
      const total = RECORDS + more.produced;
      const indexed = total - more.deadLettered;
      await waitFor(`${String(indexed)} documents in ${topic}`, async () => ((await countDocuments(es, topic)) >= indexed ? true : undefined), 120_000, 500);
      await waitFor("committed offsets at the end", async () => {
        const committed = await committedOffsets(admin, groupId, topic);
        const sum = [...committed.values()].reduce((a, b) => a + (b > 0n ? b : 0n), 0n);
        return sum === BigInt(total) ? true : undefined;
      }, 60_000, 500);
      await waitFor("/readyz 200", async () => ((await worker.get("/readyz")).status === 200 ? true : undefined), 30_000, 500);
      const exit = await worker.stop();
      assert.equal(exit.code, 0, worker.tail());
      assert.equal(await countDocuments(es, topic), indexed);
      assertNoSecret(worker);
    });
  }

  test("SCRAM-SHA-512 (Kafka's spelling) + a file-realm user with the least-privilege role; a rejected record goes to the dead-letter topic (Write ACL)", async () => {
    const dlq = `${base}-scram512-dlq`;
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic: dlq, numPartitions: 1 }] });
    await grantDeadLetterAcls(admin, "User:worker", dlq);
    await delivers("scram512", { ...kafkaSasl("SCRAM-SHA-512"), ...esUser(), DLQ_TOPIC: dlq }, async (topic) => {
      // once "seq" is mapped as a number, a text "seq" is rejected for good: dead-lettered
      await waitFor("the first records", async () => ((await countDocuments(es, topic)) >= RECORDS ? true : undefined), 120_000, 500);
      await produceRaw(kafka, topic, JSON.stringify({ seq: "not a number" }));
      await waitFor("the dead-lettered record", async () => {
        const offsets = await admin.fetchTopicOffsets(dlq);
        return offsets.some((o) => Number(o.high) > 0) ? true : undefined;
      }, 120_000, 500);
      return { produced: 1, deadLettered: 1 };
    });
  });

  test("SCRAM-SHA-256 + an API key (encoded) limited to create_doc, op_type create", async () => {
    const key = await createApiKey(es, `${base}-create`, `${base}-*`, ["create_doc", "create_index", "auto_configure"]);
    await delivers("scram256", {
      ...kafkaSasl("scram-sha-256"),
      ES_NODE: need(env, "SEC_ES_NODE"),
      ES_CA_FILE: cert("ca.pem"),
      ES_API_KEY_FILE: secretFile("api-key-encoded", key.encoded),
      ES_OP_TYPE: "create",
    });
  });

  test("PLAIN + an API key as id:key, CA pinned by fingerprint", async () => {
    const key = await createApiKey(es, `${base}-index`, `${base}-*`, ["index", "create_index", "auto_configure"]);
    await delivers("plain", {
      ...kafkaSasl("Plain"),
      ES_NODE: need(env, "SEC_ES_NODE"),
      ES_CA_FINGERPRINT: need(env, "SEC_CA_FINGERPRINT"),
      ES_API_KEY: key.idKey,
    });
    secrets.add(key.idKey);
  });

  test("mutual TLS with an encrypted key on both sides (Kafka SSL listener, Elasticsearch PKI realm)", async () => {
    const passphrase = secretFile("key-passphrase", need(env, "SEC_CLIENT_KEY_PASSPHRASE"));
    await delivers("mtls", {
      KAFKA_BROKERS: need(env, "SEC_KAFKA_MTLS_BROKERS"),
      KAFKA_SSL: "true",
      KAFKA_SSL_CA_FILE: cert("ca.pem"),
      KAFKA_SSL_CERT_FILE: cert("client.pem"),
      KAFKA_SSL_KEY_FILE: cert("client-encrypted.key"),
      KAFKA_SSL_KEY_PASSPHRASE_FILE: passphrase,
      KAFKA_SSL_SERVERNAME: "localhost",
      ES_NODE: need(env, "SEC_ES_NODE"),
      ES_CA_FILE: cert("ca.pem"),
      ES_CERT_FILE: cert("client.pem"),
      ES_KEY_FILE: cert("client-encrypted.key"),
      ES_KEY_PASSPHRASE_FILE: passphrase,
    });
  });

  test("OAUTHBEARER (client credentials, tokens renewed before expiry) + an Elasticsearch bearer token", async () => {
    const clientSecret = "oidc-client-secret-" + base;
    secrets.add(clientSecret);
    const endpoint = await startTokenEndpoint("kes-worker", clientSecret, "worker", 20);
    try {
      const bearer = await workerAccessToken(es, need(env, "SEC_ES_WORKER_PASSWORD"));
      await delivers("oauth", {
        KAFKA_BROKERS: need(env, "SEC_KAFKA_SASL_BROKERS"),
        KAFKA_SSL: "true",
        KAFKA_SSL_CA_FILE: cert("ca.pem"),
        KAFKA_SASL_MECHANISM: "OAUTHBEARER",
        KAFKA_SASL_OAUTH_TOKEN_ENDPOINT: endpoint.url,
        KAFKA_SASL_OAUTH_CLIENT_ID: "kes-worker",
        KAFKA_SASL_OAUTH_CLIENT_SECRET_FILE: secretFile("oauth-secret", clientSecret),
        ES_NODE: need(env, "SEC_ES_NODE"),
        ES_CA_FILE: cert("ca.pem"),
        ES_BEARER_TOKEN_FILE: secretFile("es-bearer", bearer),
      }, async (topic) => {
        // Tokens live 20 s; sessions end with them (the broker's re-authentication is on),
        // and kafkajs re-authenticates 10 s before: records produced after two renewals
        // still arrive, over connections re-authenticated with new tokens.
        const atStart = endpoint.issued();
        await waitFor("two more tokens", () => (endpoint.issued() >= atStart + 2 ? true : undefined), 60_000, 500);
        await produceJson(kafka, topic, RECORDS, 5);
        return { produced: 5, deadLettered: 0 };
      });
    } finally {
      await endpoint.close();
    }
  });
});

describe("misconfigurations: one line naming the side, the cause and what to check", () => {
  const topic = `${base}-miscfg`;
  let es: Client;

  before(async () => {
    es = securedElasticsearch(env);
    await withSecuredAdmin(env, async (admin) => {
      await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 1 }] });
      await grantWorkerAcls(admin, "User:worker", topic, topic);
    });
  });
  after(async () => {
    await deleteIndices(es, `${base}-*`).catch(() => undefined);
    await es.close();
  });

  const good = (): Record<string, string> => ({ ...kafkaSasl("scram-sha-512"), ...esUser() });

  /** The worker must exit 1 with exactly one fatal line matching `expected`, and no secret anywhere. */
  async function refusesToStart(name: string, settings: Record<string, string>, expected: RegExp): Promise<void> {
    const worker = new WorkerProcess({ KAFKA_TOPICS: topic, KAFKA_GROUP_ID: topic, LOG_LEVEL: "trace", ...good(), ...settings }, ["start"], name);
    await withWorkers(() => [worker], async () => {
      const started = Date.now();
      const exit = await Promise.race([worker.exited, sleep(120_000).then(() => undefined)]);
      assert.ok(exit !== undefined, `${name}: still running after 120 s`);
      assert.equal(exit.code, 1, worker.tail());
      const fatal = worker.logs.filter((l) => l.level === "fatal");
      assert.equal(fatal.length, 1, worker.tail());
      assert.match(String(fatal[0]?.err), expected);
      assertNoSecret(worker);
      process.stderr.write(`# ${name}: exited after ${String(Date.now() - started)} ms: ${String(fatal[0]?.err)}\n`);
    });
  }

  test("check-config shows every secret as [redacted]", async () => {
    const worker = new WorkerProcess({
      KAFKA_TOPICS: topic, ...good(), KAFKA_SSL_CERT_FILE: cert("client.pem"), KAFKA_SSL_KEY_FILE: cert("client-encrypted.key"),
      KAFKA_SSL_KEY_PASSPHRASE: need(env, "SEC_CLIENT_KEY_PASSPHRASE"), ES_USERNAME: "", ES_PASSWORD_FILE: "", ES_API_KEY: "id:api-key-not-shown",
    }, ["check-config"], "check-config");
    secrets.add("api-key-not-shown");
    const exit = await worker.exited;
    assert.equal(exit.code, 0, worker.tail());
    const shown = worker.stderr.join("\n");
    assert.match(shown, /"keyPassphrase": "\[redacted\]"/);
    assert.match(shown, /"password": "\[redacted\]"/);
    assertNoSecret(worker);
  });

  test("Kafka: plaintext against the TLS listener", async () => {
    await refusesToStart("kafka-plaintext-to-tls", { KAFKA_SSL: "false", KAFKA_SSL_CA_FILE: "" }, /^Kafka: .* speaks TLS but KAFKA_SSL is false: set KAFKA_SSL=true/);
  });
  test("Kafka: TLS against a plaintext listener", async () => {
    await refusesToStart("kafka-tls-to-plaintext", { KAFKA_BROKERS: need(env, "SEC_KAFKA_ADMIN_BROKERS"), KAFKA_SASL_MECHANISM: "", KAFKA_SASL_USERNAME: "", KAFKA_SASL_PASSWORD_FILE: "" }, /^Kafka: TLS handshake failed: the broker's port does not speak TLS/);
  });
  test("Kafka: a CA that did not sign the broker's certificate", async () => {
    await refusesToStart("kafka-wrong-ca", { KAFKA_SSL_CA_FILE: cert("other-ca.pem") }, /^Kafka: TLS handshake failed .*check KAFKA_SSL_CA_FILE/);
  });
  test("Kafka: no client certificate for the mutual-TLS listener", async () => {
    await refusesToStart("kafka-no-client-cert", { KAFKA_BROKERS: need(env, "SEC_KAFKA_MTLS_BROKERS"), KAFKA_SASL_MECHANISM: "", KAFKA_SASL_USERNAME: "", KAFKA_SASL_PASSWORD_FILE: "" }, /^Kafka: .*refused our client certificate.*KAFKA_SSL_CERT_FILE/);
  });
  test("Kafka: a mechanism the listener does not enable", async () => {
    await refusesToStart("kafka-wrong-mechanism", { KAFKA_SASL_MECHANISM: "AWS", KAFKA_SASL_USERNAME: "", KAFKA_SASL_PASSWORD_FILE: "", KAFKA_SASL_AWS_REGION: "eu-west-1", AWS_ACCESS_KEY_ID: "AKIDEXAMPLE", AWS_SECRET_ACCESS_KEY: AWS_SECRET }, /^Kafka: the broker does not enable SASL mechanism AWS/);
  });
  test("Kafka: a wrong password", async () => {
    await refusesToStart("kafka-bad-password", kafkaSasl("SCRAM-SHA-512", "not-the-password"), /^Kafka: SASL SCRAM-SHA-512 authentication failed \(bad credentials\)/);
  });
  test("Kafka: a user without the ACLs", async () => {
    await refusesToStart("kafka-missing-acl", { KAFKA_SASL_USERNAME: "stranger", KAFKA_SASL_PASSWORD_FILE: secretFile("stranger", need(env, "SEC_KAFKA_STRANGER_PASSWORD")) }, /^Kafka: not authorized for the topic\(s\) \(missing ACL\)/);
  });
  test("Elasticsearch: a CA that did not sign the node's certificate", async () => {
    await refusesToStart("es-wrong-ca", { ES_CA_FILE: cert("other-ca.pem") }, /^Elasticsearch: TLS handshake failed .*check ES_CA_FILE/);
  });
  test("Elasticsearch: a wrong password", async () => {
    await refusesToStart("es-bad-password", esUser("worker", "not-the-password"), /^Elasticsearch: authentication failed .*check ES_USERNAME\/ES_PASSWORD/);
  });
  test("Elasticsearch: http:// against the TLS port", async () => {
    await refusesToStart("es-http-to-https", { ES_NODE: need(env, "SEC_ES_NODE").replace("https:", "http:"), ES_CA_FILE: "" }, /^Elasticsearch: .* speaks TLS but ES_NODE says http:\/\/: use https:\/\//);
  });

  test("Elasticsearch: a user without the write privileges: nothing is committed, the line says which privileges", async () => {
    await withSecuredAdmin(env, async (_admin, kafka) => {
      await produceJson(kafka, topic, 0, 5);
    });
    const worker = new WorkerProcess({ KAFKA_TOPICS: topic, KAFKA_GROUP_ID: `${topic}-nopriv`, ...good(), ...esUser("stranger", need(env, "SEC_ES_STRANGER_PASSWORD")) }, ["start"], "es-missing-privilege");
    await withWorkers(() => [worker], async () => {
      const line = await worker.waitForLog((l) => l.msg.startsWith("Elasticsearch: not authorized to write"), 120_000);
      assert.match(JSON.stringify(line), /security_exception.*unauthorized for user \[stranger\]/);
      const committed = await withSecuredAdmin(env, (admin) => committedOffsets(admin, `${topic}-nopriv`, topic));
      assert.ok([...committed.values()].every((o) => o <= 0n), "nothing may be committed");
      assert.equal((await worker.stop()).code, 0, worker.tail());
      assertNoSecret(worker);
    });
  });
});
