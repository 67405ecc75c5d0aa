import { readFileSync } from "node:fs";
import { Client, errors, type ClientOptions } from "@elastic/elasticsearch";
import { ConfigError, describeError } from "../errors.ts";
import { explainElasticsearchFailure } from "./es-diagnosis.ts";

export interface ElasticsearchOptions {
  readonly nodes: string[];
  readonly username: string;
  readonly password: string;
  readonly apiKey: string;
  readonly bearerToken: string;
  readonly cloudId: string;
  readonly caFile: string;
  readonly caFingerprint: string;
  readonly certFile: string;
  readonly keyFile: string;
  readonly keyPassphrase: string;
  readonly tlsRejectUnauthorized: boolean;
  readonly requestTimeoutMs: number;
  readonly compression: boolean;
}

function readPem(key: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new ConfigError(`config: elasticsearch.${key} = "${file}": cannot be read (${describeError(error)})`, error);
  }
}

/** The client's `auth`: an API key ("encoded" or "id:key"), a bearer token, or basic auth. */
export function elasticsearchAuth(options: ElasticsearchOptions): ClientOptions["auth"] {
  if (options.apiKey !== "") {
    const colon = options.apiKey.indexOf(":");
    // base64 never holds ":", so a colon means the id:api_key form
    return colon < 0 ? { apiKey: options.apiKey } : { apiKey: { id: options.apiKey.slice(0, colon), api_key: options.apiKey.slice(colon + 1) } };
  }
  if (options.bearerToken !== "") return { bearer: options.bearerToken };
  if (options.username !== "") return { username: options.username, password: options.password };
  return undefined;
}

/** "AA:BB:..." as Node prints certificate fingerprints, whatever the user typed. */
export function normalizeFingerprint(fingerprint: string): string {
  return (fingerprint.replace(/:/g, "").toUpperCase().match(/../g) ?? []).join(":");
}

function tlsOptions(options: ElasticsearchOptions): NonNullable<ClientOptions["tls"]> {
  // A pinned fingerprint replaces the CA: the client checks it against the node's chain
  // on every connection (the way Elasticsearch's own enrollment trusts its http_ca).
  const pinnedOnly = options.caFingerprint !== "" && options.caFile === "";
  const tls: NonNullable<ClientOptions["tls"]> = { rejectUnauthorized: options.tlsRejectUnauthorized && !pinnedOnly };
  if (options.caFile !== "") tls.ca = readPem("caFile", options.caFile);
  if (options.certFile !== "") tls.cert = readPem("certFile", options.certFile);
  if (options.keyFile !== "") tls.key = readPem("keyFile", options.keyFile);
  if (options.keyPassphrase !== "") tls.passphrase = options.keyPassphrase;
  // With a pinned fingerprint, a resumed TLS session shows no peer chain and the client
  // refuses it ("Invalid or malformed certificate"): full handshakes only (an undici
  // connector option the client passes through).
  if (options.caFingerprint !== "") Object.assign(tls, { maxCachedSessions: 0 });
  return tls;
}

/**
 * The Elasticsearch client. Its own retries are off: the bulk sender retries only
 * the documents that failed, with backoff and without a time limit, and a client-level
 * retry of a whole bulk request would resend documents that already succeeded.
 */
export function createElasticsearchClient(options: ElasticsearchOptions): Client {
  const clientOptions: ClientOptions = {
    ...(options.cloudId === "" ? { nodes: [...options.nodes] } : { cloud: { id: options.cloudId } }),
    requestTimeout: options.requestTimeoutMs,
    maxRetries: 0,
    compression: options.compression,
    sniffOnStart: false,
    tls: tlsOptions(options),
  };
  const auth = elasticsearchAuth(options);
  if (auth !== undefined) clientOptions.auth = auth;
  if (options.caFingerprint !== "") clientOptions.caFingerprint = normalizeFingerprint(options.caFingerprint);
  return new Client(clientOptions);
}

export interface Reachability {
  readonly ok: boolean;
  readonly reason?: string;
  /** The failure is a misconfiguration (TLS, credentials) that waiting will not fix. */
  readonly misconfigured?: boolean;
  /** The cluster health status, when Elasticsearch answered it (green, yellow, red). */
  readonly health?: string;
}

/**
 * Is Elasticsearch reachable and able to take writes? The cluster health endpoint
 * (not `ping`, which needs the root endpoint some distributions lack); red means some
 * primary shard is missing, so writes to that index fail: still reachable, since only
 * the partitions writing there are held. A least-privileged user lacks
 * the `monitor` privilege health needs: a 403 still proves the node is up and accepted
 * the credentials, so it counts as reachable.
 */
export async function elasticsearchReachable(client: Client, timeoutMs: number, nodes: readonly string[] = []): Promise<Reachability> {
  try {
    const health = await client.cluster.health({ timeout: `${String(Math.max(1, Math.floor(timeoutMs / 1000)))}s` }, { requestTimeout: timeoutMs });
    // Red means some index has unavailable shards: only the partitions writing there are
    // held (see partition-holds.ts); the worker itself can still write everything else.
    return { ok: true, health: health.status };
  } catch (error) {
    if (error instanceof errors.ResponseError && error.statusCode === 403) return { ok: true };
    const explained = await explainElasticsearchFailure(error, nodes);
    if (explained !== undefined) return { ok: false, reason: explained, misconfigured: true };
    return { ok: false, reason: `Elasticsearch unreachable: ${describeError(error)}` };
  }
}
