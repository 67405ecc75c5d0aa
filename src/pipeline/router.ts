/**
 * Topic + record timestamp (+ a document field) -> index name. Runs once per record
 * (tens of thousands per second), so everything that can be is done once: templates
 * are compiled once per source, each topic's sanitized name is cached, each topic (and
 * each field value) remembers the time bucket (hour/day/month/year) of the last name it
 * produced, so a record whose timestamp falls in the same bucket costs two comparisons.
 *
 * A template naming a field (`logs-{field:service.name}-{yyyy.MM.dd}`) routes by the
 * field's string value, which the decoder reads from the document it already decoded
 * (never a second parse). The distinct values given an index of their own are bounded
 * per router (`maxFieldValues`): a new value past the bound, like a missing or
 * non-string field, takes the template's fallback, and `onFieldFallback` is told why.
 */
import { ConfigError } from "../errors.ts";
import type { FieldPath, FieldRead } from "./field-path.ts";
import { compileIndexTemplate, indexPrefixProblem, parseUtcOffset, sanitizeFieldValue, sanitizeTopic } from "./index-name.ts";
import type { CompiledTemplate, Granularity } from "./index-name.ts";
import { effectiveTimestamp } from "./timestamp.ts";

/** Why a record took its template's fallback: no such field, a field that is no string (or nothing once sanitized), or too many values. */
export type FieldFallbackReason = "missing" | "not_string" | "limit";

export const DEFAULT_MAX_FIELD_VALUES = 100;

export interface RouterOptions {
  /** Index template for every topic not in `topicMap`; default "{topic}". */
  readonly template?: string;
  /** Literal text put before every index name, mapped ones included; default "". */
  readonly prefix?: string;
  /** Exact topic name -> template; wins over `template`. */
  readonly topicMap?: Readonly<Record<string, string>>;
  /**
   * Each topic's template (the per-topic settings lookup): replaces `template` and
   * `topicMap` when given. The prefix still applies. Templates must be valid (checked
   * with the configuration).
   */
  readonly templateFor?: (topic: string) => string;
  /** Zone for date tokens: "UTC" (default) or a fixed offset "±HH:MM". */
  readonly timezone?: string;
  /** Most distinct `{field:...}` values that get their own index (over every topic); default 100. */
  readonly maxFieldValues?: number;
  /** Called for each record that takes its template's fallback (cheap, must not throw). */
  readonly onFieldFallback?: (topic: string, reason: FieldFallbackReason) => void;
}

export interface Router {
  /**
   * The index of a record of `topic` at `timestampMs`; `field` is what the document
   * holds at the topic's `fieldPath` (ignored when its template names no field).
   */
  route(topic: string, timestampMs: number, field?: FieldRead): string;
  /** The field the topic's template routes by, for the decoder to read; undefined when none. */
  fieldPath(topic: string): FieldPath | undefined;
}

/** A name valid for timestamps in [start, end), re-rendered when a timestamp falls outside. */
interface CachedName {
  /** Field value (sanitized) rendered into the name; "" without a field. */
  readonly value: string;
  start: number;
  end: number;
  index: string;
}

interface TopicRoute extends CachedName {
  readonly template: CompiledTemplate;
  readonly topic: string;
  /** Raw field value -> its name (with the fallback reason when it took the fallback). */
  readonly byValue: Map<string, CachedName & { readonly reason?: FieldFallbackReason }>;
  /** The fallback's name, one per reason so the reason travels with it. */
  readonly fallbacks: Map<FieldFallbackReason, CachedName & { readonly reason: FieldFallbackReason }>;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** Topics come and go with pattern subscriptions; bound the cache rather than trust that. */
const MAX_CACHED_TOPICS = 10_000;
/** Raw field values remembered per topic (case variants of one value, values refused by the limit). */
const MAX_CACHED_VALUES = 10_000;

/** [start, end) of the bucket holding `local` (ms in the template's zone), in local ms. */
function localBucket(local: number, granularity: Granularity): readonly [number, number] {
  switch (granularity) {
    case "none":
      return [-Infinity, Infinity];
    case "hour": {
      const start = Math.floor(local / HOUR_MS) * HOUR_MS;
      return [start, start + HOUR_MS];
    }
    case "day": {
      const start = Math.floor(local / DAY_MS) * DAY_MS;
      return [start, start + DAY_MS];
    }
    case "month": {
      const d = new Date(local);
      const year = d.getUTCFullYear();
      const month = d.getUTCMonth();
      return [Date.UTC(year, month, 1), Date.UTC(year, month + 1, 1)];
    }
    case "year": {
      const year = new Date(local).getUTCFullYear();
      return [Date.UTC(year, 0, 1), Date.UTC(year + 1, 0, 1)];
    }
  }
}

function checkedOffsetMs(timezone: string): number {
  const offsetMinutes = parseUtcOffset(timezone);
  if (offsetMinutes === undefined) {
    throw new ConfigError(`index timezone ${JSON.stringify(timezone)}: must be "UTC" or an offset like "+02:00"`);
  }
  return offsetMinutes * 60_000;
}

/** The template source of each topic, prefixed; templates given up front are checked now. */
function templateSources(options: RouterOptions, prefix: string): (topic: string) => string {
  const prefixProblem = indexPrefixProblem(prefix);
  if (prefixProblem !== undefined) {
    throw new ConfigError(`index prefix ${JSON.stringify(prefix)}: ${prefixProblem}`);
  }
  const templateFor = options.templateFor;
  if (templateFor !== undefined) return (topic) => prefix + templateFor(topic);
  // The prefix is literal (checked above), so prefix + template is itself a template:
  // the length budget and the leading-character rules then apply to the whole name.
  const fallback = prefix + (options.template ?? "{topic}");
  compileIndexTemplate(fallback);
  const mapped = new Map<string, string>();
  for (const [topic, template] of Object.entries(options.topicMap ?? {})) {
    mapped.set(topic, prefix + template);
    compileIndexTemplate(prefix + template);
  }
  return (topic) => mapped.get(topic) ?? fallback;
}

/** Which distinct field values have an index of their own: at most `max`, first come first served, for the router's life. */
class FieldValueBudget {
  readonly #admitted = new Set<string>();
  readonly #max: number;

