/**
 * Points in time given on the command line: ISO 8601 (`2026-11-30T06:00:00Z`,
 * `2026-11-30` = midnight UTC, an offset like `+02:00`), relative to now (`-2h`,
 * `-90m`, `-1d`, `-30s`, `-1w`), `now`, or epoch milliseconds. A date-time without a
 * zone is refused rather than guessed: the machine's zone would silently shift the
 * range.
 */
import type { TimeRange } from "../source/replay/replay-plan.ts";

const UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
};

const RELATIVE = /^([+-])(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/;
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/i;
const EPOCH_MS = /^\d{10,16}$/;

/** Milliseconds since the epoch for `text`, or a reason it is not a time. */
export function parseTime(text: string, now: number): number | string {
  const value = text.trim();
  if (value === "now") return now;
  const relative = RELATIVE.exec(value);
  if (relative !== null) {
    const [, sign, amount, unit] = relative;
    const ms = Number(amount) * (UNIT_MS[unit ?? ""] ?? Number.NaN);
    return Math.round(sign === "-" ? now - ms : now + ms);
  }
  if (EPOCH_MS.test(value)) return Number(value);
  if (DATE_ONLY.test(value)) return checked(Date.parse(`${value}T00:00:00Z`), value);
  if (ISO_WITH_ZONE.test(value)) return checked(Date.parse(value), value);
  if (/^\d{4}-\d{2}-\d{2}T/.test(value)) return "an ISO 8601 time needs a zone (Z or +hh:mm)";
  return "expected ISO 8601 (2026-11-30T06:00:00Z), a relative time (-2h, -30m, -1d) or now";
}

/** Date.parse rolls 2026-02-30 over into March: check the calendar date itself too. */
function checked(ms: number, text: string): number | string {
  const [y, m, d] = text.slice(0, 10).split("-").map(Number);
  const day = new Date(Date.UTC(y ?? 0, (m ?? 0) - 1, d ?? 0));
  const real = day.getUTCFullYear() === y && day.getUTCMonth() + 1 === m && day.getUTCDate() === d;
  return Number.isFinite(ms) && real ? ms : `${text} is not a valid date`;
}


/** [from, to) from two command-line times, or a one-line reason naming the bad value. */
export function parseTimeRange(from: string, to: string, now: number): TimeRange | string {
  const start = parseTime(from, now);
  if (typeof start === "string") return `--from ${JSON.stringify(from)}: ${start}`;
  const end = parseTime(to, now);
  if (typeof end === "string") return `--to ${JSON.stringify(to)}: ${end}`;
  if (end <= start) {
    return `--to ${JSON.stringify(to)} (${new Date(end).toISOString()}) must be after --from ${JSON.stringify(from)} (${new Date(start).toISOString()})`;
  }
  return { from: start, to: end };
}
