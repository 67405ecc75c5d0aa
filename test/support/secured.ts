/**
 * The secured Kafka and Elasticsearch of test/infra/secured.sh, as the security tests
 * use them: their addresses, certificates and per-run secrets, an admin client on each
 * side, ACLs, API keys, tokens, and a small OIDC token endpoint on 127.0.0.1.
 */
import { Client } from "@elastic/elasticsearch";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import kafkajs, { type Kafka, logLevel, type Admin } from "kafkajs";
import { newKafkaClient } from "../../src/source/client/kafka-client.ts";
import { ROOT } from "./env.ts";

/** KEY=VALUE lines of `secured.sh env`: brokers, ES node, certificate dir, secrets. */
export function securedEnv(): Readonly<Record<string, string>> {
  const text = execFileSync("bash", [path.join(ROOT, "test/infra/secured.sh"), "env"], { encoding: "utf8" });
  return Object.fromEntries(text.trim().split("\n").map((line) => {
    const at = line.indexOf("=");
    return [line.slice(0, at), line.slice(at + 1)];
  }));
}

export function need(env: Readonly<Record<string, string>>, key: string): string {
  const value = env[key];
  if (value === undefined || value === "") throw new Error(`secured.sh env has no ${key}`);
  return value;
}

/** Kafka through the PLAINTEXT admin listener, whose ANONYMOUS principal is a super user. */
export async function withSecuredAdmin<T>(env: Readonly<Record<string, string>>, fn: (admin: Admin, kafka: Kafka) => Promise<T>): Promise<T> {
  const kafka = newKafkaClient({ clientId: "secured-tests", brokers: [need(env, "SEC_KAFKA_ADMIN_BROKERS")], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await fn(admin, kafka);
  } finally {
    await admin.disconnect();
  }
}

// kafkajs is CommonJS and these enums are not visible to ESM as named exports.
const { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes } = kafkajs;
type AclResourceTypes = kafkajs.AclResourceTypes;
type AclOperationTypes = kafkajs.AclOperationTypes;

/** The ACLs the README documents for the worker: Read and Describe on the topics and the group (by prefix). */
export async function grantWorkerAcls(admin: Admin, principal: string, topicPrefix: string, groupPrefix: string): Promise<void> {
  const acl = (resourceType: AclResourceTypes, resourceName: string, operation: AclOperationTypes) => ({
    resourceType,
    resourceName,
    resourcePatternType: ResourcePatternTypes.PREFIXED,
    principal,
    host: "*",
    operation,
    permissionType: AclPermissionTypes.ALLOW,
  });
  await admin.createAcls({
    acl: [
      acl(AclResourceTypes.TOPIC, topicPrefix, AclOperationTypes.READ),
      acl(AclResourceTypes.TOPIC, topicPrefix, AclOperationTypes.DESCRIBE),
      acl(AclResourceTypes.GROUP, groupPrefix, AclOperationTypes.READ),
      acl(AclResourceTypes.GROUP, groupPrefix, AclOperationTypes.DESCRIBE),
    ],
  });
}

/** Write and Describe on the dead-letter topic, as the README documents. */
export async function grantDeadLetterAcls(admin: Admin, principal: string, topic: string): Promise<void> {
  await admin.createAcls({
    acl: [AclOperationTypes.WRITE, AclOperationTypes.DESCRIBE].map((operation) => ({
      resourceType: AclResourceTypes.TOPIC,
      resourceName: topic,
      resourcePatternType: ResourcePatternTypes.LITERAL,
      principal,
      host: "*",
      operation,
      permissionType: AclPermissionTypes.ALLOW,
    })),
  });
}

export async function produceRaw(kafka: Kafka, topic: string, value: string): Promise<void> {
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    await producer.send({ topic, messages: [{ value }], acks: -1 });
  } finally {
    await producer.disconnect();
  }
}

export async function produceJson(kafka: Kafka, topic: string, from: number, count: number): Promise<void> {
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    const messages = Array.from({ length: count }, (_, i) => ({ value: JSON.stringify({ seq: from + i, text: `record ${String(from + i)}` }) }));
    await producer.send({ topic, messages, acks: -1 });
  } finally {
    await producer.disconnect();
  }
}

/** Elasticsearch as the file-realm super user. */
export function securedElasticsearch(env: Readonly<Record<string, string>>): Client {
  return new Client({
    node: need(env, "SEC_ES_NODE"),
    auth: { username: "admin", password: need(env, "SEC_ES_ADMIN_PASSWORD") },
    tls: { ca: readFileSync(path.join(need(env, "SEC_CERTS"), "ca.pem")) },
    requestTimeout: 30_000,
  });
}

/** An API key limited to `privileges` on `indices`; returns both forms. */
export async function createApiKey(es: Client, name: string, indices: string, privileges: string[]): Promise<{ encoded: string; idKey: string }> {
  const key = await es.security.createApiKey({
    name,
    role_descriptors: { writer: { indices: [{ names: [indices], privileges }] } },
  });
  return { encoded: key.encoded, idKey: `${key.id}:${key.api_key}` };
}

/** An OAuth2 access token of the file-realm user `worker` (Elasticsearch's token service). */
export async function workerAccessToken(es: Client, password: string): Promise<string> {
  const token = await es.security.getToken({ grant_type: "password", username: "worker", password });
  if (token.access_token === "") throw new Error("no access token");
  return token.access_token;
}

/** An unsecured JWT (alg "none") that Kafka's built-in test validator accepts. */
export function unsecuredJwt(subject: string, lifetimeS: number): string {
  const now = Math.floor(Date.now() / 1000);
  const part = (value: object): string => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${part({ alg: "none" })}.${part({ sub: subject, iat: now, exp: now + lifetimeS })}.`;
}

export interface TokenEndpoint {
  readonly url: string;
  /** Tokens issued so far. */
  readonly issued: () => number;
  close(): Promise<void>;
}

/**
 * An OIDC token endpoint (client-credentials grant) on 127.0.0.1: checks the client's
 * id and secret (HTTP basic), answers with a short-lived unsecured JWT for `subject`.
 */
export async function startTokenEndpoint(clientId: string, secret: string, subject: string, lifetimeS: number): Promise<TokenEndpoint> {
  let issued = 0;
  const expected = `Basic ${Buffer.from(`${clientId}:${secret}`).toString("base64")}`;
  const server: Server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk: Buffer) => { body += chunk.toString(); });
    request.on("end", () => {
      const grant = new URLSearchParams(body).get("grant_type");
      response.setHeader("content-type", "application/json");
      if (request.method !== "POST" || grant !== "client_credentials" || request.headers.authorization !== expected) {
        response.statusCode = 401;
        response.end(JSON.stringify({ error: "invalid_client" }));
        return;
      }
      issued += 1;
      response.end(JSON.stringify({ access_token: unsecuredJwt(subject, lifetimeS), token_type: "Bearer", expires_in: lifetimeS }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${String(port)}/oauth2/token`,
    issued: () => issued,
    close: () => new Promise((resolve) => { server.close(() => { resolve(); }); }),
  };
}
