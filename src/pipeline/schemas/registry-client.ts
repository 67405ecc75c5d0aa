/**
 * The schema registry's Confluent-compatible API, read-only: a schema by its global id
 * (`GET /schemas/ids/{id}`), and the schemas it references by subject and version
 * (`GET /subjects/{subject}/versions/{version}`). Basic auth or a bearer token; TLS with
 * a private CA and a client certificate, configured like the Elasticsearch client.
 * Works against Confluent Schema Registry, Apicurio (`.../apis/ccompat/v7`), Karapace
 * and Redpanda: the URL may carry a path prefix.
 */
import { readFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import { ConfigError, describeError, TransferError } from "../../errors.ts";
import type { NamedSchema, RegistrySchema, SchemaType } from "./schema-reader.ts";

export interface RegistryClientOptions {
  readonly url: string;
  readonly username: string;
  readonly password: string;
  readonly bearerToken: string;
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
  readonly keyPassphrase: string;
  readonly tlsRejectUnauthorized: boolean;
  readonly requestTimeoutMs: number;
}

/** A failed registry request. `notFound`: the registry answered that it has no such schema (40403 and kin). */
export class RegistryError extends TransferError {
  readonly notFound: boolean;
  readonly status: number | undefined;

  constructor(message: string, options: { notFound?: boolean; status?: number; cause?: unknown } = {}) {
    super(message, { retriable: true, cause: options.cause });
    this.notFound = options.notFound ?? false;
    this.status = options.status;
  }
}

export interface RegistryClient {
  /** The schema with this global id, its references resolved; rejects with a RegistryError. */
  schemaById(id: number): Promise<RegistrySchema>;
  close(): void;
}

interface SchemaBody {
  readonly schema?: unknown;
  readonly schemaType?: unknown;
  readonly references?: unknown;
}

interface ReferenceBody {
  readonly name: string;
  readonly subject: string;
  readonly version: number;
}

/** References nest (a .proto importing one that imports another); past this depth it is a cycle. */
const MAX_REFERENCE_DEPTH = 16;

function readPem(key: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new ConfigError(`config: schemaRegistry.${key} = "${file}": cannot be read (${describeError(error)})`, error);
  }
}

function authorization(options: RegistryClientOptions): string | undefined {
  if (options.bearerToken !== "") return `Bearer ${options.bearerToken}`;
  if (options.username !== "") return `Basic ${Buffer.from(`${options.username}:${options.password}`).toString("base64")}`;
  return undefined;
}

function agentFor(options: RegistryClientOptions, secure: boolean): http.Agent {
  if (!secure) return new http.Agent({ keepAlive: true, maxSockets: 4 });
  return new https.Agent({
    keepAlive: true,
    maxSockets: 4,
    rejectUnauthorized: options.tlsRejectUnauthorized,
    ...(options.caFile === "" ? {} : { ca: readPem("caFile", options.caFile) }),
    ...(options.certFile === "" ? {} : { cert: readPem("certFile", options.certFile) }),
    ...(options.keyFile === "" ? {} : { key: readPem("keyFile", options.keyFile) }),
    ...(options.keyPassphrase === "" ? {} : { passphrase: options.keyPassphrase }),
  });
}

function schemaType(value: unknown): SchemaType {
  // Confluent leaves schemaType out for Avro, the first and default type.
  if (value === undefined || value === null || value === "AVRO") return "AVRO";
  if (value === "PROTOBUF" || value === "JSON") return value;
  throw new RegistryError(`the registry answered with an unknown schemaType ${JSON.stringify(value)}`);
}

function references(value: unknown): ReferenceBody[] {
  if (!Array.isArray(value)) return [];
  return value.filter((r): r is ReferenceBody => typeof r === "object" && r !== null && typeof (r as ReferenceBody).name === "string" && typeof (r as ReferenceBody).subject === "string");
}

export function createRegistryClient(options: RegistryClientOptions): RegistryClient {
  const base = new URL(options.url.endsWith("/") ? options.url : `${options.url}/`);
  const secure = base.protocol === "https:";
  const agent = agentFor(options, secure);
  const auth = authorization(options);
  const headers: http.OutgoingHttpHeaders = { accept: "application/vnd.schemaregistry.v1+json, application/json", ...(auth === undefined ? {} : { authorization: auth }) };

  function get(path: string): Promise<SchemaBody> {
    const url = new URL(path, base);
    const request = secure ? https.request : http.request;
    return new Promise((resolve, reject) => {
      const req = request(url, { method: "GET", agent, headers, timeout: options.requestTimeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("error", (error) => { reject(new RegistryError(`schema registry ${url.pathname}: ${describeError(error)}`, { cause: error })); });
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          const status = res.statusCode ?? 0;
          let body: unknown;
          try {
            body = JSON.parse(text);
          } catch {
            body = undefined;
          }
          if (status === 200 && typeof body === "object" && body !== null) {
            resolve(body);
            return;
          }
          const message = typeof (body as { message?: unknown } | undefined)?.message === "string" ? (body as { message: string }).message : text.slice(0, 200);
          reject(new RegistryError(`schema registry ${url.pathname}: HTTP ${String(status)} ${message}`, { status, notFound: status === 404 }));
        });
      });
      req.on("timeout", () => { req.destroy(new Error(`no answer within ${String(options.requestTimeoutMs)} ms`)); });
      req.on("error", (error) => { reject(new RegistryError(`schema registry ${url.host}: ${describeError(error)}`, { cause: error })); });
      req.end();
    });
  }

  async function resolve(body: SchemaBody, depth: number): Promise<RegistrySchema> {
    if (typeof body.schema !== "string") throw new RegistryError("the registry answered without a schema");
    const named: NamedSchema[] = [];
    for (const reference of references(body.references)) {
      if (depth >= MAX_REFERENCE_DEPTH) throw new RegistryError(`schema references nest deeper than ${String(MAX_REFERENCE_DEPTH)} levels`);
      const referenced = await get(`subjects/${encodeURIComponent(reference.subject)}/versions/${String(reference.version)}`);
      named.push({ name: reference.name, schema: await resolve(referenced, depth + 1) });
    }
    return { schemaType: schemaType(body.schemaType), schema: body.schema, references: named };
  }

  return {
    async schemaById(id) {
      return resolve(await get(`schemas/ids/${String(id)}`), 0);
    },
    close() {
      agent.destroy();
    },
  };
}
