/**
 * The JSON an Elasticsearch user expects from typed values: dates and times as ISO-8601
 * strings (dynamic mapping makes them `date` fields), 64-bit integers and decimals as
 * exact JSON numbers, bytes as base64. Shared by the Avro and Protobuf readers.
 */

/** `JSON.rawJSON` (Node 21+): a value JSON.stringify writes as the given text, verbatim. */
const json = JSON as unknown as { rawJSON(text: string): object; isRawJSON(value: unknown): boolean };

/** A JSON number written exactly as `digits` (an int64 or a decimal beyond a double's precision). */
export function exactNumber(digits: string): object {
  return json.rawJSON(digits);
}

/** The text of a number made by `exactNumber`, or undefined for anything else. */
export function exactNumberText(value: unknown): string | undefined {
  return json.isRawJSON(value) ? (value as { rawJSON: string }).rawJSON : undefined;
}

/** An int64 given as two's-complement halves: a plain number when it is safe, else exact digits. */
export function int64Json(low: number, high: number, unsigned: boolean): number | object {
  // |value| < 2^53 exactly when the high half is within +-2^21.
  if (unsigned ? high >>> 0 < 0x200000 : high >= -0x200000 && high < 0x200000) {
    return (unsigned ? high >>> 0 : high) * 4294967296 + (low >>> 0);
  }
  const big = (BigInt(unsigned ? high >>> 0 : high) << 32n) | BigInt(low >>> 0);
  return exactNumber(big.toString());
}

const MS_PER_DAY = 86_400_000;
/** The range of a JS Date: outside it a timestamp stays a number. */
const MAX_DATE_MS = 8.64e15;

function pad(value: number, width: number): string {
  return String(value).padStart(width, "0");
}

/** "2026-01-02T03:04:05.678Z" for epoch milliseconds; undefined outside the Date range. */
export function isoMillis(ms: number): string | undefined {
  return Number.isFinite(ms) && Math.abs(ms) <= MAX_DATE_MS ? new Date(ms).toISOString() : undefined;
}

/**
 * ISO-8601 UTC with a fraction of `digits` (3, 6 or 9) for a time given as epoch
 * milliseconds plus the sub-millisecond part (0 <= subMillis < 10^(digits-3)).
 */
export function isoWithFraction(ms: number, subMillis: number, digits: 3 | 6 | 9): string | undefined {
  const iso = isoMillis(ms);
  if (iso === undefined || digits === 3) return iso;
  return `${iso.slice(0, -1)}${pad(subMillis, digits - 3)}Z`;
}

/** An epoch count in `unitsPerMs` units per millisecond (1000 for micros, 10^6 for nanos) as ISO-8601. */
export function isoFromUnits(value: number | bigint, unitsPerMs: number, digits: 6 | 9): string | undefined {
  if (typeof value === "bigint") {
    const per = BigInt(unitsPerMs);
    let ms = value / per;
    let rest = value % per;
    if (rest < 0n) {
      ms -= 1n;
      rest += per;
    }
    return isoWithFraction(Number(ms), Number(rest), digits);
  }
  const ms = Math.floor(value / unitsPerMs);
  return isoWithFraction(ms, value - ms * unitsPerMs, digits);
}

/** "2026-01-02" for days since the epoch. */
export function isoDate(days: number): string | undefined {
  return isoMillis(days * MS_PER_DAY)?.slice(0, 10);
}

/** "03:04:05.678" (with `digits` of fraction) for a time of day in milliseconds plus a sub-millisecond part. */
export function isoTimeOfDay(ms: number, subMillis: number, digits: 3 | 6): string | undefined {
  const iso = isoWithFraction(ms, subMillis, digits);
  return iso?.slice(11, -1);
}

/**
 * A decimal from its unscaled two's-complement big-endian bytes (Avro's decimal) as
 * exact JSON number text: 1234 with scale 2 -> 12.34.
 */
export function decimalText(unscaled: Buffer, scale: number): string {
  let value = 0n;
  for (const byte of unscaled) value = (value << 8n) | BigInt(byte);
  if (unscaled.length > 0 && ((unscaled[0] ?? 0) & 0x80) !== 0) value -= 1n << BigInt(unscaled.length * 8);
  const negative = value < 0n;
  const digits = (negative ? -value : value).toString();
  if (scale <= 0) return `${negative ? "-" : ""}${digits}${"0".repeat(Math.max(0, -scale))}`;
  const padded = digits.padStart(scale + 1, "0");
  return `${negative ? "-" : ""}${padded.slice(0, -scale)}.${padded.slice(-scale)}`;
}

/** "f81d4fae-7dec-11d0-a765-00a0c91e6bf6" for 16 bytes. */
export function uuidText(bytes: Buffer): string {
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
