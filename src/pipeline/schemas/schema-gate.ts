/**
 * The step before decoding that makes sure a framed record's schema is loaded: decoding
 * is synchronous (a Map lookup per record), fetching a schema is not.
 *
 * `admit(item)` answers at once: yes when the record needs no schema or its schemas
 * are cached (the record is decoded now); otherwise the gate keeps the item, fetches
 * the schema (one request per id, however many records wait for it) and hands the item
 * back through `onResume` once it is loaded. A record that waits is neither acked nor
 * released: its partition's committed offset stays below it and it keeps its place in
 * the queue's budget, so memory stays bounded however long the registry is away, and
 * records whose schemas are cached go on being indexed around it.
 *
 * A failed fetch (registry down, timeout, or an id the registry does not know) is
 * retried with backoff for as long as records wait: it is the registry that is wrong,
 * not the record, so nothing is dead-lettered for it. Only `auto` topics take the
 * registry's "no such id" as an answer: such a value is not in the wire format after
 * all, and is read as JSON (remembered for a while, bounded).
 *
 * The interface (admit / onResume / held / close) is all the bulk workers see, so the
 * waiting can move elsewhere (e.g. onto per-partition holds) without touching them.
 */
import type { KafkaRecord } from "../record.ts";
import { LogRateLimiter, suppressedSuffix } from "../../shared/rate-limited-log.ts";
import { describeError } from "../../errors.ts";
import type { FormatLookup, RecordFormat } from "./record-format.ts";
import { SchemaCache } from "./schema-cache.ts";
import type { SchemaLookup, SchemaReader } from "./schema-reader.ts";
import { frameSchemaId } from "./wire-format.ts";

export type SchemaFetchOutcome = "success" | "not_found" | "error";

/** Telemetry hooks (implemented by the metrics module); cheap, never throw. */
export interface SchemaObserver {
  schemaFetched(outcome: SchemaFetchOutcome): void;
  /** Records held now, after each change. */
  recordsAwaitingSchema(count: number): void;
  schemasCached(count: number): void;
}

export interface SchemaLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface SchemaGateOptions<T> {
  readonly formats: FormatLookup;
  /** Fetches and compiles schema `id`; rejects with a RegistryError-like error (`notFound` true for an unknown id). */
  readonly load: (id: number) => Promise<SchemaReader>;
  readonly recordOf: (item: T) => KafkaRecord;
  /** Compiled schemas kept at most. */
  readonly cacheSize: number;
  /** Delay before fetch attempt `attempt + 1` after `attempt + 1` failures (backoff with jitter). */
  readonly retryDelayMs: (attempt: number) => number;
  readonly observer?: SchemaObserver;
  readonly logger?: SchemaLogger;
  readonly now?: () => number;
}

interface Pending<T> {
  readonly id: number;
  /** Failed fetches so far. */
  attempt: number;
  inFlight: boolean;
  timer: NodeJS.Timeout | undefined;
  waiting: T[];
}

const ignore = (): void => undefined;
const noObserver: SchemaObserver = { schemaFetched: ignore, recordsAwaitingSchema: ignore, schemasCached: ignore };
const noLogger: SchemaLogger = { info: ignore, warn: ignore };

export class SchemaGate<T> implements SchemaLookup {
  readonly #options: SchemaGateOptions<T>;
  readonly #cache: SchemaCache<SchemaReader>;
  /** `auto` ids the registry said it does not know, until when (ms) that answer stands. */
  readonly #unknown: SchemaCache<number>;
  readonly #pending = new Map<number, Pending<T>>();
  readonly #observer: SchemaObserver;
  readonly #logger: SchemaLogger;
  readonly #now: () => number;
  readonly #logLimit = new LogRateLimiter({ intervalMs: 10_000 });
  #resume: (items: T[]) => void = ignore;
  #held = 0;
  #closed = false;

  constructor(options: SchemaGateOptions<T>) {
    this.#options = options;
    this.#cache = new SchemaCache(options.cacheSize);
    this.#unknown = new SchemaCache(options.cacheSize * 10);
    this.#observer = options.observer ?? noObserver;
    this.#logger = options.logger ?? noLogger;
    this.#now = options.now ?? Date.now;
  }

  /** Records held now, waiting for a schema. */
  get held(): number {
    return this.#held;
  }

  reader(id: number): SchemaReader | undefined {
    return this.#cache.get(id);
  }

  /** Where held items go once their schema is loaded (or known not to exist, for `auto`). */
  onResume(resume: (items: T[]) => void): void {
    this.#resume = resume;
  }

