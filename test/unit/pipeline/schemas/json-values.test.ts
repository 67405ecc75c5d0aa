import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { decimalText, exactNumberText, int64Json, isoDate, isoFromUnits, isoMillis, isoTimeOfDay, uuidText } from "../../../../src/pipeline/schemas/json-values.ts";

function halves(value: bigint): [number, number] {
  const buf = Buffer.alloc(8);
  buf.writeBigInt64LE(value);
  return [buf.readUInt32LE(0), buf.readInt32LE(4)];
}

describe("JSON of typed values", () => {
  test("int64: a number while exact, exact digits beyond", () => {
    for (const value of [0n, 1n, -1n, 2n ** 53n - 1n, -(2n ** 53n), 4294967296n, -4294967297n]) {
      assert.equal(int64Json(...halves(value), false), Number(value), String(value));
    }
    for (const value of [2n ** 53n, 2n ** 63n - 1n, -(2n ** 63n), -(2n ** 53n) - 1n]) {
      const json = JSON.stringify({ v: int64Json(...halves(value), false) });
      assert.equal(json, `{"v":${String(value)}}`, "written exactly");
    }
    assert.equal(exactNumberText(int64Json(0xffffffff, -1, true)), "18446744073709551615", "uint64 max");
    assert.equal(int64Json(5, 0, true), 5);
  });

  test("timestamps: ISO-8601 UTC with the fraction the unit has", () => {
    const ms = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
    assert.equal(isoMillis(ms), "2026-01-02T03:04:05.678Z");
    assert.equal(isoFromUnits(ms * 1000 + 9, 1000, 6), "2026-01-02T03:04:05.678009Z");
    assert.equal(isoFromUnits(BigInt(ms) * 1_000_000n + 123_456n, 1_000_000, 9), "2026-01-02T03:04:05.678123456Z");
    assert.equal(isoFromUnits(-1, 1000, 6), "1969-12-31T23:59:59.999999Z", "before the epoch: the fraction counts forward");
    assert.equal(isoFromUnits(-1n, 1_000_000, 9), "1969-12-31T23:59:59.999999999Z");
    assert.equal(isoMillis(9e15), undefined, "outside the Date range: left as a number by the caller");
  });

  test("dates and times of day", () => {
    assert.equal(isoDate(0), "1970-01-01");
    assert.equal(isoDate(20_455), "2026-01-02");
    assert.equal(isoDate(-1), "1969-12-31");
    assert.equal(isoTimeOfDay(3_723_004, 0, 3), "01:02:03.004");
    assert.equal(isoTimeOfDay(3_723_004, 5, 6), "01:02:03.004005");
  });

  test("decimals: unscaled two's complement big-endian with a scale, exact", () => {
    assert.equal(decimalText(Buffer.from([0x30, 0x39]), 2), "123.45");
    assert.equal(decimalText(Buffer.from([0xff, 0xfa]), 2), "-0.06");
    assert.equal(decimalText(Buffer.from([0x05]), 3), "0.005");
    assert.equal(decimalText(Buffer.from([0x7b]), 0), "123");
    assert.equal(decimalText(Buffer.from([]), 2), "0.00");
    assert.equal(decimalText(Buffer.from("0de0b6b3a763ffff", "hex"), 18), "0.999999999999999999", "beyond a double");
  });

  test("uuids from 16 bytes", () => {
    assert.equal(uuidText(Buffer.from("f81d4fae7dec11d0a76500a0c91e6bf6", "hex")), "f81d4fae-7dec-11d0-a765-00a0c91e6bf6");
  });
});
