/**
 * A byte-level JSON validator for the decoder's hot path: it answers "is this exactly
 * one JSON object, and which of these top-level keys does it have?" without building
 * the object (JSON.parse allocates every string, number and nested object only for
 * them to be dropped). Grammar: RFC 8259, as JSON.parse accepts it (no BOM, only
 * space/tab/LF/CR as whitespace, duplicate keys allowed, lone surrogate escapes
 * allowed). Iterative, so any nesting depth is fine; the only allocation is the
 * container stack, grown (rarely) by doubling.
 *
 * UTF-8: `scanJsonObject` checks it with `isUtf8` (native); `scanJsonObjectUtf8`
 * trusts the caller to have checked it already. The grammar part only ever sees
 * non-ASCII bytes inside strings (anywhere else they are a syntax error).
 */
import { isUtf8 } from "node:buffer";
import { segmentsSpelled, type FieldPath } from "./field-path.ts";

/** The bytes are not exactly one JSON object (or not valid UTF-8). */
export const SCAN_INVALID = -1;

/** At most this many key names per scanner: one bit each for "present" and "maybe". */
export const MAX_SCAN_KEYS = 15;

const MAYBE_SHIFT = 16;

/** Whether key `index` is certainly a top-level key of a scan result (not SCAN_INVALID). */
export function keyPresent(result: number, index: number): boolean {
  return result >= 0 && (result & (1 << index)) !== 0;
}

/**
 * Whether key `index` may be a top-level key: some top-level key is written with
 * escapes and could decode to it. The caller must decide another way (JSON.parse).
 */
export function keyMaybe(result: number, index: number): boolean {
  return result >= 0 && (result & (1 << (index + MAYBE_SHIFT))) !== 0;
}

/** Whether any key of the result is only "maybe" present. */
export function anyKeyMaybe(result: number): boolean {
  return result >= 0 && result >>> MAYBE_SHIFT !== 0;
}

/** What the capture found: nothing (absent), a string, or another value (number, object...). */
export const CAPTURE_NONE = 0;
export const CAPTURE_STRING = 1;
export const CAPTURE_OTHER = 2;

/** Where a scan found the captured field (see `createJsonObjectScanner`); rewritten by each scan. */
export interface ScanCapture {
  kind: typeof CAPTURE_NONE | typeof CAPTURE_STRING | typeof CAPTURE_OTHER;
  /** For a string: its content is bytes[start, end), without the quotes. */
  start: number;
  end: number;
  /** For a string: whether it holds backslash escapes (then JSON.parse it, quotes included). */
  escaped: boolean;
}

export interface JsonObjectScanner {
  /** The field found by the last scan when the scanner captures one (`capture` path given). */
  readonly capture: ScanCapture;
  /**
   * SCAN_INVALID, or a bit set: bit i = key i is a top-level key (`keyPresent`), bit
   * 16+i = it may be (`keyMaybe`). Scans `bytes[start, end)`.
   */
  scan(bytes: Uint8Array, start?: number, end?: number): number;
  /** As `scan`, for bytes the caller already checked to be valid UTF-8. */
  scanUtf8(bytes: Uint8Array, start?: number, end?: number): number;
}

// Byte values.
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const QUOTE = 0x22;
const PLUS = 0x2b;
const COMMA = 0x2c;
const MINUS = 0x2d;
const DOT = 0x2e;
const SLASH = 0x2f;
const ZERO = 0x30;
const NINE = 0x39;
const COLON = 0x3a;
const UPPER_E = 0x45;
const OPEN_BRACKET = 0x5b;
const BACKSLASH = 0x5c;
const CLOSE_BRACKET = 0x5d;
const LOWER_B = 0x62;
const LOWER_E = 0x65;
const LOWER_F = 0x66;
const LOWER_N = 0x6e;
const LOWER_R = 0x72;
const LOWER_T = 0x74;
const LOWER_U = 0x75;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

// Parser states: what the next token may be.
const EXPECT_VALUE = 0;
const EXPECT_VALUE_OR_CLOSE = 1; // just after "["
const EXPECT_KEY = 2; // after "," in an object
const EXPECT_KEY_OR_CLOSE = 3; // just after "{"
const EXPECT_COMMA_OR_CLOSE = 4; // after a value inside a container

