/**
 * The operations endpoint: GET /metrics for Prometheus, GET /healthz for liveness
 * (restart me if this fails), GET /readyz for readiness (joined the group and
 * Elasticsearch reachable). Plain node:http: three routes do not justify a framework.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { describeError } from "../errors.ts";
import type { ProbeResult } from "./probe.ts";

export interface MetricsSource {
  readonly contentType: string;
  scrape(): Promise<string>;
}

export interface TelemetryServerOptions {
  readonly host: string;
  /** 0 binds an ephemeral port; read it from `start()` or `port`. */
  readonly port: number;
  readonly metrics: MetricsSource;
  /** Liveness: are the process's loops turning? */
  readonly health: () => ProbeResult;
  /** Readiness: joined the group and Elasticsearch reachable? */
  readonly readiness: () => ProbeResult | Promise<ProbeResult>;
  /** Told about failures to serve a request (a scrape that threw, a socket error). */
  readonly onError?: (error: unknown) => void;
}

const JSON_TYPE = "application/json; charset=utf-8";

export class TelemetryServer {
  readonly #options: TelemetryServerOptions;
  readonly #server: Server;
  #port: number | undefined;

  constructor(options: TelemetryServerOptions) {
    this.#options = options;
    this.#server = createServer((request, response) => {
      this.#handle(request, response).catch((error: unknown) => {
        this.#options.onError?.(error);
        if (!response.headersSent) send(response, 500, "text/plain; charset=utf-8", "internal error\n");
        else response.destroy();
      });
    });
    // A scraper that opens a connection and sends nothing must not hold a socket for long.
    this.#server.headersTimeout = 10_000;
    this.#server.requestTimeout = 30_000;
  }

  /** The bound port, once started. */
  get port(): number | undefined {
    return this.#port;
  }

  start(): Promise<{ port: number }> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error): void => {
        reject(error);
      };
      this.#server.once("error", onError);
      this.#server.listen(this.#options.port, this.#options.host, () => {
        this.#server.off("error", onError);
        this.#server.on("error", (error) => this.#options.onError?.(error));
        const port = (this.#server.address() as AddressInfo).port;
        this.#port = port;
        resolve({ port });
      });
    });
  }

  /** Stops listening and drops idle keep-alive connections, so shutdown is not held by a scraper. */
  close(): Promise<void> {
    if (!this.#server.listening) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.#server.close((error) => {
        if (error === undefined) resolve();
        else reject(error);
      });
      this.#server.closeAllConnections();
    });
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = (request.url ?? "/").split("?", 1)[0];
    const route = path === "/metrics" || path === "/healthz" || path === "/readyz" ? path : undefined;
    if (route === undefined) {
      sendJson(response, 404, { status: "not_found" });
      return;
    }
    if (request.method !== "GET" && request.method !== "HEAD") {
      response.setHeader("Allow", "GET, HEAD");
      sendJson(response, 405, { status: "method_not_allowed" });
      return;
    }
    if (route === "/metrics") {
      const body = await this.#options.metrics.scrape();
      send(response, 200, this.#options.metrics.contentType, body);
      return;
    }
    if (route === "/healthz") {
      const result = await probe(() => this.#options.health());
      sendJson(response, result.ok ? 200 : 503, probeBody(result, "ok", "unhealthy"));
      return;
    }
    const result = await probe(() => this.#options.readiness());
    sendJson(response, result.ok ? 200 : 503, probeBody(result, "ready", "not_ready"));
  }
}

/** A callback that throws is a failed probe with the error as the reason, never a 500. */
async function probe(check: () => ProbeResult | Promise<ProbeResult>): Promise<ProbeResult> {
  try {
    return await check();
  } catch (error) {
    return { ok: false, reason: describeError(error) };
  }
}

function probeBody(result: ProbeResult, okStatus: string, failedStatus: string): Record<string, unknown> {
  // Healthy answers stay minimal ({"status":"ok"}); failures say why.
  if (result.ok) return { status: okStatus, ...result.notes };
  const body: Record<string, unknown> = { status: failedStatus, reason: result.reason ?? "unknown", ...result.notes };
  if (result.reasons !== undefined) body.reasons = result.reasons;
  if (result.details !== undefined) body.details = result.details;
  return body;
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  send(response, status, JSON_TYPE, `${JSON.stringify(body)}\n`);
}

function send(response: ServerResponse, status: number, contentType: string, body: string): void {
  response.writeHead(status, {
    "Content-Type": contentType,
    "Content-Length": Buffer.byteLength(body),
    "Cache-Control": "no-store",
  });
  response.end(response.req.method === "HEAD" ? undefined : body);
}
