import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { recordExcerpt } from "../../../src/shared/record-excerpt.ts";

describe("recordExcerpt", () => {
  test("null and empty values", () => {
    assert.equal(recordExcerpt(null), "<null>");
    assert.equal(recordExcerpt(Buffer.alloc(0)), "<empty>");
  });

  test("short text is shown whole, control characters escaped", () => {
    assert.equal(recordExcerpt(Buffer.from('{"a":1}')), '{"a":1}');
    assert.equal(recordExcerpt(Buffer.from("line1\nline2\tx\u001b[31m")), "line1\\nline2\\tx\\x1b[31m");
  });

  test("long text is cut at maxBytes and says how much is left", () => {
    const value = Buffer.from("x".repeat(10_000));
    const excerpt = recordExcerpt(value);
    assert.equal(excerpt, `${"x".repeat(256)}… (+9744 bytes)`);
    assert.equal(recordExcerpt(value, 10), `${"x".repeat(10)}… (+9990 bytes)`);
  });

  test("never cuts a multi-byte character in two", () => {
    const value = Buffer.from("aé€😀"); // 1 + 2 + 3 + 4 bytes
    assert.equal(recordExcerpt(value, 2), "a… (+9 bytes)");
    assert.equal(recordExcerpt(value, 3), "aé… (+7 bytes)");
    assert.equal(recordExcerpt(value, 5), "aé… (+7 bytes)");
    assert.equal(recordExcerpt(value, 6), "aé€… (+4 bytes)");
    assert.equal(recordExcerpt(value, 9), "aé€… (+4 bytes)");
    assert.equal(recordExcerpt(value, 10), "aé€😀");
  });

  test("binary values are shown as bounded hex", () => {
    const value = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 256));
    const excerpt = recordExcerpt(value, 16);
    assert.equal(excerpt, "<binary 1000 bytes> hex:0001020304050607… (+992 bytes)");
    assert.equal(recordExcerpt(Buffer.from([0, 1, 2, 0xff])), "<binary 4 bytes> hex:000102ff");
  });

  test("output stays bounded whatever the input", () => {
    const nasty = Buffer.from("\u0001".repeat(5).concat("a".repeat(100_000)));
    assert.ok(recordExcerpt(nasty).length < 256 * 4 + 40);
  });
});
