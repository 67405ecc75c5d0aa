import assert from "node:assert/strict";
import { isUtf8 } from "node:buffer";
import { describe, test } from "node:test";
import {
  anyKeyMaybe,
  createJsonObjectScanner,
  keyMaybe,
  keyPresent,
  MAX_SCAN_KEYS,
  SCAN_INVALID,
} from "../../../src/pipeline/json-scan.ts";
import { seededRandom } from "../../support/prng.ts";

const NAMES = ["@timestamp", "kafka", "é", "a"];
const scanner = createJsonObjectScanner(NAMES);

function scan(text: string | Buffer): number {
  return scanner.scan(typeof text === "string" ? Buffer.from(text, "utf8") : text);
}

/** The oracle: what JSON.parse says about the same bytes (decoded as the decoder does). */
function oracle(bytes: Buffer): { valid: boolean; keys: boolean[] } {
  const none = { valid: false, keys: NAMES.map(() => false) };
  if (!isUtf8(bytes)) return none;
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString("utf8"));
  } catch {
    return none;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return none;
  return { valid: true, keys: NAMES.map((name) => Object.hasOwn(value, name)) };
}

function assertAgrees(bytes: Buffer, context: string): void {
  const expected = oracle(bytes);
  const result = scanner.scan(bytes);
  assert.equal(result !== SCAN_INVALID, expected.valid, `validity of ${context}: ${JSON.stringify(bytes.toString("latin1"))}`);
  if (!expected.valid) return;
  NAMES.forEach((name, i) => {
    if (keyMaybe(result, i)) return; // undecided: the decoder falls back to JSON.parse
    assert.equal(keyPresent(result, i), expected.keys[i], `key ${name} in ${context}: ${bytes.toString("utf8")}`);
  });
}

describe("json-scan: validity", () => {
  const valid = [
    "{}",
    " \t\r\n{ \t\r\n} \t\r\n",
    '{"a":1}',
    '{"a":-0,"b":0.5,"c":-1.25e+10,"d":1E-3,"e":12345678901234567890,"f":0e0}',
    '{"s":"\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u00e9 \\uD83D\\uDE00"}',
    '{"lone":"\\ud800","low":"\\uDC00"}',
    '{"a":1,"a":2}',
    '{"t":true,"f":false,"n":null}',
    '{"arr":[],"arr2":[1,[2,[3,{}]],"x"],"o":{"p":{}}}',
    '{"del":"\u007f","uni":"é😀"}',
    '{"":""}',
    `{"deep":${"[".repeat(5000)}${"]".repeat(5000)}}`,
    `{"deep":${'{"a":'.repeat(3000)}1${"}".repeat(3000)}}`,
  ];
  const invalid = [
    "",
    " ",
    "[]",
    "[1]",
    "1",
    '"{}"',
    "null",
    "{",
    "}",
    "{}}",
    "{}{}",
    "{} x",
    '{"a":01}',
    '{"a":-}',
    '{"a":1.}',
    '{"a":.5}',
    '{"a":1e}',
    '{"a":1e+}',
    '{"a":+1}',
    '{"a":-01}',
    '{"a":0x1}',
    '{"a":NaN}',
    '{"a":Infinity}',
    '{"a":1,}',
    '{"a":[1,]}',
    '{"a":[,1]}',
    '{,"a":1}',
    '{"a" 1}',
    '{"a"::1}',
    '{a:1}',
    "{'a':1}",
    '{"a":1 "b":2}',
    '{"a":tru}',
    '{"a":truee}',
    '{"a":nul}',
    '{"a":False}',
    '{"a":"\u0001"}',
    '{"a":"line\nbreak"}',
    '{"a":"tab\there"}',
    '{"a":"\\x41"}',
    '{"a":"\\u12"}',
    '{"a":"\\u12G4"}',
    '{"a":"\\\'"}',
    '{"a":"unterminated}',
    '{"a":"\\"}',
    '{"a":[}',
    '{"a":{]}',
    '{"a":[1}]',
    "\ufeff{}",
    "{}\u00a0",
    "\u000b{}",
    "{\f}",
    `{"deep":${"[".repeat(5000)}${"]".repeat(4999)}}`,
  ];

  for (const text of valid) {
    test(`valid: ${text.slice(0, 60)}`, () => {
      assert.notEqual(scan(text), SCAN_INVALID);
      assert.ok(oracle(Buffer.from(text)).valid, "the oracle agrees");
    });
  }
  for (const text of invalid) {
    test(`invalid: ${JSON.stringify(text.slice(0, 60))}`, () => {
      assert.equal(scan(text), SCAN_INVALID);
      assert.ok(!oracle(Buffer.from(text)).valid, "the oracle agrees");
    });
  }

  test("invalid UTF-8 is invalid, even inside a string; scanUtf8 leaves that to the caller", () => {
    const bytes = Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xff]), Buffer.from('"}')]);
    assert.equal(scanner.scan(bytes), SCAN_INVALID);
    assert.notEqual(scanner.scanUtf8(bytes), SCAN_INVALID);
    const surrogate = Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}')]);
    assert.equal(scanner.scan(surrogate), SCAN_INVALID);
  });

  test("non-ASCII bytes outside strings are invalid", () => {
    assert.equal(scanner.scanUtf8(Buffer.from('{"a":1é}')), SCAN_INVALID);
    assert.equal(scanner.scanUtf8(Buffer.from('{é:1}')), SCAN_INVALID);
  });

  test("start and end delimit the scanned bytes", () => {
    const bytes = Buffer.from('xx{"a":1}yy');
    assert.notEqual(scanner.scan(bytes, 2, 9), SCAN_INVALID);
    assert.equal(scanner.scan(bytes, 2, 8), SCAN_INVALID);
    assert.equal(scanner.scan(bytes, 0, 9), SCAN_INVALID);
    // A string or number cut by `end` is not read past it.
    assert.equal(scanner.scan(Buffer.from('{"a":"x"}'), 0, 7), SCAN_INVALID);
    assert.equal(scanner.scan(Buffer.from('{"a":12}'), 0, 6), SCAN_INVALID);
  });

  test("the stack grows for deep nesting and the scanner is reusable afterwards", () => {
    const deep = `{"a":${"[".repeat(100_000)}${"]".repeat(100_000)}}`;
    assert.notEqual(scan(deep), SCAN_INVALID);
    assert.equal(scan('{"a":[}'), SCAN_INVALID);
    assert.ok(keyPresent(scan('{"a":[[]]}'), 3));
  });
});

