/**
 * Valid UTF-8 bytes written as the inside of a JSON string, straight from bytes to
 * bytes: the same output as `JSON.stringify(bytes.toString("utf8"))` without its
 * quotes, but without the two strings per record that route allocates (and that live
 * on the heap as long as the record waits for Elasticsearch). Only `"`, `\` and
 * control characters are escaped, as JSON.stringify does; other bytes, multi-byte
 * sequences included, are copied as they are.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const SHORT_ESCAPES: Readonly<Record<number, number>> = { 0x08: 0x62, 0x09: 0x74, 0x0a: 0x6e, 0x0c: 0x66, 0x0d: 0x72 };
const HEX = "0123456789abcdef";

function needsEscape(byte: number): boolean {
  return byte < 0x20 || byte === QUOTE || byte === BACKSLASH;
}

/** Extra bytes the escapes add: 1 for `\"`, `\\` and `\n`-style escapes, 5 for `\u00XX`. */
function escapeExtra(byte: number): number {
  return byte === QUOTE || byte === BACKSLASH || SHORT_ESCAPES[byte] !== undefined ? 1 : 5;
}

/** Bytes `value` (valid UTF-8) takes once escaped. */
export function escapedLength(value: Buffer): number {
  let length = value.length;
  for (const byte of value) {
    if (needsEscape(byte)) length += escapeExtra(byte);
  }
  return length;
}

/** Writes one escape for `byte` at `at`; returns the new end. */
function writeEscape(target: Buffer, at: number, byte: number): number {
  target[at++] = BACKSLASH;
  const short = byte === QUOTE || byte === BACKSLASH ? byte : SHORT_ESCAPES[byte];
  if (short !== undefined) {
    target[at++] = short;
    return at;
  }
  return at + target.write(`u00${HEX[byte >> 4] ?? "0"}${HEX[byte & 0xf] ?? "0"}`, at, "latin1");
}

/**
 * Writes `value` escaped into `target` at `at` (room for `escapedLength(value)` bytes
 * is the caller's business); returns the new end. Runs between escapes are copied
 * natively, so a line with few quotes costs a few `copy` calls.
 */
export function writeEscaped(target: Buffer, at: number, value: Buffer): number {
  let runStart = 0;
  for (let i = 0; i < value.length; i++) {
    const byte = value[i] ?? 0;
    if (!needsEscape(byte)) continue;
    if (i > runStart) at += value.copy(target, at, runStart, i);
    at = writeEscape(target, at, byte);
    runStart = i + 1;
  }
  if (value.length > runStart) at += value.copy(target, at, runStart);
  return at;
}
