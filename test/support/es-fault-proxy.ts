/**
 * An HTTP proxy in front of the real Elasticsearch that misbehaves on a schedule, the
 * way an overloaded cluster does: it answers whole bulk requests 429 or 503, or it
 * forwards a bulk request without some of its items and answers those items 429
 * (`es_rejected_execution_exception`), as a full write queue does. A rejected item is
 * really not written: the proxy cuts it out of the request before forwarding, so a
 * client that does not retry it loses it in Elasticsearch too.
 *
 * Only bulk requests (a path ending in `/_bulk`) are touched; everything else (health,
 * search, refresh) passes through. Listens on 127.0.0.1 only. Decisions use a seeded
 * PRNG, so a schedule replays the same way for the same requests.
 *
 *   const proxy = await startEsFaultProxy({ target: ES_NODE, port: 12250 });
 *   proxy.schedule([{ durationMs: 10_000, requestStatus: 429, requestRatio: 0.5 },
 *                   { durationMs: 10_000, itemRejectRatio: 0.3 }]);
 *   ... ES_NODE=proxy.url for the worker ...
 *   await proxy.close();
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";
import { seededRandom } from "./prng.ts";

/** One stretch of the schedule. Phases run one after the other; after the last, requests pass. */
export interface FaultPhase {
  /** How long this phase lasts (ms). */
  readonly durationMs: number;
  /** Answer bulk requests with this status instead of forwarding them... */
  readonly requestStatus?: 429 | 503;
  /** ...for this fraction of them (default 1 when `requestStatus` is set). */
  readonly requestRatio?: number;
  /** Fraction of the items of each forwarded bulk request answered 429 and not written. */
  readonly itemRejectRatio?: number;
  /** Items whose action or source line matches are answered 429 and not written, too. */
  readonly itemRejectPattern?: RegExp;
}

export interface FaultProxyStats {
  /** Every request received. */
  requests: number;
  bulkRequests: number;
  /** Whole bulk requests answered with an injected status, by status. */
  injectedRequests: Record<"429" | "503", number>;
  /** Bulk items answered 429 by the proxy (never forwarded). */
  injectedItemRejections: number;
  /** Bulk items forwarded to Elasticsearch. */
  forwardedItems: number;
}

export interface EsFaultProxy {
  /** http://127.0.0.1:<port> */
  readonly url: string;
  readonly port: number;
  readonly stats: FaultProxyStats;
  /** Replaces the schedule; its first phase starts now. `[]` passes everything through. */
  schedule(phases: readonly FaultPhase[]): void;
  /** Resolves when the current schedule has run out (at once when it already has). */
  scheduleDone(): Promise<void>;
  close(): Promise<void>;
}

export interface EsFaultProxyOptions {
  /** The real Elasticsearch, e.g. http://127.0.0.1:9200. */
  readonly target: string;
  /** Port on 127.0.0.1 (default 0: any free port). */
  readonly port?: number;
  readonly phases?: readonly FaultPhase[];
  /** PRNG seed for the fault decisions (default 1). */
  readonly seed?: number;
}

/** One item of an NDJSON bulk body: its operation and the lines that make it up. */
interface BulkItem {
  readonly op: string;
  readonly index: string | undefined;
  readonly id: string | undefined;
  readonly lines: readonly string[];
}

/** Operations followed by a source line; `delete` has none. */
const OPS_WITH_SOURCE = new Set(["index", "create", "update"]);

/** Splits an NDJSON bulk body into items (throws on a line that is not an action where one is due). */
export function parseBulkBody(body: string): BulkItem[] {
  const lines = body.split("\n");
  if (lines.at(-1) === "") lines.pop();
  const items: BulkItem[] = [];
  for (let i = 0; i < lines.length; i++) {
    const actionText = lines[i] ?? "";
    const action = JSON.parse(actionText) as Record<string, { _index?: string; _id?: string } | undefined>;
    const op = Object.keys(action)[0];
    if (op === undefined) throw new Error(`bulk line ${String(i)} has no operation`);
    const meta = action[op] ?? {};
    const itemLines = [actionText];
    if (OPS_WITH_SOURCE.has(op)) itemLines.push(lines[++i] ?? "");
    items.push({ op, index: meta._index, id: meta._id, lines: itemLines });
  }
  return items;
}

function joinBulkBody(items: readonly BulkItem[]): string {
  return items.map((item) => `${item.lines.join("\n")}\n`).join("");
}

function rejectedItem(item: BulkItem): Record<string, unknown> {
  return {
    [item.op]: {
      _index: item.index,
      _id: item.id,
      status: 429,
      error: {
        type: "es_rejected_execution_exception",
        reason: "rejected execution of bulk item (injected by es-fault-proxy)",
      },
    },
  };
}

interface Forwarded {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

/** Headers that describe the body on the wire: recomputed, since the proxy may rewrite it. */
const BODY_HEADERS = new Set(["content-length", "content-encoding", "transfer-encoding", "connection", "keep-alive", "accept-encoding", "host"]);

function copyHeaders(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !BODY_HEADERS.has(name)) out[name] = value;
  }
  return out;
}

function readBody(stream: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("end", () => {
      resolve(Buffer.concat(chunks));
    });
    stream.on("error", reject);
  });
}

/**
 * The port tests put the proxy on: KES_FAULT_PROXY_PORT, else 50 above the port of
 * `esNode`, so that it stays inside the port range the servers were given.
 */
export function faultProxyPort(esNode: string): number {
  const configured = Number(process.env.KES_FAULT_PROXY_PORT ?? "");
  if (Number.isInteger(configured) && configured > 0) return configured;
  return Number(new URL(esNode).port || "9200") + 50;
}

