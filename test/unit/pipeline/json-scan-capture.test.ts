import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readField, type FieldRead } from "../../../src/pipeline/field-path.ts";
import { CAPTURE_NONE, CAPTURE_STRING, createJsonObjectScanner, SCAN_INVALID } from "../../../src/pipeline/json-scan.ts";
import { seededRandom } from "../../support/prng.ts";

const PATH = ["service", "name"];

function scanField(text: string, path: readonly string[] = PATH): FieldRead {
  const scanner = createJsonObjectScanner(["@timestamp"], path);
  const bytes = Buffer.from(text, "utf8");
  assert.notEqual(scanner.scan(bytes), SCAN_INVALID, text);
  const { kind, start, end, escaped } = scanner.capture;
  if (kind === CAPTURE_NONE) return undefined;
  if (kind !== CAPTURE_STRING) return null;
  return escaped ? (JSON.parse(bytes.toString("utf8", start - 1, end + 1)) as string) : bytes.toString("utf8", start, end);
}

describe("JSON scanner: capturing a field while validating", () => {
  test("finds nested, dotted and mixed spellings at any depth", () => {
    assert.equal(scanField('{"service":{"name":"checkout"}}'), "checkout");
    assert.equal(scanField('{"a":1,"service.name":"x"}'), "x");
    assert.equal(scanField('{"service":{"other":{"name":"no"}},"service.name":"yes"}'), "yes");
    assert.equal(scanField('{"service":{"name":5}}'), null);
    assert.equal(scanField('{"service":{"name":{"x":1}}}'), null);
    assert.equal(scanField('{"service":{"name":["a"]}}'), null);
    assert.equal(scanField('{"service":[{"name":"in array"}]}'), undefined);
    assert.equal(scanField('{"name":"top"}'), undefined);
    assert.equal(scanField('{"service":{"name":"a\\"b\\u00e9"}}'), 'a"bé');
    assert.equal(scanField('{"serv\\u0069ce":{"name":"escaped key"}}'), "escaped key");
    assert.equal(scanField('{"x":{"service":{"name":"deeper is not it"}}}'), undefined);
  });

  test("a scanner without a path captures nothing and validates as before", () => {
    const scanner = createJsonObjectScanner(["a"]);
    assert.equal(scanner.scan(Buffer.from('{"service":{"name":"x"}}')), 0);
    assert.equal(scanner.capture.kind, CAPTURE_NONE);
    assert.equal(scanner.scan(Buffer.from('{"service":')), SCAN_INVALID);
  });

  test("agrees with readField on random documents (2,000 of them)", () => {
    const random = seededRandom(19);
    const keys = ["service", "name", "service.name", "other", "serv\u00e9", "name.x"];
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
    const value = (depth: number): unknown => {
      const r = random();
      if (depth < 3 && r < 0.35) {
        const o: Record<string, unknown> = {};
        const n = Math.floor(random() * 4);
        for (let i = 0; i < n; i++) o[pick(keys)] = value(depth + 1);
        return o;
      }
      if (r < 0.45) return [value(depth + 1)];
      if (r < 0.8) return pick(["a", "B c", 'q"uote', "é", ""]);
      return pick([1, null, true, 2.5]);
    };
    for (let i = 0; i < 2_000; i++) {
      const doc = value(0);
      if (typeof doc !== "object" || doc === null || Array.isArray(doc)) continue;
      const text = JSON.stringify(doc);
      assert.deepEqual(scanField(text), readField(doc, PATH), text);
    }
  });
});