  constructor(max: number) {
    if (!Number.isSafeInteger(max) || max < 0) throw new ConfigError(`index field values limit must be a non-negative integer, got ${String(max)}`);
    this.#max = max;
  }

  /** Whether the index identified by `key` may be used (already admitted, or room for one more). */
  admit(key: string): boolean {
    if (this.#admitted.has(key)) return true;
    if (this.#admitted.size >= this.#max) return false;
    this.#admitted.add(key);
    return true;
  }
}

export function createRouter(options: RouterOptions = {}): Router {
  const sourceOf = templateSources(options, options.prefix ?? "");
  const offsetMs = checkedOffsetMs(options.timezone ?? "UTC");
  const budget = new FieldValueBudget(options.maxFieldValues ?? DEFAULT_MAX_FIELD_VALUES);
  const onFallback = options.onFieldFallback ?? (() => undefined);
  const compiled = new Map<string, CompiledTemplate>();
  const routes = new Map<string, TopicRoute>();

  function compile(source: string): CompiledTemplate {
    let template = compiled.get(source);
    if (template === undefined) {
      template = compileIndexTemplate(source);
      compiled.set(source, template);
    }
    return template;
  }

  function refresh(route: TopicRoute, name: CachedName, timestampMs: number): void {
    const local = timestampMs + offsetMs;
    const [start, end] = localBucket(local, route.template.granularity);
    name.start = start - offsetMs;
    name.end = end - offsetMs;
    name.index = route.template.render(route.topic, new Date(local), name.value);
  }

  function lookup(topic: string): TopicRoute {
    let route = routes.get(topic);
    if (route === undefined) {
      if (routes.size >= MAX_CACHED_TOPICS) routes.clear();
      const template = compile(sourceOf(topic));
      const value = template.field?.fallback ?? "";
      route = { template, topic: sanitizeTopic(topic, template), value, start: 0, end: 0, index: "", byValue: new Map(), fallbacks: new Map() };
      routes.set(topic, route);
    }
    return route;
  }

  function fallbackName(route: TopicRoute, reason: FieldFallbackReason): CachedName & { readonly reason: FieldFallbackReason } {
    let name = route.fallbacks.get(reason);
    if (name === undefined) {
      name = { value: route.value, start: 0, end: 0, index: "", reason };
      route.fallbacks.set(reason, name);
    }
    return name;
  }

  /** The name for a raw field value: its own, or the fallback's when it is empty once sanitized or over the limit. */
  function valueName(route: TopicRoute, raw: string): CachedName & { readonly reason?: FieldFallbackReason } {
    let name = route.byValue.get(raw);
    if (name === undefined) {
      if (route.byValue.size >= MAX_CACHED_VALUES) route.byValue.clear();
      const value = sanitizeFieldValue(raw, route.template);
      if (value === "") name = fallbackName(route, "not_string");
      else if (!budget.admit(`${route.template.source}\u0000${route.topic}\u0000${value}`)) name = fallbackName(route, "limit");
      else name = { value, start: 0, end: 0, index: "" };
      route.byValue.set(raw, name);
    }
    return name;
  }

  function nameFor(route: TopicRoute, field: FieldRead, topic: string): CachedName {
    if (route.template.field === undefined) return route;
    const name = typeof field === "string" ? valueName(route, field) : fallbackName(route, field === undefined ? "missing" : "not_string");
    if (name.reason !== undefined) onFallback(topic, name.reason);
    return name;
  }

  return {
    route(topic: string, timestampMs: number, field?: FieldRead): string {
      // A record without a usable timestamp gets a fixed date, never the clock (see timestamp.ts).
      const ts = effectiveTimestamp(timestampMs);
      const route = lookup(topic);
      const name = nameFor(route, field, topic);
      if (ts < name.start || ts >= name.end || name.index === "") refresh(route, name, ts);
      return name.index;
    },
    fieldPath(topic: string): FieldPath | undefined {
      return lookup(topic).template.field?.path;
    },
  };
}