export async function startEsFaultProxy(options: EsFaultProxyOptions): Promise<EsFaultProxy> {
  const target = new URL(options.target);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
  const random = seededRandom(options.seed ?? 1);
  const stats: FaultProxyStats = { requests: 0, bulkRequests: 0, injectedRequests: { "429": 0, "503": 0 }, injectedItemRejections: 0, forwardedItems: 0 };
  let phases: readonly FaultPhase[] = options.phases ?? [];
  let startedAt = Date.now();

  const currentPhase = (): FaultPhase | undefined => {
    let elapsed = Date.now() - startedAt;
    for (const phase of phases) {
      if (elapsed < phase.durationMs) return phase;
      elapsed -= phase.durationMs;
    }
    return undefined;
  };
  const scheduleEndsAt = (): number => startedAt + phases.reduce((sum, p) => sum + p.durationMs, 0);

  const forward = (request: http.IncomingMessage, body: Buffer): Promise<Forwarded> =>
    new Promise((resolve, reject) => {
      const headers = copyHeaders(request.headers);
      headers["content-length"] = body.length;
      const upstream = http.request(
        { host: target.hostname, port: target.port, method: request.method, path: request.url, headers, agent },
        (response) => {
          readBody(response).then((data) => {
            resolve({ status: response.statusCode ?? 502, headers: response.headers, body: data });
          }, reject);
        },
      );
      upstream.on("error", reject);
      upstream.end(body);
    });

  const reply = (response: http.ServerResponse, status: number, headers: http.OutgoingHttpHeaders, body: Buffer | string): void => {
    const bytes = typeof body === "string" ? Buffer.from(body) : body;
    response.writeHead(status, { ...headers, "content-length": bytes.length });
    response.end(bytes);
  };

  const replyJson = (response: http.ServerResponse, status: number, value: unknown): void => {
    reply(response, status, { "content-type": "application/json", "x-elastic-product": "Elasticsearch" }, JSON.stringify(value));
  };

  const injectRequestFault = (response: http.ServerResponse, status: 429 | 503): void => {
    stats.injectedRequests[status]++;
    const type = status === 429 ? "es_rejected_execution_exception" : "unavailable_shards_exception";
    replyJson(response, status, { error: { type, reason: `injected by es-fault-proxy (HTTP ${String(status)})` }, status });
  };

  /** Forwards the items not chosen for rejection, then answers every item in request order. */
  const forwardWithRejections = async (request: http.IncomingMessage, response: http.ServerResponse, items: BulkItem[], phase: FaultPhase): Promise<void> => {
    const ratio = phase.itemRejectRatio ?? 0;
    const pattern = phase.itemRejectPattern;
    const rejected = items.map((item) => random() < ratio || (pattern?.test(item.lines.join("\n")) ?? false));
    const kept = items.filter((_, i) => rejected[i] !== true);
    stats.injectedItemRejections += items.length - kept.length;
    stats.forwardedItems += kept.length;
    let keptResults: unknown[] = [];
    let errors = kept.length < items.length;
    if (kept.length > 0) {
      const upstream = await forward(request, Buffer.from(joinBulkBody(kept)));
      const parsed = JSON.parse(upstream.body.toString("utf8")) as { errors?: boolean; items?: unknown[] };
      if (upstream.status !== 200 || !Array.isArray(parsed.items)) {
        reply(response, upstream.status, copyHeaders(upstream.headers), upstream.body);
        return;
      }
      keptResults = parsed.items;
      errors ||= parsed.errors === true;
    }
    let next = 0;
    const results = items.map((item, i) => (rejected[i] === true ? rejectedItem(item) : keptResults[next++]));
    replyJson(response, 200, { errors, items: results });
  };

  const handleBulk = async (request: http.IncomingMessage, response: http.ServerResponse, raw: Buffer): Promise<void> => {
    stats.bulkRequests++;
    const phase = currentPhase();
    if (phase?.requestStatus !== undefined && random() < (phase.requestRatio ?? 1)) {
      injectRequestFault(response, phase.requestStatus);
      return;
    }
    const body = request.headers["content-encoding"] === "gzip" ? gunzipSync(raw) : raw;
    if (phase === undefined || ((phase.itemRejectRatio ?? 0) <= 0 && phase.itemRejectPattern === undefined)) {
      stats.forwardedItems += parseBulkBody(body.toString("utf8")).length;
      const upstream = await forward(request, body);
      reply(response, upstream.status, copyHeaders(upstream.headers), upstream.body);
      return;
    }
    await forwardWithRejections(request, response, parseBulkBody(body.toString("utf8")), phase);
  };

  const handle = async (request: http.IncomingMessage, response: http.ServerResponse): Promise<void> => {
    stats.requests++;
    const raw = await readBody(request);
    const pathname = new URL(request.url ?? "/", "http://proxy").pathname;
    if (request.method === "POST" || request.method === "PUT") {
      if (pathname.endsWith("/_bulk")) {
        await handleBulk(request, response, raw);
        return;
      }
    }
    const body = request.headers["content-encoding"] === "gzip" ? gunzipSync(raw) : raw;
    const upstream = await forward(request, body);
    reply(response, upstream.status, copyHeaders(upstream.headers), upstream.body);
  };

  const server = http.createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      // Elasticsearch itself unreachable (stopped, frozen): the client sees a 502, as behind a real proxy.
      if (!response.headersSent) replyJson(response, 502, { error: { type: "proxy_error", reason: String(error) }, status: 502 });
      else response.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => {
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${String(port)}`,
    port,
    stats,
    schedule(next) {
      phases = [...next];
      startedAt = Date.now();
    },
    async scheduleDone() {
      const wait = scheduleEndsAt() - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      });
      agent.destroy();
    },
  };
}
