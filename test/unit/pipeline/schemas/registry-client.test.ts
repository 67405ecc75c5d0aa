/**
 * The registry client against a local HTTP(S) server speaking the Confluent API's
 * shape: the path prefix, basic and bearer auth, a private CA and a client certificate,
 * references resolved by subject and version, and 404 told apart from an outage.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { createRegistryClient, RegistryError, type RegistryClientOptions } from "../../../../src/pipeline/schemas/registry-client.ts";

const dir = mkdtempSync(join(tmpdir(), "kest-registry-"));
const at = (name: string): string => join(dir, name);

before(() => {
  const openssl = (...args: string[]): void => { execFileSync("openssl", args, { stdio: "ignore" }); };
  openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=registry", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", at("server.key"), "-out", at("server.pem"));
  openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=worker", "-keyout", at("client.key"), "-out", at("client.pem"));
});
after(() => { rmSync(dir, { recursive: true, force: true }); });

const BASE: RegistryClientOptions = {
  url: "", username: "", password: "", bearerToken: "", caFile: "", certFile: "", keyFile: "", keyPassphrase: "", tlsRejectUnauthorized: true, requestTimeoutMs: 2000,
};

interface Seen {
  readonly path: string;
  readonly authorization: string | undefined;
  readonly clientCert: boolean;
}

const routes: Record<string, { status: number; body: unknown }> = {
  "/api/ccompat/schemas/ids/1": { status: 200, body: { schema: '{"type":"string"}' } },
  "/api/ccompat/schemas/ids/2": { status: 200, body: { schemaType: "PROTOBUF", schema: 'import "a.proto";', references: [{ name: "a.proto", subject: "a value", version: 3 }] } },
  "/api/ccompat/subjects/a%20value/versions/3": { status: 200, body: { schemaType: "PROTOBUF", schema: "message A {}", references: [] } },
  "/api/ccompat/schemas/ids/404": { status: 404, body: { error_code: 40403, message: "Schema 404 not found" } },
  "/api/ccompat/schemas/ids/500": { status: 500, body: { message: "storage unavailable" } },
};

function handler(seen: Seen[]): http.RequestListener {
  return (req, res) => {
    const socket = req.socket as { getPeerCertificate?: () => { subject?: unknown } };
    seen.push({ path: req.url ?? "", authorization: req.headers.authorization, clientCert: socket.getPeerCertificate?.().subject !== undefined });
    const route = routes[req.url ?? ""] ?? { status: 404, body: { message: "no route" } };
    res.writeHead(route.status, { "content-type": "application/vnd.schemaregistry.v1+json" }).end(JSON.stringify(route.body));
  };
}

async function listen(server: http.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

describe("schema registry client", () => {
  test("fetches by id under the URL's path, with references, and basic auth", async () => {
    const seen: Seen[] = [];
    const server = http.createServer(handler(seen));
    const port = await listen(server);
    const client = createRegistryClient({ ...BASE, url: `http://127.0.0.1:${String(port)}/api/ccompat`, username: "u", password: "p w" });
    try {
      assert.deepEqual(await client.schemaById(1), { schemaType: "AVRO", schema: '{"type":"string"}', references: [] });
      assert.deepEqual(await client.schemaById(2), {
        schemaType: "PROTOBUF",
        schema: 'import "a.proto";',
        references: [{ name: "a.proto", schema: { schemaType: "PROTOBUF", schema: "message A {}", references: [] } }],
      });
      await assert.rejects(client.schemaById(404), (error: unknown) => error instanceof RegistryError && error.notFound && error.message.includes('HTTP 404 Schema 404 not found'));
      await assert.rejects(client.schemaById(500), (error: unknown) => error instanceof RegistryError && !error.notFound && error.retriable);
      assert.equal(seen[0]?.authorization, `Basic ${Buffer.from("u:p w").toString("base64")}`);
      assert.deepEqual(seen.map((s) => s.path).slice(0, 3), ["/api/ccompat/schemas/ids/1", "/api/ccompat/schemas/ids/2", "/api/ccompat/subjects/a%20value/versions/3"]);
    } finally {
      client.close();
      server.close();
    }
  });

  test("https with a private CA, a client certificate and a bearer token; an outage is no 404", async () => {
    const seen: Seen[] = [];
    const server = https.createServer({ key: readFileSync(at("server.key")), cert: readFileSync(at("server.pem")), requestCert: true, rejectUnauthorized: false }, handler(seen));
    const port = await listen(server);
    const url = `https://127.0.0.1:${String(port)}/api/ccompat`;
    const client = createRegistryClient({ ...BASE, url, bearerToken: "tok", caFile: at("server.pem"), certFile: at("client.pem"), keyFile: at("client.key") });
    const untrusting = createRegistryClient({ ...BASE, url });
    try {
      assert.equal((await client.schemaById(1)).schema, '{"type":"string"}');
      assert.equal(seen[0]?.authorization, "Bearer tok");
      assert.equal(seen[0].clientCert, true, "the client certificate was presented");
      await assert.rejects(untrusting.schemaById(1), (error: unknown) => error instanceof RegistryError && !error.notFound && /self-signed|certificate/.test(error.message));
    } finally {
      client.close();
      untrusting.close();
      server.close();
    }
    const down = createRegistryClient({ ...BASE, url: `http://127.0.0.1:${String(port)}` });
    await assert.rejects(down.schemaById(1), (error: unknown) => error instanceof RegistryError && !error.notFound && error.message.includes('ECONNREFUSED'));
    down.close();
  });
});