const IN_OBJECT = 1;
const IN_ARRAY = 2;

const TRUE = [LOWER_T, LOWER_R, LOWER_U, LOWER_E];
const FALSE = [LOWER_F, 0x61, 0x6c, 0x73, LOWER_E];
const NULL = [LOWER_N, LOWER_U, 0x6c, 0x6c];

function isBlank(c: number): boolean {
  return c === SPACE || c === LF || c === CR || c === TAB;
}

function isDigit(c: number): boolean {
  return c >= ZERO && c <= NINE;
}

function isHex(c: number): boolean {
  return (c >= ZERO && c <= NINE) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= LOWER_F);
}

/** Escape letters allowed after a backslash: " \ / b f n r t (u handled apart). */
function isSimpleEscape(c: number): boolean {
  return c === QUOTE || c === BACKSLASH || c === SLASH || c === LOWER_B || c === LOWER_F || c === LOWER_N || c === LOWER_R || c === LOWER_T;
}

/** 1 for the bytes that end a run of plain string content: quote, backslash, control characters. */
const STRING_STOPS = new Uint8Array(256);
for (let c = 0; c < SPACE; c++) STRING_STOPS[c] = 1;
STRING_STOPS[QUOTE] = 1;
STRING_STOPS[BACKSLASH] = 1;

/** Set by `skipString`: whether the string just scanned had a backslash escape. */
let stringEscaped = false;

/**
 * `at` is just past the opening quote. Returns the index of the closing quote, or -1
 * when the string is malformed or unterminated before `end`.
 */
function skipString(b: Uint8Array, at: number, end: number): number {
  let i = at;
  stringEscaped = false;
  while (i < end) {
    // Most of a document's bytes are plain string content: one table look-up each.
    while (i < end && STRING_STOPS[b[i] ?? 0] === 0) i++;
    if (i >= end) return -1;
    const c = b[i] ?? 0;
    if (c === QUOTE) return i;
    if (c < SPACE) return -1; // raw control characters must be escaped
    // The backslash: an escape.
    stringEscaped = true;
    if (i + 1 >= end) return -1;
    const e = b[i + 1] ?? 0;
    if (e === LOWER_U) {
      if (i + 5 >= end) return -1;
      if (!isHex(b[i + 2] ?? 0) || !isHex(b[i + 3] ?? 0) || !isHex(b[i + 4] ?? 0) || !isHex(b[i + 5] ?? 0)) return -1;
      i += 6;
      continue;
    }
    if (!isSimpleEscape(e)) return -1;
    i += 2;
  }
  return -1;
}

/** `at` is on "-" or a digit. Returns the index just past the number, or -1. */
function skipNumber(b: Uint8Array, at: number, end: number): number {
  let i = at;
  if (b[i] === MINUS) i++;
  if (i >= end) return -1;
  const first = b[i] ?? 0;
  if (first === ZERO) {
    i++;
  } else if (isDigit(first)) {
    i++;
    while (i < end && isDigit(b[i] ?? 0)) i++;
  } else {
    return -1;
  }
  if (i < end && b[i] === DOT) {
    i++;
    if (i >= end || !isDigit(b[i] ?? 0)) return -1;
    while (i < end && isDigit(b[i] ?? 0)) i++;
  }
  if (i < end && (b[i] === LOWER_E || b[i] === UPPER_E)) {
    i++;
    if (i < end && (b[i] === PLUS || b[i] === MINUS)) i++;
    if (i >= end || !isDigit(b[i] ?? 0)) return -1;
    while (i < end && isDigit(b[i] ?? 0)) i++;
  }
  return i;
}

/** Returns the index just past `word` when it is at `at`, else -1. */
function skipWord(b: Uint8Array, at: number, end: number, word: readonly number[]): number {
  if (at + word.length > end) return -1;
  for (let k = 0; k < word.length; k++) {
    if (b[at + k] !== word[k]) return -1;
  }
  return at + word.length;
}

