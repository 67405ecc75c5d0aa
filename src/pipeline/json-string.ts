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

/**
 * Extra bytes each byte value takes once escaped: 0 for most, 1 for `\"`, `\\` and
 * `\n`-style escapes, 5 for `\u00XX`. One table load per byte: this loop runs over
 * every byte of every text record, and an iterator or a property lookup per byte
 * cost several times more (bench-hot-path).
 */
const ESCAPE_EXTRA = (() => {
  const table = new Uint8Array(256);
  for (let byte = 0; byte < 0x20; byte++) table[byte] = SHORT_ESCAPES[byte] === undefined ? 5 : 1;
  table[QUOTE] = 1;
  table[BACKSLASH] = 1;
  return table;
})();

/**
 * Whether any of the four bytes of `word` is below 0x20, `"` or `\` (SWAR: "has a
 * byte less than n" and "has a zero byte" on 32 bits). Exact as an any-test: a borrow
 * only ever starts at a byte that is itself a hit. Four bytes per step instead of one:
 * text lines are escaped byte for byte on the hot path, and most words hold no escape.
 */
export function hasEscapable(word: number): boolean {
  const quote = word ^ 0x22222222;
  const backslash = word ^ 0x5c5c5c5c;
  const hits = ((word - 0x20202020) & ~word) | ((quote - 0x01010101) & ~quote) | ((backslash - 0x01010101) & ~backslash);
  return (hits & 0x80808080) !== 0;
}

/** A view for reading `value` 32 bits at a time (any alignment). */
export function wordsOf(value: Uint8Array): DataView {
  return new DataView(value.buffer, value.byteOffset, value.byteLength);
}

/** Bytes `value` (valid UTF-8) takes once escaped. */
export function escapedLength(value: Uint8Array): number {
  const n = value.length;
  const words = wordsOf(value);
  let extra = 0;
  let i = 0;
  while (i < n) {
    if (i + 4 <= n && !hasEscapable(words.getUint32(i, true))) {
      i += 4;
      continue;
    }
    extra += ESCAPE_EXTRA[value[i] ?? 0] ?? 0;
    i++;
  }
  return n + extra;
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
  const n = value.length;
  const words = wordsOf(value);
  let i = 0;
  while (i < n) {
    if (i + 4 <= n && !hasEscapable(words.getUint32(i, true))) {
      i += 4;
      continue;
    }
    const byte = value[i] ?? 0;
    i++;
    if (ESCAPE_EXTRA[byte] === 0) continue;
    if (i - 1 > runStart) at += value.copy(target, at, runStart, i - 1);
    at = writeEscape(target, at, byte);
    runStart = i;
  }
  if (value.length > runStart) at += value.copy(target, at, runStart);
  return at;
}
