import { readFileSync } from "node:fs";
import { Client, type ClientOptions } from "@elastic/elasticsearch";
import { ConfigError, describeError } from "../errors.ts";

export interface ElasticsearchOptions {
  readonly nodes: string[];
  readonly username: string;
  readonly password: string;
  readonly apiKey: string;
  readonly caFile: string;
  readonly tlsRejectUnauthorized: boolean;
  readonly requestTimeoutMs: number;
  readonly compression: boolean;
}

/**
 * The Elasticsearch client. Its own retries are off: the bulk sender retries only
 * the documents that failed, with backoff and without a time limit, and a client-level
 * retry of a whole bulk request would resend documents that already succeeded.
 */
export function createElasticsearchClient(options: ElasticsearchOptions): Client {
  const clientOptions: ClientOptions = {
    nodes: [...options.nodes],
    requestTimeout: options.requestTimeoutMs,
    maxRetries: 0,
    compression: options.compression,
    // Bulk bodies of several MiB are normal here; the client's default would refuse big responses only.
    sniffOnStart: false,
  };
  if (options.apiKey !== "") clientOptions.auth = { apiKey: options.apiKey };
  else if (options.username !== "") clientOptions.auth = { username: options.username, password: options.password };
  const tls: NonNullable<ClientOptions["tls"]> = { rejectUnauthorized: options.tlsRejectUnauthorized };
  if (options.caFile !== "") {
    try {
      tls.ca = readFileSync(options.caFile);
    } catch (error) {
      throw new ConfigError(`config: elasticsearch.caFile = "${options.caFile}": cannot be read (${describeError(error)})`, error);
    }
  }
  clientOptions.tls = tls;
  return new Client(clientOptions);
}

/**
 * Is Elasticsearch reachable and able to take writes? The cluster health endpoint
 * (not `ping`, which needs the root endpoint some distributions lack); red means some
 * primary shard is missing, so writes to it would fail.
 */
export async function elasticsearchReachable(client: Client, timeoutMs: number): Promise<{ ok: boolean; reason?: string }> {
  try {
    const health = await client.cluster.health({ timeout: `${String(Math.max(1, Math.floor(timeoutMs / 1000)))}s` }, { requestTimeout: timeoutMs });
    if (health.status === "red") return { ok: false, reason: "Elasticsearch cluster health is red" };
    return { ok: true };
  } catch (error) {
    return { ok: false, reason: `Elasticsearch unreachable: ${describeError(error)}` };
  }
}
