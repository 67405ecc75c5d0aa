// The client is exercised in-process: a custom Connection class stands in for the
// network (no socket is opened), so this checks exactly what the transport would send.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { gunzipSync } from "node:zlib";
import {
  BaseConnection,
  Client,
  errors,
  type ConnectionRequestOptions,
  type ConnectionRequestOptionsAsStream,
  type ConnectionRequestParams,
  type ConnectionRequestResponse,
  type ConnectionRequestResponseAsStream,
} from "@elastic/elasticsearch";
import { RecordRejectedError, SinkUnavailableError } from "../../../src/errors.ts";
import { createBulkFunction, httpStatus, toSinkError } from "../../../src/sink/bulk-client.ts";
import { buildBulkBody } from "../../../src/sink/bulk-request.ts";
import { Docs } from "./fixtures.ts";

interface Exchange {
  requests: ConnectionRequestParams[];
  /** May throw, as a connection does on a timeout or a refused socket. */
  reply: (params: ConnectionRequestParams) => { statusCode: number; body: string };
}

function clientFor(exchange: Exchange, compression = false, auth?: { username: string; password: string }): Client {
  class FakeConnection extends BaseConnection {
    override request(params: ConnectionRequestParams, options: ConnectionRequestOptions): Promise<ConnectionRequestResponse>;
    override request(
      params: ConnectionRequestParams,
      options: ConnectionRequestOptionsAsStream,
    ): Promise<ConnectionRequestResponseAsStream>;
    override request(
      params: ConnectionRequestParams,
    ): Promise<ConnectionRequestResponse | ConnectionRequestResponseAsStream> {
      exchange.requests.push(params);
      const { statusCode, body } = exchange.reply(params);
      return Promise.resolve({
        statusCode,
        body,
        headers: { "content-type": "application/json", "x-elastic-product": "Elasticsearch" },
      });
    }
  }
  return new Client({ node: "http://127.0.0.1:9200", Connection: FakeConnection, compression, ...(auth === undefined ? {} : { auth }) });
}

const signal = new AbortController().signal;

function meta(statusCode: number, body: unknown) {
  return { body, statusCode, headers: {}, warnings: null, meta: {} } as unknown as ConstructorParameters<typeof errors.ResponseError>[0];
}

