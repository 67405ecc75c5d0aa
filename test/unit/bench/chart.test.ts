import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { chartSvg, niceStep, shortNumber, timelineSvg } from "../../bench/chart.ts";

describe("chart helpers", () => {
  test("niceStep picks 1, 2, 2.5 or 5 times a power of ten", () => {
    assert.equal(niceStep(100, 5), 20);
    assert.equal(niceStep(12_000, 5), 2_500);
    assert.equal(niceStep(1_000_000, 5), 200_000);
    assert.equal(niceStep(0), 1);
  });
  test("shortNumber", () => {
    assert.equal(shortNumber(0), "0");
    assert.equal(shortNumber(1500), "1.5k");
    assert.equal(shortNumber(2_000_000), "2M");
    assert.equal(shortNumber(42), "42");
  });
});

describe("chartSvg", () => {
  test("draws one line per series and panel, the ceiling dashed, names escaped", () => {
    const svg = chartSvg("a <b> & c", [
      { name: "json", color: "#111111", throughput: [[1, 100], [2, 200]], lag: [[1, 1000], [2, 0]], ceiling: [[1, 250], [2, 260]] },
      { name: "text", color: "#222222", throughput: [[1, 50]], lag: [[1, 10]] },
    ]);
    assert.match(svg, /^<svg /);
    assert.match(svg, /a &lt;b&gt; &amp; c/);
    assert.equal((svg.match(/<path /g) ?? []).length, 5);
    assert.equal((svg.match(/stroke-dasharray/g) ?? []).length, 1);
    assert.ok(!svg.includes("NaN"));
  });
  test("copes with no samples at all", () => {
    const svg = chartSvg("empty", [{ name: "json", color: "#111111", throughput: [], lag: [] }]);
    assert.ok(!svg.includes("NaN"));
    assert.ok(!svg.includes("Infinity"));
  });
});

describe("timelineSvg", () => {
  test("stacks one panel per entry over one time axis, dashed lines marked", () => {
    const svg = timelineSvg("run <1>", [
      { title: "Elasticsearch, cores", lines: [{ name: "used", color: "#111111", points: [[1, 0.5], [2, 1]] }, { name: "its cores", color: "#444444", points: [[1, 1], [2, 1]], dashed: true }] },
      { title: "Queue", lines: [{ name: "queued", color: "#222222", points: [[1, 10]] }] },
    ]);
    assert.match(svg, /run &lt;1&gt;/);
    assert.match(svg, /Elasticsearch, cores: used, its cores \(dashed\)/);
    assert.equal((svg.match(/<path /g) ?? []).length, 3);
    assert.equal((svg.match(/stroke-dasharray/g) ?? []).length, 1);
  });
});
