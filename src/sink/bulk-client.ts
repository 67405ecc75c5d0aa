import { errors, type Client } from "@elastic/elasticsearch";
import { describeError, RecordRejectedError, SinkUnavailableError, TransferError } from "../errors.ts";
import { describeCause, type BulkResponseBody } from "./bulk-response.ts";

/**
 * Sends one NDJSON bulk body and returns the parsed response. Throws only
 * TransferErrors: SinkUnavailableError (retriable: try the same documents again
 * later) or RecordRejectedError (the request as a whole was refused for its content:
 * 400 or 413; the caller splits the batch to find the culprit). `httpStatus(error)`
 * gives the request-level status when there was one.
 */
export type BulkFunction = (body: BulkBody, signal: AbortSignal) => Promise<BulkResponseBody>;

/** An NDJSON bulk body: UTF-8 bytes (what the sink builds) or text. */
export type BulkBody = Buffer | string;

export interface BulkClientOptions {
  /** Per-request timeout (default: the client's). A timed-out bulk may still have been applied. */
  readonly requestTimeoutMs?: number;
  /**
   * Query parameters for every bulk request where the server knows them
   * (`include_source_on_error`, 8.18 and later): one that the server refuses as
   * unrecognized is dropped for good the first time, and the request sent again.
   */
  readonly parameters?: Readonly<Record<string, string>>;
  /** Told once per parameter dropped that way (for a log line). */
  readonly onParameterUnsupported?: (name: string) => void;
}

/**
 * Only what the sink reads: trims the response of large batches. Every item keeps
 * `status`, so items stay in request order. `result` ("created", "updated") is left
 * out: the status says the same to the sink, and the response of a 2,000-document
 * request is then about half as long to parse (once per request, on the hot path).
 * `failure_store` appears only on items of data streams with a failure store (8.19+).
 */
export const FILTER_PATH = "errors,items.*.status,items.*.error,items.*.failure_store";

/**
 * How the transport redacts the diagnostics it attaches to an error. Its default,
 * "replace", deep-clones the whole diagnostic with `Object.entries` before looking for
 * secret keys, and that diagnostic holds the request's `bulkBody`: a 2 MiB Buffer
 * became two million `[key, byte]` pairs and a two-million-key object, about 200 MiB
 * of heap per refused request (heap snapshot of a worker under a 429 storm, issue 12;
 * @elastic/transport 8.11 `redactObject`). Every 429, 5xx, timeout and connection
 * error of a bulk request paid that, and a 64 MiB heap died of it. "remove" deletes the
 * request headers (credentials), response headers and connection in place and copies
 * nothing; the sink reads only the status, body and error names.
 */
export const BULK_ERROR_REDACTION = { type: "remove" } as const;

/**
 * The only place that touches the Elasticsearch client. It calls the transport with a
 * prebuilt NDJSON body as `bulkBody`: the transport sends a Buffer or a string as it
 * is (`Serializer.ndserialize` runs only on arrays; checked in @elastic/transport 9:
 * content-type x-ndjson, gzip applied to the Buffer when compression is on), so
 * sources are never re-encoded and no per-line array is built. `client.bulk({ operations })` would do the same at run
 * time, but its typings accept only arrays of objects.
 */
export function createBulkFunction(client: Client, options: BulkClientOptions = {}): BulkFunction {
  const parameters = new Map(Object.entries(options.parameters ?? {}));
  const send = (body: BulkBody, signal: AbortSignal): Promise<unknown> =>
    client.transport.request(
      { method: "POST", path: "/_bulk", bulkBody: body, querystring: { filter_path: FILTER_PATH, ...Object.fromEntries(parameters) }, meta: { name: "bulk" } },
      {
        signal,
        // Our own retry loop owns backoff and re-sends only the failed items.
        maxRetries: 0,
        requestTimeout: options.requestTimeoutMs,
        redaction: BULK_ERROR_REDACTION,
      },
    );
  return async (body, signal) => {
    let response: unknown;
    for (;;) {
      try {
        response = await send(body, signal);
        break;
      } catch (error) {
        const refused = unrecognizedParameters(error).filter((name) => parameters.has(name));
        if (refused.length === 0) throw toSinkError(error);
        for (const name of refused) {
          parameters.delete(name);
          options.onParameterUnsupported?.(name);
        }
      }
    }
    if (!isBulkResponse(response)) {
      throw new SinkUnavailableError("Elasticsearch returned an unreadable bulk response", response);
    }
    return response;
  };
}

/**
 * The query parameters a 400 says the server does not know: "request [/_bulk] contains
 * unrecognized parameter: [x]" (or "parameters: [x], [y]", maybe with "-> did you mean
 * [z]?"), as Elasticsearch words it for a parameter added in a later version.
 */
export function unrecognizedParameters(error: unknown): string[] {
  if (!(error instanceof errors.ResponseError) || error.statusCode !== 400) return [];
  const detail = responseDetail(error.body);
  const match = /unrecognized parameters?: (.*)$/.exec(detail);
  if (match === null) return [];
  const names = (match[1] ?? "").replace(/ -> did you mean (?:any of )?\[[^\]]*\]\?/g, "");
  return [...names.matchAll(/\[([^\]]+)\]/g)].map((m) => m[1] ?? "");
}

function isBulkResponse(value: unknown): value is BulkResponseBody {
  return typeof value === "object" && value !== null && Array.isArray((value as { items?: unknown }).items);
}

/**
 * Maps a transport failure to the sink's errors. Only 400 and 413 say something about
 * the documents; every other failure (no answer, timeout, 429, 5xx, but also 401,
 * 403, 404 from a proxy) says nothing about them, so it is retried rather than
 * turned into rejections that would drop a whole batch.
 */
export function toSinkError(error: unknown): TransferError {
  if (error instanceof TransferError) return error;
  if (error instanceof errors.ResponseError) {
    const status = error.statusCode;
    const detail = responseDetail(error.body);
    const message = `bulk request refused: HTTP ${status ?? "?"}${detail === "" ? "" : ` ${detail}`}`;
    if (status === 400 || status === 413) return new RecordRejectedError(message, error);
    return new SinkUnavailableError(message, error);
  }
  if (error instanceof errors.TimeoutError) {
    return new SinkUnavailableError("bulk request timed out (it may still have been applied)", error);
  }
  if (error instanceof errors.ConnectionError || error instanceof errors.NoLivingConnectionsError) {
    return new SinkUnavailableError(`Elasticsearch unreachable: ${describeError(error)}`, error);
  }
  return new SinkUnavailableError(`bulk request failed: ${describeError(error)}`, error);
}

function responseDetail(body: unknown): string {
  if (typeof body === "object" && body !== null && "error" in body) {
    const cause = body.error;
    if (typeof cause === "string") return cause;
    if (typeof cause === "object" && cause !== null) return describeCause(cause);
  }
  return "";
}

/** The HTTP status of a failed request, found on the error or along its `cause` chain. */
export function httpStatus(error: unknown): number | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === "object" && current !== null; depth++) {
    if ("statusCode" in current) {
      const status = current.statusCode;
      if (typeof status === "number") return status;
    }
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