describe("bulk client", () => {
  test("sends the NDJSON body exactly as built, to /_bulk, as x-ndjson", async () => {
    const docs = new Docs();
    const source = Buffer.from('{"b":2,  "a":1.50,"u":"\\u00e9é"}');
    const body = buildBulkBody([docs.make("1", { source }), docs.make("2", { op: "delete", source: undefined })]);
    const copy = Buffer.from(body);
    const exchange: Exchange = {
      requests: [],
      reply: () => ({
        statusCode: 200,
        body: JSON.stringify({ errors: false, items: [{ index: { status: 201 } }, { delete: { status: 200 } }] }),
      }),
    };
    const bulk = createBulkFunction(clientFor(exchange));
    const response = await bulk(body, signal);
    assert.deepEqual(response, { errors: false, items: [{ index: { status: 201 } }, { delete: { status: 200 } }] });
    assert.equal(exchange.requests.length, 1);
    const sent = exchange.requests[0];
    assert.ok(sent);
    assert.equal(sent.method, "POST");
    assert.equal(sent.path, "/_bulk");
    assert.equal(sent.body, body, "the body Buffer itself is sent, not re-encoded");
    assert.deepEqual(sent.body, copy, "byte for byte");
    assert.match(String(sent.headers?.["content-type"]), /x-ndjson/);
    assert.match(sent.querystring ?? "", /filter_path=/);
  });

  test("with compression on, the Buffer body is gzipped whole", async () => {
    const docs = new Docs();
    const body = buildBulkBody([docs.make("1", { source: Buffer.from('{"a":"é"}') })]);
    const exchange: Exchange = {
      requests: [],
      reply: () => ({ statusCode: 200, body: JSON.stringify({ errors: false, items: [{ index: { status: 201 } }] }) }),
    };
    await createBulkFunction(clientFor(exchange, true))(body, signal);
    const sent = exchange.requests[0];
    assert.ok(sent && Buffer.isBuffer(sent.body));
    assert.equal(sent.headers?.["content-encoding"], "gzip");
    assert.match(String(sent.headers["content-type"]), /x-ndjson/);
    assert.deepEqual(gunzipSync(sent.body), body);
  });

  test("request-level failures are mapped and not retried by the client", async () => {
    const cases: [number, new (...args: never[]) => Error][] = [
      [429, SinkUnavailableError],
      [503, SinkUnavailableError],
      [401, SinkUnavailableError],
      [400, RecordRejectedError],
      [413, RecordRejectedError],
    ];
    for (const [status, expected] of cases) {
      const exchange: Exchange = {
        requests: [],
        reply: () => ({ statusCode: status, body: JSON.stringify({ error: { type: "some_exception", reason: "nope" }, status }) }),
      };
      const bulk = createBulkFunction(clientFor(exchange));
      const error = await bulk("{}\n", signal).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(error instanceof expected, `${status} -> ${expected.name}`);
      assert.equal(httpStatus(error), status);
      assert.match(error.message, /some_exception: nope/);
      assert.equal(exchange.requests.length, 1, `${status}: no hidden client retries`);
    }
  });

  test("a failed request's error refers to the bulk body Buffer, never a per-byte copy, and keeps no credentials", async () => {
    // The transport's default redaction deep-cloned the diagnostic, body included: about
    // 100 bytes of heap per body byte, for every 429, timeout or refused connection.
    const body = Buffer.alloc(256 * 1024, 0x61);
    const failures: [string, () => never][] = [
      ["429", () => { throw new Error("unused"); }],
      ["timeout", () => { throw new errors.TimeoutError("Request timed out"); }],
      ["refused", () => { throw new errors.ConnectionError("connect ECONNREFUSED"); }],
    ];
    for (const [name, fail] of failures) {
      const exchange: Exchange = {
        requests: [],
        reply: () => (name === "429" ? { statusCode: 429, body: JSON.stringify({ error: { type: "es_rejected_execution_exception", reason: "full" }, status: 429 }) } : fail()),
      };
      const bulk = createBulkFunction(clientFor(exchange, false, { username: "worker", password: "s3cret-pw" }));
      const error: unknown = await bulk(body, signal).then(() => undefined, (e: unknown) => e);
      assert.ok(error instanceof SinkUnavailableError, name);
      const diagnostic = (error.cause as { meta?: { meta?: { request?: { params?: { body?: unknown } } } } }).meta;
      const sent = diagnostic?.meta?.request?.params?.body;
      assert.ok(sent === body, `${name}: the diagnostic holds the body itself, not a copy (got ${Buffer.isBuffer(sent) ? "another Buffer" : typeof sent})`);
      const seen = JSON.stringify(diagnostic, (_key, value: unknown) => (Buffer.isBuffer(value) ? "<buffer>" : value));
      assert.doesNotMatch(seen, /s3cret-pw|d29ya2Vy|authorization/i, `${name}: no credentials kept on the error`);
    }
  });

  test("a response without items is an unavailable sink, not a success", async () => {
    const exchange: Exchange = { requests: [], reply: () => ({ statusCode: 200, body: '{"ok":true}' }) };
    await assert.rejects(createBulkFunction(clientFor(exchange))("{}\n", signal), SinkUnavailableError);
  });

  test("toSinkError maps transport errors by retriability", () => {
    const timeout = toSinkError(new errors.TimeoutError("Request timed out"));
    assert.ok(timeout instanceof SinkUnavailableError);
    assert.match(timeout.message, /may still have been applied/);
    assert.ok(toSinkError(new errors.ConnectionError("connect ECONNREFUSED")) instanceof SinkUnavailableError);
    assert.ok(toSinkError(new Error("weird")) instanceof SinkUnavailableError);
    assert.ok(toSinkError(new errors.ResponseError(meta(413, "too large"))) instanceof RecordRejectedError);
    const already = new RecordRejectedError("x");
    assert.equal(toSinkError(already), already);
    const wrapped = toSinkError(new errors.ResponseError(meta(502, { error: "Bad Gateway" })));
    assert.equal(wrapped.retriable, true);
    assert.equal(httpStatus(wrapped), 502);
    assert.match(wrapped.message, /Bad Gateway/);
  });

  test("httpStatus is undefined when no status is known", () => {
    assert.equal(httpStatus(new SinkUnavailableError("down")), undefined);
    assert.equal(httpStatus("text"), undefined);
    assert.equal(httpStatus(new SinkUnavailableError("x", { statusCode: 429 })), 429);
  });
});

describe("bulk client: optional query parameters", () => {
  const unrecognized = (names: string): { statusCode: number; body: string } => ({
    statusCode: 400,
    body: JSON.stringify({ error: { type: "illegal_argument_exception", reason: `request [/_bulk] contains unrecognized ${names}` }, status: 400 }),
  });

  test("sent with every request; one the server does not know is dropped once, and the request sent again", async () => {
    const exchange: Exchange = {
      requests: [],
      reply: (params) =>
        String(params.querystring).includes("include_source_on_error")
          ? unrecognized("parameter: [include_source_on_error] -> did you mean [filter_path]?")
          : { statusCode: 200, body: '{"errors":false,"items":[{"index":{"status":201}}]}' },
    };
    const dropped: string[] = [];
    const bulk = createBulkFunction(clientFor(exchange), {
      parameters: { include_source_on_error: "false", require_data_stream: "true" },
      onParameterUnsupported: (name) => dropped.push(name),
    });
    const body = buildBulkBody([new Docs().make("1")]);
    assert.equal((await bulk(body, signal)).errors, false);
    assert.equal((await bulk(body, signal)).errors, false);
    assert.deepEqual(dropped, ["include_source_on_error"]);
    const queries = exchange.requests.map((r) => String(r.querystring));
    assert.equal(queries.length, 3, "one refused request, then two without the parameter");
    assert.match(queries[0] ?? "", /include_source_on_error=false/);
    assert.match(queries[0] ?? "", /require_data_stream=true/);
    assert.doesNotMatch(queries[2] ?? "", /include_source_on_error/);
    assert.match(queries[2] ?? "", /require_data_stream=true/);
  });

  test("a 400 naming a parameter we did not add stays a refusal of the request", async () => {
    const exchange: Exchange = { requests: [], reply: () => unrecognized("parameters: [x], [y]") };
    const bulk = createBulkFunction(clientFor(exchange), { parameters: { include_source_on_error: "false" } });
    await assert.rejects(bulk(buildBulkBody([new Docs().make("1")]), signal), RecordRejectedError);
    assert.equal(exchange.requests.length, 1);
  });
});
