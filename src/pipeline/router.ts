/**
 * Topic + record timestamp -> index name. Runs once per record (tens of thousands per
 * second), so everything that can be is done once: templates are compiled at
 * creation, each topic's sanitized name is cached, and each topic remembers the time
 * bucket (hour/day/month/year) of the last name it produced, so a record whose
 * timestamp falls in the same bucket costs two comparisons.
 */
import { ConfigError } from "../errors.ts";
import { compileIndexTemplate, indexPrefixProblem, parseUtcOffset, sanitizeTopic } from "./index-name.ts";
import type { CompiledTemplate, Granularity } from "./index-name.ts";
import { effectiveTimestamp } from "./timestamp.ts";

export interface RouterOptions {
  /** Index template for every topic not in `topicMap`; default "{topic}". */
  readonly template?: string;
  /** Literal text put before every index name, mapped ones included; default "". */
  readonly prefix?: string;
  /** Exact topic name -> template; wins over `template`. */
  readonly topicMap?: Readonly<Record<string, string>>;
  /** Zone for date tokens: "UTC" (default) or a fixed offset "±HH:MM". */
  readonly timezone?: string;
}

export interface Router {
  route(topic: string, timestampMs: number): string;
}

interface TopicRoute {
  readonly template: CompiledTemplate;
  readonly topic: string;
  /** The cached `index` is valid for timestamps in [start, end). */
  start: number;
  end: number;
  index: string;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** Topics come and go with pattern subscriptions; bound the cache rather than trust that. */
const MAX_CACHED_TOPICS = 10_000;

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

export function createRouter(options: RouterOptions = {}): Router {
  const prefix = options.prefix ?? "";
  const prefixProblem = indexPrefixProblem(prefix);
  if (prefixProblem !== undefined) {
    throw new ConfigError(`index prefix ${JSON.stringify(prefix)}: ${prefixProblem}`);
  }
  const timezone = options.timezone ?? "UTC";
  const offsetMinutes = parseUtcOffset(timezone);
  if (offsetMinutes === undefined) {
    throw new ConfigError(`index timezone ${JSON.stringify(timezone)}: must be "UTC" or an offset like "+02:00"`);
  }
  const offsetMs = offsetMinutes * 60_000;

  // The prefix is literal (checked above), so prefix + template is itself a template:
  // the length budget and the leading-character rules then apply to the whole name.
  const fallback = compileIndexTemplate(prefix + (options.template ?? "{topic}"));
  const mapped = new Map<string, CompiledTemplate>();
  for (const [topic, template] of Object.entries(options.topicMap ?? {})) {
    mapped.set(topic, compileIndexTemplate(prefix + template));
  }
  const routes = new Map<string, TopicRoute>();

  function refresh(route: TopicRoute, timestampMs: number): void {
    const local = timestampMs + offsetMs;
    const [start, end] = localBucket(local, route.template.granularity);
    route.start = start - offsetMs;
    route.end = end - offsetMs;
    route.index = route.template.render(route.topic, new Date(local));
  }

  function lookup(topic: string, timestampMs: number): TopicRoute {
    let route = routes.get(topic);
    if (route === undefined) {
      if (routes.size >= MAX_CACHED_TOPICS) routes.clear();
      const template = mapped.get(topic) ?? fallback;
      route = { template, topic: sanitizeTopic(topic, template), start: 0, end: 0, index: "" };
      refresh(route, timestampMs);
      routes.set(topic, route);
    }
    return route;
  }

  return {
    route(topic: string, timestampMs: number): string {
      // A record without a usable timestamp gets a fixed date, never the clock (see timestamp.ts).
      const ts = effectiveTimestamp(timestampMs);
      const route = lookup(topic, ts);
      if (ts < route.start || ts >= route.end) refresh(route, ts);
      return route.index;
    },
  };
}