describe("json-scan: top-level keys", () => {
  test("reports present keys at depth 1 only", () => {
    const result = scan('{"x":{"@timestamp":1},"kafka":[{"a":1}],"é":0}');
    assert.ok(!keyPresent(result, 0), "nested @timestamp does not count");
    assert.ok(keyPresent(result, 1));
    assert.ok(keyPresent(result, 2), "non-ASCII names compare as UTF-8 bytes");
    assert.ok(!keyPresent(result, 3), "a key inside an array does not count");
    assert.ok(!anyKeyMaybe(result));
  });

  test("a value equal to a name is not a key", () => {
    const result = scan('{"x":"@timestamp","y":["kafka"]}');
    assert.equal(result, 0);
  });

  test("prefixes and extensions of a name do not match", () => {
    assert.equal(scan('{"@timestam":1,"@timestampX":2,"kafk":3,"":4}'), 0);
  });

  test("a key with escapes is 'maybe' for every name it could spell", () => {
    const result = scan('{"\\u0040timestamp":1}');
    assert.ok(keyMaybe(result, 0));
    assert.ok(keyMaybe(result, 1), "conservative: long enough to be 'kafka' too");
    assert.ok(!keyPresent(result, 0));
    assert.ok(anyKeyMaybe(result));
    const short = scan('{"\\n":1}');
    assert.ok(!keyMaybe(short, 0), "two raw bytes cannot spell a ten-byte name");
    assert.ok(keyMaybe(short, 3));
  });

  test("a name that needs escaping is only ever 'maybe'", () => {
    const quoted = createJsonObjectScanner(['ev"ent']);
    assert.ok(keyMaybe(quoted.scan(Buffer.from('{"ev\\"ent":1}')), 0));
    assert.equal(quoted.scan(Buffer.from('{"event":1}')), 0);
  });

  test("no names, or too many", () => {
    assert.equal(createJsonObjectScanner([]).scan(Buffer.from('{"a":1}')), 0);
    assert.throws(() => createJsonObjectScanner(Array.from({ length: MAX_SCAN_KEYS + 1 }, (_, i) => `k${i}`)), RangeError);
  });

  test("keyPresent and keyMaybe are false for an invalid result", () => {
    assert.ok(!keyPresent(SCAN_INVALID, 0));
    assert.ok(!keyMaybe(SCAN_INVALID, 0));
    assert.ok(!anyKeyMaybe(SCAN_INVALID));
  });
});