  admit(item: T): boolean {
    const id = this.#missing(this.#options.recordOf(item));
    if (id < 0) return true;
    this.#hold(item, id);
    return false;
  }

  /** Stops fetching; held items stay unacked (they are redelivered to whoever reads the partition next). */
  close(): void {
    this.#closed = true;
    for (const pending of this.#pending.values()) clearTimeout(pending.timer);
  }

  /** The first schema id `record` needs that is not loaded, or -1. */
  #missing(record: KafkaRecord): number {
    const formats = this.#options.formats(record.topic);
    if (formats.valueFormat !== "json") {
      const id = this.#missingFor(record.value, formats.valueFormat);
      if (id > 0) return id;
    }
    if (formats.keyFormat !== "json") return this.#missingFor(record.key, formats.keyFormat);
    return -1;
  }

  #missingFor(bytes: Buffer | null, format: RecordFormat): number {
    const id = frameSchemaId(bytes);
    if (id < 0 || this.#cache.has(id)) return -1;
    if (format === "auto" && (this.#unknown.get(id) ?? 0) > this.#now()) return -1;
    return id;
  }

  #hold(item: T, id: number): void {
    let pending = this.#pending.get(id);
    if (pending === undefined) {
      pending = { id, attempt: 0, inFlight: false, timer: undefined, waiting: [] };
      this.#pending.set(id, pending);
    }
    pending.waiting.push(item);
    this.#held += 1;
    this.#observer.recordsAwaitingSchema(this.#held);
    if (!pending.inFlight && pending.timer === undefined) this.#fetch(pending);
  }

  #fetch(pending: Pending<T>): void {
    if (this.#closed) return;
    pending.inFlight = true;
    this.#options.load(pending.id).then(
      (reader) => {
        this.#loaded(pending, reader);
      },
      (error: unknown) => {
        this.#failed(pending, error);
      },
    );
  }

  #loaded(pending: Pending<T>, reader: SchemaReader): void {
    pending.inFlight = false;
    this.#pending.delete(pending.id);
    this.#cache.set(pending.id, reader);
    this.#observer.schemaFetched("success");
    this.#observer.schemasCached(this.#cache.size);
    if (pending.attempt > 0) this.#logger.info({ schemaId: pending.id, attempts: pending.attempt + 1, records: pending.waiting.length }, "schema registry: schema fetched after retries");
    this.#release(pending.waiting);
  }

  #failed(pending: Pending<T>, error: unknown): void {
    pending.inFlight = false;
    const notFound = typeof error === "object" && error !== null && (error as { notFound?: unknown }).notFound === true;
    this.#observer.schemaFetched(notFound ? "not_found" : "error");
    const delayMs = this.#options.retryDelayMs(pending.attempt);
    pending.attempt += 1;
    if (notFound) {
      // For `auto` topics that is an answer: the value was not framed after all.
      this.#unknown.set(pending.id, this.#now() + Math.max(delayMs, 1_000));
      const ready: T[] = [];
      pending.waiting = pending.waiting.filter((item) => (this.#missing(this.#options.recordOf(item)) === pending.id ? true : (ready.push(item), false)));
      this.#release(ready);
    }
    this.#logFailure(pending, error, notFound, delayMs);
    if (pending.waiting.length === 0) {
      this.#pending.delete(pending.id);
      return;
    }
    if (this.#closed) return;
    pending.timer = setTimeout(() => {
      pending.timer = undefined;
      if (pending.waiting.length > 0) this.#fetch(pending);
      else this.#pending.delete(pending.id);
    }, delayMs);
    pending.timer.unref();
  }

  #logFailure(pending: Pending<T>, error: unknown, notFound: boolean, delayMs: number): void {
    if (pending.waiting.length === 0) return;
    const decision = this.#logLimit.check(String(pending.id));
    if (!decision.allowed) return;
    const suffix = decision.suppressed > 0 ? ` ${suppressedSuffix(decision.suppressed, decision.sinceMs)}` : "";
    const why = notFound ? "the registry does not know this id" : "the registry could not be reached or failed";
    this.#logger.warn(
      { schemaId: pending.id, attempt: pending.attempt, records: pending.waiting.length, retryInMs: delayMs, err: describeError(error) },
      `schema registry: schema ${String(pending.id)} not fetched (${why}); its records wait, retrying${suffix}`,
    );
  }

  #release(items: T[]): void {
    if (items.length === 0) return;
    this.#held -= items.length;
    this.#observer.recordsAwaitingSchema(this.#held);
    if (!this.#closed) this.#resume(items);
  }
}