/** How many segments of `path` from `from` the raw key bytes b[from, to) spell, or 0. */
function spelledBytes(b: Uint8Array, keyStart: number, keyEnd: number, segments: readonly Buffer[], from: number): number {
  let at = keyStart;
  for (let s = from; s < segments.length; s++) {
    const segment = segments[s] ?? Buffer.alloc(0);
    if (at + segment.length > keyEnd) return 0;
    for (let j = 0; j < segment.length; j++) {
      if (b[at + j] !== segment[j]) return 0;
    }
    at += segment.length;
    if (at === keyEnd) return s - from + 1;
    if (b[at] !== DOT) return 0;
    at += 1;
  }
  return 0;
}

/**
 * The state of a field capture during one scan: per open object, how many segments
 * of the path lead to it (-1: off the path); after a key, how many the next value
 * completes. Without a path it never hunts, and the scan pays one test per key.
 */
function fieldCapture(path: FieldPath | undefined) {
  const segments = (path ?? []).map((segment) => Buffer.from(segment, "utf8"));
  const wanted = segments.length;
  const result: ScanCapture = { kind: CAPTURE_NONE, start: 0, end: 0, escaped: false };
  let levels = new Int16Array(64);
  /** Segments matched by the key just read, for its value; -1 when off the path. */
  let pending = -1;
  return {
    result,
    hunting: false,
    reset(): void {
      result.kind = CAPTURE_NONE;
      this.hunting = wanted > 0;
      pending = -1;
    },
    /** A key b[from, to) of the object at `depth` (1 = top level). */
    key(b: Uint8Array, from: number, to: number, escaped: boolean, depth: number): void {
      const matched = depth === 1 ? 0 : (levels[depth - 1] ?? -1);
      if (matched < 0) {
        pending = -1;
        return;
      }
      const spelled = escaped
        ? segmentsSpelled(JSON.parse(Buffer.from(b.buffer, b.byteOffset + from - 1, to - from + 2).toString("utf8")) as string, path ?? [], matched)
        : spelledBytes(b, from, to, segments, matched);
      pending = spelled === 0 ? -1 : matched + spelled;
    },
    /** A value starting at b[at] (byte `c`) inside the container at `depth`. */
    value(b: Uint8Array, at: number, end: number, depth: number, c: number): void {
      const completes = pending;
      pending = -1;
      if (completes === wanted) {
        if (c === QUOTE) {
          const close = skipString(b, at + 1, end);
          if (close < 0) return;
          result.kind = CAPTURE_STRING;
          result.start = at + 1;
          result.end = close;
          result.escaped = stringEscaped;
        } else {
          result.kind = CAPTURE_OTHER;
        }
        this.hunting = false;
        return;
      }
      if (c !== OPEN_BRACE && c !== OPEN_BRACKET) return;
      if (depth + 1 > levels.length) {
        const grown = new Int16Array(levels.length * 2);
        grown.set(levels);
        levels = grown;
      }
      // The object about to open at depth + 1 is on the path when a key led to it.
      levels[depth] = c === OPEN_BRACE && completes > 0 ? completes : -1;
    },
  };
}

/**
 * A scanner for the given top-level key names (at most MAX_SCAN_KEYS). Keys are
 * compared as raw bytes; a key written with escapes is compared conservatively: it
 * marks "maybe" every name it could decode to (escapes only ever lengthen the text,
 * so a raw key shorter than the name's UTF-8 cannot be it).
 *
 * With `capture`, the same pass also finds where the value of that field is (at any
 * depth, nested or dotted spellings alike, the first in document order: see
 * field-path.ts), so routing by a field costs no second parse.
 */
