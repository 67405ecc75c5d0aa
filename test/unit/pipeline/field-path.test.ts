import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { parseFieldPath, readField, segmentsSpelled } from "../../../src/pipeline/field-path.ts";

describe("field paths", () => {
  test("parse into segments, or say why not", () => {
    assert.deepEqual(parseFieldPath("service.name"), ["service", "name"]);
    assert.deepEqual(parseFieldPath("@timestamp"), ["@timestamp"]);
    assert.match(String(parseFieldPath("")), /empty/);
    assert.match(String(parseFieldPath(".a")), /must not start/);
    assert.match(String(parseFieldPath("a|b")), /not allowed/);
  });

  test("a key spells one or more segments", () => {
    const path = ["a", "b", "c"];
    assert.equal(segmentsSpelled("a", path, 0), 1);
    assert.equal(segmentsSpelled("a.b", path, 0), 2);
    assert.equal(segmentsSpelled("a.b.c", path, 0), 3);
    assert.equal(segmentsSpelled("b.c", path, 1), 2);
    assert.equal(segmentsSpelled("a.bc", path, 0), 0);
    assert.equal(segmentsSpelled("ab", path, 0), 0);
    assert.equal(segmentsSpelled("a.", path, 0), 0);
    assert.equal(segmentsSpelled("a.b.c.d", path, 0), 0);
  });

  test("read nested, dotted and mixed spellings; the first in document order wins", () => {
    const path = ["service", "name"];
    assert.equal(readField({ service: { name: "x" } }, path), "x");
    assert.equal(readField({ "service.name": "x" }, path), "x");
    assert.equal(readField({ service: { other: 1 }, "service.name": "y" }, path), "y");
    assert.equal(readField({ "service.name": "first", service: { name: "second" } }, path), "first");
    assert.equal(readField({ service: 5, "service.name": "z" }, path), "z");
    assert.equal(readField({ service: { name: 5 } }, path), null);
    assert.equal(readField({ service: { name: null } }, path), null);
    assert.equal(readField({ service: { name: { x: 1 } } }, path), null);
    assert.equal(readField({ service: {} }, path), undefined);
    assert.equal(readField({ service: [{ name: "x" }] }, path), undefined, "arrays are not searched");
    assert.equal(readField("text", path), undefined);
    assert.equal(readField({ a: { "b.c": "deep" } }, ["a", "b", "c"]), "deep");
  });
});
