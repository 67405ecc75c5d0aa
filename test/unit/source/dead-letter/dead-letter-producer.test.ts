import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { takeBatch } from "../../../../src/source/dead-letter/dead-letter-producer.ts";

describe("dead-letter producer batching", () => {
  test("takes writes up to the record and byte limits, at least one", () => {
    const waiting = [{ bytes: 300 }, { bytes: 300 }, { bytes: 300 }, { bytes: 2000 }, { bytes: 10 }];
    assert.equal(takeBatch(waiting, 10, 700).length, 2, "bytes");
    assert.equal(takeBatch(waiting, 10, 700).length, 1, "the next one would exceed the bytes");
    assert.deepEqual(takeBatch(waiting, 10, 700), [{ bytes: 2000 }], "a larger record goes alone");
    assert.deepEqual(waiting, [{ bytes: 10 }]);
    const many = Array.from({ length: 5 }, () => ({ bytes: 1 }));
    assert.equal(takeBatch(many, 3, 1000).length, 3, "records");
  });
});
