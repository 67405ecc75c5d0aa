// Shared builders for the sink's unit tests (not a test file itself).
import type { BulkAction, PendingDocument } from "../../../src/pipeline/document.ts";
import type { KafkaRecord } from "../../../src/pipeline/record.ts";
import type { BulkItemResult, BulkResponseBody } from "../../../src/sink/bulk-response.ts";
import type { Rejection } from "../../../src/sink/failure-policy.ts";
import type { SinkLogger, SinkObserver } from "../../../src/sink/observer.ts";
import { seededRandom } from "../../support/prng.ts";

export function record(offset: number, value: string | null = `{"n":${offset}}`, topic = "t"): KafkaRecord {
  const buffer = value === null ? null : Buffer.from(value);
  return {
    topic,
    partition: 0,
    offset: String(offset),
    timestamp: 1_700_000_000_000,
    key: null,
    value: buffer,
    headers: {},
    size: buffer?.length ?? 0,
  };
}

/** Documents whose acks are counted per id, so tests can assert "acked exactly once". */
export class Docs {
  readonly acks = new Map<string, number>();

  make(id: string, action: Partial<BulkAction> = {}): PendingDocument {
    const full: BulkAction = { op: "index", index: "idx", id, source: `{"id":"${id}"}`, ...action };
    return {
      action: full,
      origin: record(Number.parseInt(id.replace(/\D/g, ""), 10) || 0),
      ack: () => {
        this.acks.set(id, (this.acks.get(id) ?? 0) + 1);
      },
    };
  }

  many(count: number, prefix = "d"): PendingDocument[] {
    return Array.from({ length: count }, (_, i) => this.make(`${prefix}${i}`));
  }

  acked(id: string): number {
    return this.acks.get(id) ?? 0;
  }
}

/** The `_id`s (in order) of a bulk body's action lines. */
export function idsOf(body: string | Buffer): string[] {
  const ids: string[] = [];
  for (const line of body.toString().split("\n")) {
    if (line === "") continue;
    const parsed = JSON.parse(line) as Record<string, { _id?: string; _index?: string } | undefined>;
    const meta = parsed.index ?? parsed.create ?? parsed.delete ?? parsed.update;
    if (meta !== undefined && "_index" in meta) ids.push(meta._id ?? "");
  }
  return ids;
}

export function response(items: { op?: string; status: number; type?: string; reason?: string }[]): BulkResponseBody {
  return {
    errors: items.some((i) => i.status >= 300),
    items: items.map((i) => {
      const result: BulkItemResult =
        i.type === undefined ? { status: i.status } : { status: i.status, error: { type: i.type, reason: i.reason ?? "" } };
      return { [i.op ?? "index"]: result };
    }),
  };
}

export const seeded = seededRandom;

export interface Recorded {
  readonly calls: { method: string; args: unknown[] }[];
  count(method: string): number;
}

/** An observer and a logger that record every call. */
export function recorder(): { observer: SinkObserver; logger: SinkLogger; recorded: Recorded } {
  const calls: { method: string; args: unknown[] }[] = [];
  const on =
    (method: string) =>
    (...args: unknown[]): void => {
      calls.push({ method, args });
    };
  const observer: SinkObserver = {
    bulkCompleted: on("bulkCompleted"),
    documentsIndexed: on("documentsIndexed"),
    documentsFailureStored: on("documentsFailureStored"),
    indexFieldFallback: on("indexFieldFallback"),
    documentsRetried: on("documentsRetried"),
    operatorActionNeeded: on("operatorActionNeeded"),
    documentRejected: on("documentRejected"),
    recordSkipped: on("recordSkipped"),
    inFlight: on("inFlight"),
    concurrencyLimit: on("concurrencyLimit"),
    recordAcked: on("recordAcked"),
    recordsSettled: on("recordsSettled"),
    deadLettered: on("deadLettered"),
    deadLetterFailed: on("deadLetterFailed"),
  };
  const logger: SinkLogger = { debug: on("log.debug"), info: on("log.info"), warn: on("log.warn"), error: on("log.error") };
  return { observer, logger, recorded: { calls, count: (m) => calls.filter((c) => c.method === m).length } };
}

/** A record Elasticsearch refused for its content: what every failure policy is handed. */
export const parsingRejection: Rejection = {
  record: record(42, '{"n":"not a number"}', "orders"),
  action: { op: "index", index: "orders", id: "orders-0-42", source: '{"n":"not a number"}' },
  status: 400,
  errorType: "document_parsing_exception",
  reason: "failed to parse field [n]",
};