export function createJsonObjectScanner(names: readonly string[], capture?: FieldPath): JsonObjectScanner {
  if (names.length > MAX_SCAN_KEYS) throw new RangeError(`at most ${MAX_SCAN_KEYS} key names`);
  const keys = names.map((name) => Buffer.from(name, "utf8"));
  let stack = new Uint8Array(64);
  const captureOf = fieldCapture(capture);
  const found: ScanCapture = captureOf.result;

  function matchKey(b: Uint8Array, from: number, to: number, escaped: boolean): number {
    let bits = 0;
    const length = to - from;
    for (let k = 0; k < keys.length; k++) {
      const key = keys[k] ?? Buffer.alloc(0);
      if (escaped) {
        if (length >= key.length) bits |= 1 << (k + MAYBE_SHIFT);
        continue;
      }
      if (length !== key.length) continue;
      let same = true;
      for (let j = 0; j < length; j++) {
        if (b[from + j] !== key[j]) {
          same = false;
          break;
        }
      }
      if (same) bits |= 1 << k;
    }
    return bits;
  }

  function scanUtf8(b: Uint8Array, start = 0, end = b.length): number {
    let i = start;
    captureOf.reset();
    while (i < end && isBlank(b[i] ?? 0)) i++;
    if (i >= end || b[i] !== OPEN_BRACE) return SCAN_INVALID;
    let found = 0;
    let depth = 0;
    let state = EXPECT_VALUE;
    for (;;) {
      while (i < end && isBlank(b[i] ?? 0)) i++;
      if (i >= end) return SCAN_INVALID;
      const c = b[i] ?? 0;

      if (state === EXPECT_COMMA_OR_CLOSE) {
        const top = stack[depth - 1];
        if (c === COMMA) {
          state = top === IN_OBJECT ? EXPECT_KEY : EXPECT_VALUE;
          i++;
          continue;
        }
        if ((c === CLOSE_BRACE && top === IN_OBJECT) || (c === CLOSE_BRACKET && top === IN_ARRAY)) {
          i++;
          depth--;
          if (depth === 0) break;
          continue;
        }
        return SCAN_INVALID;
      }

      if (state === EXPECT_KEY || state === EXPECT_KEY_OR_CLOSE) {
        if (c === CLOSE_BRACE && state === EXPECT_KEY_OR_CLOSE) {
          i++;
          depth--;
          if (depth === 0) break;
          state = EXPECT_COMMA_OR_CLOSE;
          continue;
        }
        if (c !== QUOTE) return SCAN_INVALID;
        const close = skipString(b, i + 1, end);
        if (close < 0) return SCAN_INVALID;
        if (depth === 1 && keys.length > 0) found |= matchKey(b, i + 1, close, stringEscaped);
        if (captureOf.hunting) captureOf.key(b, i + 1, close, stringEscaped, depth);
        i = close + 1;
        while (i < end && isBlank(b[i] ?? 0)) i++;
        if (i >= end || b[i] !== COLON) return SCAN_INVALID;
        i++;
        state = EXPECT_VALUE;
        continue;
      }

      // EXPECT_VALUE or EXPECT_VALUE_OR_CLOSE
      if (c === CLOSE_BRACKET && state === EXPECT_VALUE_OR_CLOSE) {
        i++;
        depth--;
        if (depth === 0) break;
        state = EXPECT_COMMA_OR_CLOSE;
        continue;
      }
      if (captureOf.hunting) captureOf.value(b, i, end, depth, c);
      if (c === OPEN_BRACE || c === OPEN_BRACKET) {
        if (depth === stack.length) {
          const grown = new Uint8Array(stack.length * 2);
          grown.set(stack);
          stack = grown;
        }
        stack[depth++] = c === OPEN_BRACE ? IN_OBJECT : IN_ARRAY;
        state = c === OPEN_BRACE ? EXPECT_KEY_OR_CLOSE : EXPECT_VALUE_OR_CLOSE;
        i++;
        continue;
      }
      let next: number;
      if (c === QUOTE) {
        const close = skipString(b, i + 1, end);
        next = close < 0 ? -1 : close + 1;
      } else if (c === MINUS || isDigit(c)) {
        next = skipNumber(b, i, end);
      } else if (c === LOWER_T) {
        next = skipWord(b, i, end, TRUE);
      } else if (c === LOWER_F) {
        next = skipWord(b, i, end, FALSE);
      } else if (c === LOWER_N) {
        next = skipWord(b, i, end, NULL);
      } else {
        return SCAN_INVALID;
      }
      if (next < 0) return SCAN_INVALID;
      i = next;
      state = EXPECT_COMMA_OR_CLOSE;
    }
    // The object closed: only whitespace may follow.
    while (i < end && isBlank(b[i] ?? 0)) i++;
    return i === end ? found : SCAN_INVALID;
  }

  return {
    capture: found,
    scanUtf8,
    scan(bytes, start = 0, end = bytes.length) {
      const whole = start === 0 && end === bytes.length;
      if (!isUtf8(whole ? bytes : bytes.subarray(start, end))) return SCAN_INVALID;
      return scanUtf8(bytes, start, end);
    },
  };
}
