/**
 * The Elasticsearch ceiling: the same documents the worker would send, with the same
 * bulk size, concurrency, client settings and request path, from NDJSON bodies built
 * in memory before the clock starts. No Kafka, no decoding, no acknowledgements:
 * what is left is what Elasticsearch (and the HTTP client) can take.
 */
import type { Client } from "@elastic/elasticsearch";
import { isRetriable } from "../../src/errors.ts";
import { sourceBytes, type BulkAction } from "../../src/pipeline/document.ts";
import { Batcher } from "../../src/sink/batcher.ts";
import { createBulkFunction } from "../../src/sink/bulk-client.ts";
import { actionLine, estimateActionBytes } from "../../src/sink/bulk-request.ts";
import { documentSource } from "./data.ts";
import { CpuMeter, type CpuShares } from "./proc.ts";
import { sleep } from "../support/env.ts";
import { fmt, progress } from "./progress.ts";
import type { Variant } from "./settings.ts";

export interface BulkShape {
  readonly workers: number;
  readonly maxDocuments: number;
  readonly maxBytes: number;
  readonly requestTimeoutMs: number;
}

export interface CeilingResult {
  readonly records: number;
  /** Bytes of the NDJSON bodies sent. */
  readonly bodyBytes: number;
  readonly requests: number;
  /** Documents sent again after a 429/5xx item (none expected on an idle node). */
  readonly retriedDocuments: number;
  readonly buildSeconds: number;
  readonly seconds: number;
  readonly recordsPerSecond: number;
  /** Who used the cores while it ran. */
  readonly cpu: CpuShares;
  /** Documents acknowledged so far, every second: [seconds, documents]. */
  readonly samples: readonly (readonly [number, number])[];
}

interface Body {
  readonly text: string;
  readonly documents: number;
}

/** The bulk body of some items of `body` (by position): for the rare retry of 429/5xx items. */
function subset(body: Body, positions: readonly number[]): Body {
  const lines = body.text.split("\n");
  const kept: string[] = [];
  for (const p of positions) kept.push(lines[2 * p] ?? "", lines[2 * p + 1] ?? "");
  kept.push("");
  return { text: kept.join("\n"), documents: positions.length };
}

/** Joined, not concatenated: a flat string, so the clock does not pay for flattening a rope. */
function ndjson(actions: readonly BulkAction[]): string {
  const lines: string[] = [];
  for (const action of actions) lines.push(actionLine(action), action.source === undefined ? "" : sourceBytes(action.source).toString());
  lines.push("");
  return lines.join("\n");
}

/**
 * Bodies cut by the worker's own Batcher and size estimate, so request sizes match.
 * Ids have the worker's shape, `<topic>-<partition>-<offset>`, records spread round
 * robin over `partitions`.
 */
export function buildBodies(variant: Variant, index: string, count: number, recordBytes: number, partitions: number, shape: BulkShape): Body[] {
  const batcher = new Batcher<BulkAction>({ maxDocuments: shape.maxDocuments, maxBytes: shape.maxBytes, lingerMs: 60_000 });
  const bodies: Body[] = [];
  const now = Date.now();
  // Only the joined bodies are kept: the sources would double the memory.
  for (let i = 0; i < count; i++) {
    const action: BulkAction = {
      op: "index",
      index,
      id: `${index}-${String(i % partitions)}-${String(Math.floor(i / partitions))}`,
      source: documentSource(variant, i, recordBytes, now + i),
    };
    for (const batch of batcher.add(action, estimateActionBytes(action), 0)) bodies.push({ text: ndjson(batch), documents: batch.length });
  }
  const rest = batcher.flush();
  if (rest.length > 0) bodies.push({ text: ndjson(rest), documents: rest.length });
  return bodies;
}

const RETRY_MS = 200;
const MAX_REQUEST_RETRIES = 20;

export async function esCeiling(
  es: Client,
  options: {
    variant: Variant;
    index: string;
    count: number;
    recordBytes: number;
    partitions: number;
    shape: BulkShape;
    /** Processes whose CPU use is reported (servers, the bench). */
    pids: Record<string, number>;
  },
): Promise<CeilingResult> {
  const label = `[es-ceiling ${options.variant}]`;
  progress.log(`${label} building ${fmt(options.count)} documents as NDJSON in memory`);
  const buildStart = performance.now();
  const bodies = buildBodies(options.variant, options.index, options.count, options.recordBytes, options.partitions, options.shape);
  const buildSeconds = (performance.now() - buildStart) / 1000;
  const bodyBytes = bodies.reduce((sum, b) => sum + b.text.length, 0);
  const bulk = createBulkFunction(es, { requestTimeoutMs: options.shape.requestTimeoutMs });
  const signal = new AbortController().signal;

  let next = 0;
  let done = 0;
  let requests = 0;
  let retriedDocuments = 0;
  let requestRetries = 0;
  const samples: [number, number][] = [[0, 0]];
  const meter = new CpuMeter(options.pids);
  const started = performance.now();
  const ticker = setInterval(() => {
    const seconds = (performance.now() - started) / 1000;
    samples.push([seconds, done]);
    progress.update(`${label} ${fmt(done)}/${fmt(options.count)} indexed  ${fmt(done / seconds)} rec/s`);
  }, 1_000);

  const send = async (body: Body): Promise<void> => {
    let pending = body;
    for (;;) {
      requests++;
      let response;
      try {
        response = await bulk(pending.text, signal);
      } catch (error) {
        // A whole request refused for load (429, 5xx, timeout): back off, send it again.
        if (!isRetriable(error) || ++requestRetries > MAX_REQUEST_RETRIES) throw error;
        await sleep(RETRY_MS);
        continue;
      }
      if (!response.errors) {
        done += pending.documents;
        return;
      }
      const again: number[] = [];
      response.items.forEach((item, position) => {
        const result = item.index;
        if (result === undefined) throw new Error(`${label} unexpected bulk item at ${String(position)}`);
        if (result.status < 300) done++;
        else if (result.status === 429 || result.status >= 500) again.push(position);
        else throw new Error(`${label} document refused: ${String(result.status)} ${JSON.stringify(result.error)}`);
      });
      retriedDocuments += again.length;
      pending = subset(pending, again);
      await sleep(RETRY_MS);
    }
  };
  const lane = async (): Promise<void> => {
    for (let body = bodies[next++]; body !== undefined; body = bodies[next++]) await send(body);
  };
  try {
    await Promise.all(Array.from({ length: options.shape.workers }, lane));
  } finally {
    clearInterval(ticker);
  }
  const seconds = (performance.now() - started) / 1000;
  const cpu = meter.read();
  samples.push([seconds, done]);
  return { records: options.count, bodyBytes, requests, retriedDocuments, buildSeconds, seconds, recordsPerSecond: options.count / seconds, cpu, samples };
}