// ---- fuzzing against JSON.parse ----

type Random = () => number;

const KEY_POOL = ["@timestamp", "kafka", "é", "a", "b", "@timestam", "\\u0061", "k\\\"q", "😀", ""];
const STRING_POOL = ["", "x", "é😀", "\\n", "\\u00e9", "\\ud800", "\\\\", "\\/", "a b", "\u007f", "{", "]"];
const NUMBER_POOL = ["0", "-0", "1", "-12", "3.25", "1e5", "1E-7", "-0.0e+0", "12345678901234567890", "1.5e308"];
const BLANKS = ["", "", "", " ", "\n", "\r\n", "\t", "  "];

function pick<T>(random: Random, items: readonly T[]): T {
  const item = items[Math.floor(random() * items.length)];
  if (item === undefined) throw new Error("empty pool");
  return item;
}

function blank(random: Random): string {
  return pick(random, BLANKS);
}

function jsonValue(random: Random, depth: number): string {
  const roll = random();
  if (depth < 4 && roll < 0.25) return jsonObject(random, depth + 1);
  if (depth < 4 && roll < 0.4) {
    const n = Math.floor(random() * 4);
    const items = Array.from({ length: n }, () => blank(random) + jsonValue(random, depth + 1) + blank(random));
    return `[${items.join(",")}${n === 0 ? blank(random) : ""}]`;
  }
  if (roll < 0.6) return `"${pick(random, STRING_POOL)}"`;
  if (roll < 0.85) return pick(random, NUMBER_POOL);
  return pick(random, ["true", "false", "null"]);
}

function jsonObject(random: Random, depth: number): string {
  const n = Math.floor(random() * 5);
  const members = Array.from(
    { length: n },
    () => `${blank(random)}"${pick(random, KEY_POOL)}"${blank(random)}:${blank(random)}${jsonValue(random, depth)}${blank(random)}`,
  );
  return `{${members.join(",")}${n === 0 ? blank(random) : ""}}`;
}

const MUTATION_BYTES = Buffer.from('{}[]",:.-+eE0123456789 \n\t\\/utrfalsn\u0000\u001fx');

function mutate(random: Random, bytes: Buffer): Buffer {
  const out = [...bytes];
  const count = 1 + Math.floor(random() * 3);
  for (let m = 0; m < count; m++) {
    const at = Math.floor(random() * (out.length + 1));
    const kind = random();
    const byte =
      random() < 0.1 ? pick(random, [0x80, 0xc3, 0xa9, 0xff, 0xed, 0xef]) : (MUTATION_BYTES[Math.floor(random() * MUTATION_BYTES.length)] ?? 0);
    if (kind < 0.35) out.splice(at, 1);
    else if (kind < 0.7) out.splice(at, 0, byte);
    else out.splice(at, 1, byte);
  }
  return Buffer.from(out);
}

describe("json-scan: agrees with JSON.parse", () => {
  test("on generated objects", () => {
    const random = seededRandom(0x5eed);
    for (let n = 0; n < 3000; n++) {
      const text = blank(random) + jsonObject(random, 0) + blank(random);
      assertAgrees(Buffer.from(text), `object #${n}`);
    }
  });

  test("on generated non-objects", () => {
    const random = seededRandom(0xbad);
    for (let n = 0; n < 1000; n++) assertAgrees(Buffer.from(jsonValue(random, 3)), `value #${n}`);
  });

  test("on random mutations of generated objects", () => {
    const random = seededRandom(0xf00d);
    let valid = 0;
    const total = 20_000;
    for (let n = 0; n < total; n++) {
      const bytes = mutate(random, Buffer.from(jsonObject(random, 0)));
      assertAgrees(bytes, `mutation #${n}`);
      if (oracle(bytes).valid) valid++;
    }
    // Both outcomes must be well represented, or the fuzzing proves little.
    assert.ok(valid > total * 0.05 && valid < total * 0.95, `valid mutations: ${valid}/${total}`);
  });
});
