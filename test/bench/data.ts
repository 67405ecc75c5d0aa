/**
 * The bench's records: deterministic, realistic log events of about `recordBytes`
 * bytes, as JSON objects (ECS-like fields) or plain text lines. Record i is the same
 * in every phase, so the Elasticsearch ceiling indexes exactly what the worker does.
 */
import type { Variant } from "./settings.ts";
import { avroDocument, avroValue } from "./avro.ts";
import { seededRandom } from "../support/prng.ts";

const WORDS = (
  "request completed failed retry timeout user order payment cart checkout session token cache miss hit " +
  "database query slow connection pool acquired released upstream downstream service latency error warning " +
  "started stopped processing batch item inventory shipment invoice customer account login logout refresh " +
  "validated rejected accepted queued dispatched received parsed serialized encoded compressed flushed " +
  "committed rolled back transaction lock wait deadlock index shard replica node cluster health green yellow " +
  "memory heap garbage collection pause thread worker scheduler job cron trigger webhook callback handler " +
  "route controller middleware auth permission denied granted quota limit throttled backoff circuit open closed"
).split(" ");
const SERVICES = ["checkout", "payments", "inventory", "search", "auth", "shipping", "catalog", "gateway"];
const LEVELS = ["info", "info", "info", "info", "debug", "warn", "error"];
const METHODS = ["GET", "GET", "GET", "POST", "PUT", "DELETE"];
const STATUSES = [200, 200, 200, 200, 201, 204, 301, 400, 404, 500, 503];
const REGIONS = ["eu-west-1", "us-east-1", "ap-south-1"];
const AGENTS = [
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36",
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
  "curl/8.5.0",
  "okhttp/4.12.0",
];
/** Event times start here and advance 1 ms per record. */
const BASE_MS = Date.UTC(2025, 0, 15, 8, 0, 0);


function pick<T>(random: () => number, items: readonly T[]): T {
  const item = items[Math.floor(random() * items.length)];
  if (item === undefined) throw new Error("pick from an empty list");
  return item;
}

function hex(random: () => number, length: number): string {
  let out = "";
  while (out.length < length) out += Math.floor(random() * 0x100000000).toString(16).padStart(8, "0");
  return out.slice(0, length);
}

/** Random words, about `budget` characters of them (never more). */
function fill(random: () => number, budget: number): string {
  let out = "";
  while (budget - out.length > 12) out += (out === "" ? "" : " ") + pick(random, WORDS);
  return out;
}

interface Event {
  readonly iso: string;
  readonly level: string;
  readonly service: string;
  readonly host: string;
  readonly ip: string;
  readonly client: string;
  readonly trace: string;
  readonly span: string;
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly durationUs: number;
  readonly bytes: number;
  readonly agent: string;
  readonly region: string;
  readonly user: string;
}

function event(i: number, random: () => number): Event {
  const service = pick(random, SERVICES);
  const hostN = Math.floor(random() * 40);
  return {
    iso: new Date(BASE_MS + i).toISOString(),
    level: pick(random, LEVELS),
    service,
    host: `${service}-${String(hostN).padStart(2, "0")}`,
    ip: `10.${String(hostN)}.${String(Math.floor(random() * 256))}.${String(Math.floor(random() * 256))}`,
    client: `203.0.113.${String(Math.floor(random() * 256))}`,
    trace: hex(random, 32),
    span: hex(random, 16),
    method: pick(random, METHODS),
    path: `/api/v1/${service}/${String(Math.floor(random() * 100000))}`,
    status: pick(random, STATUSES),
    durationUs: Math.floor(random() * 2_000_000),
    bytes: Math.floor(random() * 65536),
    agent: pick(random, AGENTS),
    region: pick(random, REGIONS),
    user: `u-${String(Math.floor(random() * 1_000_000))}`,
  };
}

/** One JSON log event (compact, ASCII, no line breaks), about `size` bytes. */
export function jsonRecord(i: number, size: number): string {
  const random = seededRandom(i * 2654435761);
  const e = event(i, random);
  const head =
    `{"@timestamp":"${e.iso}","log":{"level":"${e.level}","logger":"${e.service}.http"},` +
    `"service":{"name":"${e.service}","version":"1.${String(i % 7)}.${String(i % 13)}","environment":"production"},` +
    `"host":{"name":"${e.host}","ip":"${e.ip}"},"cloud":{"region":"${e.region}"},` +
    `"trace":{"id":"${e.trace}"},"span":{"id":"${e.span}"},` +
    `"http":{"request":{"method":"${e.method}"},"response":{"status_code":${String(e.status)},"bytes":${String(e.bytes)}}},` +
    `"url":{"path":"${e.path}"},"client":{"ip":"${e.client}"},"user":{"id":"${e.user}"},` +
    `"user_agent":{"original":"${e.agent}"},"event":{"duration":${String(e.durationUs * 1000)},"dataset":"${e.service}.access","sequence":${String(i)}},` +
    `"message":"`;
  const tail = `"}`;
  return head + fill(random, size - head.length - tail.length) + tail;
}

/** One plain-text log line (ASCII, no line breaks), about `size` bytes. */
export function textRecord(i: number, size: number): string {
  const random = seededRandom(i * 2654435761);
  const e = event(i, random);
  const head =
    `${e.iso} ${e.level.toUpperCase()} [${e.service}] host=${e.host} region=${e.region} trace=${e.trace} span=${e.span} ` +
    `client=${e.client} user=${e.user} "${e.method} ${e.path}" ${String(e.status)} ${String(e.bytes)}B ` +
    `${String(Math.round(e.durationUs / 1000))}ms ua="${e.agent}" seq=${String(i)} msg: `;
  return head + fill(random, size - head.length);
}

export function makeRecord(variant: Variant, i: number, size: number): string {
  return variant === "text" ? textRecord(i, size) : jsonRecord(i, size);
}

/** Record i's value as produced: text for every variant but `avro` (framed Avro bytes). */
export function recordValue(variant: Variant, i: number, size: number): string | Buffer {
  return variant === "avro" ? avroValue(i, size) : makeRecord(variant, i, size);
}

/**
 * The source the worker sends to Elasticsearch for record i, with the worker's default
 * document settings: a JSON object that has "@timestamp" goes verbatim; a text line is
 * wrapped as {"@timestamp": <record time>, "message": <line>}. `timestampMs` stands in
 * for the Kafka timestamp.
 */
export function documentSource(variant: Variant, i: number, size: number, timestampMs: number): string {
  if (variant === "avro") return avroDocument(i, size, timestampMs);
  const value = makeRecord(variant, i, size);
  if (variant !== "text") return value;
  return `{"@timestamp":${JSON.stringify(new Date(timestampMs).toISOString())},"message":${JSON.stringify(value)}}`;
}
