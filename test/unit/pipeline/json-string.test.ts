import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { escapedLength, writeEscaped } from "../../../src/pipeline/json-string.ts";
import { seededRandom } from "../../support/prng.ts";

/** What JSON.stringify makes of the text, without the quotes, as bytes. */
function reference(bytes: Buffer): Buffer {
  return Buffer.from(JSON.stringify(bytes.toString("utf8")).slice(1, -1), "utf8");
}

function escaped(bytes: Buffer): Buffer {
  const out = Buffer.alloc(escapedLength(bytes) + 4, 0x7e);
  const end = writeEscaped(out, 2, bytes);
  assert.equal(end, 2 + escapedLength(bytes), "writes exactly escapedLength bytes");
  assert.equal(out[0], 0x7e);
  assert.equal(out[end], 0x7e, "nothing written past the end");
  return out.subarray(2, end);
}

describe("json-string: bytes escaped as JSON.stringify does", () => {
  test("quotes, backslashes, short escapes and \\u00XX control characters", () => {
    for (const text of ['plain', 'say "hi"', "back\\slash", "tab\there\nline\rcr\bb\ff", "\u0000\u0001\u001f\u007f", "é 😀 \u2028", ""]) {
      const bytes = Buffer.from(text, "utf8");
      assert.deepEqual(escaped(bytes), reference(bytes), JSON.stringify(text));
    }
  });

  test("matches JSON.stringify on random valid UTF-8", () => {
    const random = seededRandom(7);
    const alphabet = ['"', "\\", "\n", "\u0003", "a", "Z", " ", "é", "€", "😀", "\t", "}"];
    for (let n = 0; n < 500; n++) {
      let text = "";
      const length = Math.floor(random() * 40);
      for (let i = 0; i < length; i++) text += alphabet[Math.floor(random() * alphabet.length)] ?? "";
      const bytes = Buffer.from(text, "utf8");
      assert.deepEqual(escaped(bytes), reference(bytes), JSON.stringify(text));
    }
  });
});
