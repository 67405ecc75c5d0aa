import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { ConfigError } from "../../../src/errors.ts";
import { indexTemplateProblem, parseUtcOffset, validateIndexTemplate } from "../../../src/pipeline/index-name.ts";
import { createRouter } from "../../../src/pipeline/router.ts";

const at = (iso: string): number => Date.parse(iso);
const T = at("2024-03-05T12:00:00.000Z");

describe("router: default topic sanitization", () => {
  const router = createRouter();

  test("lowercases the topic", () => {
    assert.equal(router.route("Orders.V2", T), "orders.v2");
  });

  test("replaces forbidden characters with -", () => {
    assert.equal(router.route('a b:c*d?e"f<g>h|i,j#k\\l/m', T), "a-b-c-d-e-f-g-h-i-j-k-l-m");
  });

  test("strips leading - _ + . from a topic that starts the name", () => {
    assert.equal(router.route("__consumer_offsets", T), "consumer_offsets");
    assert.equal(router.route("-x", T), "x");
    assert.equal(router.route("+x", T), "x");
    assert.equal(router.route(".hidden", T), "hidden");
  });

  test("never yields an empty, '.' or '..' name", () => {
    assert.equal(router.route("__", T), "topic");
    assert.equal(router.route("..", T), "topic");
    assert.equal(router.route(".", T), "topic");
  });

  test("keeps leading _ when the topic does not start the name", () => {
    assert.equal(createRouter({ prefix: "kafka-" }).route("_audit", T), "kafka-_audit");
    assert.equal(createRouter({ template: "logs-{topic}" }).route("__x", T), "logs-__x");
  });

  test("cuts long names to 255 bytes, keeping the literal and date parts", () => {
    const topic = "a".repeat(249);
    const name = createRouter({ prefix: "kafka-", template: "{topic}-{yyyy.MM.dd}" }).route(topic, T);
    assert.equal(Buffer.byteLength(name), 255);
    assert.ok(name.startsWith("kafka-aaa"));
    assert.ok(name.endsWith("-2024.03.05"));
    const twice = createRouter({ template: "{topic}-{topic}" }).route(topic, T);
    assert.ok(Buffer.byteLength(twice) <= 255);
  });

  test("returns the same name for repeated calls (cached)", () => {
    assert.equal(router.route("Orders", T), router.route("Orders", T + 1));
  });
});

describe("router: prefix and topic map", () => {
  test("prefix goes before every name, mapped ones included", () => {
    const router = createRouter({ prefix: "kafka-", topicMap: { orders: "shop-orders" } });
    assert.equal(router.route("logs", T), "kafka-logs");
    assert.equal(router.route("orders", T), "kafka-shop-orders");
  });

  test("the map matches exact topic names and wins over the template", () => {
    const router = createRouter({ template: "logs-{topic}", topicMap: { orders: "orders-{yyyy.MM}", "a.b": "{topic}-x" } });
    assert.equal(router.route("orders", T), "orders-2024.03");
    assert.equal(router.route("Orders", T), "logs-orders");
    assert.equal(router.route("a.b", T), "a.b-x");
    assert.equal(router.route("a_b", T), "logs-a_b");
  });
});

describe("router: date templates", () => {
  test("renders each token", () => {
    const ts = at("2024-03-05T07:08:09.000Z");
    assert.equal(createRouter({ template: "{topic}-{yyyy.MM.dd}" }).route("t", ts), "t-2024.03.05");
    assert.equal(createRouter({ template: "{topic}-{yyyy-MM-dd}" }).route("t", ts), "t-2024-03-05");
    assert.equal(createRouter({ template: "{topic}-{yyyy.MM}" }).route("t", ts), "t-2024.03");
    assert.equal(createRouter({ template: "{topic}-{yyyy}" }).route("t", ts), "t-2024");
    assert.equal(createRouter({ template: "{topic}-{yyyyMMdd}-{HH}" }).route("t", ts), "t-20240305-07");
    assert.equal(createRouter({ template: "logs-{yyyy.MM.dd.HH}" }).route("t", ts), "logs-2024.03.05.07");
  });

  test("switches day exactly at UTC midnight", () => {
    const router = createRouter({ template: "logs-{topic}-{yyyy.MM.dd}" });
    const midnight = at("2024-03-06T00:00:00.000Z");
    assert.equal(router.route("t", midnight - 1), "logs-t-2024.03.05");
    assert.equal(router.route("t", midnight), "logs-t-2024.03.06");
    assert.equal(router.route("t", midnight - 1), "logs-t-2024.03.05");
  });

  test("cache stays correct when timestamps go back and forth", () => {
    const router = createRouter({ template: "{topic}-{yyyy.MM.dd}" });
    const fresh = (ts: number): string => createRouter({ template: "{topic}-{yyyy.MM.dd}" }).route("t", ts);
    const stamps = [
      "2024-03-05T23:59:59.999Z", "2024-03-06T00:00:00.000Z", "2024-03-05T00:00:00.000Z", "2024-03-04T23:59:59.999Z",
      "2024-03-06T12:00:00.000Z", "2023-12-31T23:59:59.999Z", "2024-01-01T00:00:00.000Z", "2024-03-05T10:00:00.000Z",
    ].map(at);
    for (let round = 0; round < 3; round++) {
      for (const ts of stamps) assert.equal(router.route("t", ts), fresh(ts), new Date(ts).toISOString());
    }
  });

  test("hour, month and year buckets switch at their boundaries", () => {
    const hourly = createRouter({ template: "h-{yyyy.MM.dd.HH}" });
    assert.equal(hourly.route("t", at("2024-03-05T07:59:59.999Z")), "h-2024.03.05.07");
    assert.equal(hourly.route("t", at("2024-03-05T08:00:00.000Z")), "h-2024.03.05.08");
    assert.equal(hourly.route("t", at("2024-03-05T07:00:00.000Z")), "h-2024.03.05.07");
    const monthly = createRouter({ template: "m-{yyyy.MM}" });
    assert.equal(monthly.route("t", at("2024-02-29T23:59:59.999Z")), "m-2024.02");
    assert.equal(monthly.route("t", at("2024-03-01T00:00:00.000Z")), "m-2024.03");
    assert.equal(monthly.route("t", at("2024-02-01T00:00:00.000Z")), "m-2024.02");
    assert.equal(monthly.route("t", at("2024-01-31T23:59:59.999Z")), "m-2024.01");
    const yearly = createRouter({ template: "y-{yyyy}" });
    assert.equal(yearly.route("t", at("2023-12-31T23:59:59.999Z")), "y-2023");
    assert.equal(yearly.route("t", at("2024-01-01T00:00:00.000Z")), "y-2024");
    assert.equal(yearly.route("t", at("2023-06-01T00:00:00.000Z")), "y-2023");
  });

  test("fixed positive offset moves the day boundary", () => {
    const router = createRouter({ template: "{topic}-{yyyy.MM.dd}", timezone: "+02:00" });
    assert.equal(router.route("t", at("2024-03-05T21:59:59.999Z")), "t-2024.03.05");
    assert.equal(router.route("t", at("2024-03-05T22:00:00.000Z")), "t-2024.03.06");
    assert.equal(router.route("t", at("2024-03-06T21:59:59.999Z")), "t-2024.03.06");
    assert.equal(router.route("t", at("2024-03-06T22:00:00.000Z")), "t-2024.03.07");
  });

  test("fixed negative offset, including month and year edges", () => {
    const daily = createRouter({ template: "{topic}-{yyyy.MM.dd}", timezone: "-05:30" });
    assert.equal(daily.route("t", at("2024-03-06T05:29:59.999Z")), "t-2024.03.05");
    assert.equal(daily.route("t", at("2024-03-06T05:30:00.000Z")), "t-2024.03.06");
    const monthly = createRouter({ template: "{topic}-{yyyy.MM}", timezone: "-05:30" });
    assert.equal(monthly.route("t", at("2024-01-01T05:00:00.000Z")), "t-2023.12");
    assert.equal(monthly.route("t", at("2024-01-01T06:00:00.000Z")), "t-2024.01");
    assert.equal(monthly.route("t", at("2024-01-01T05:00:00.000Z")), "t-2023.12");
    const hourly = createRouter({ template: "{topic}-{HH}", timezone: "+05:45" });
    assert.equal(hourly.route("t", at("2024-01-01T00:14:59.999Z")), "t-05");
    assert.equal(hourly.route("t", at("2024-01-01T00:15:00.000Z")), "t-06");
  });

  test("a record without a usable timestamp is dated the epoch, never the clock: a redelivery lands in the same index", () => {
    const router = createRouter({ template: "{topic}-{yyyy.MM.dd}" });
    assert.equal(router.route("t", -1), "t-1970.01.01");
    assert.equal(router.route("t", Number.NaN), "t-1970.01.01");
    assert.equal(router.route("t", Number.POSITIVE_INFINITY), "t-1970.01.01");
    assert.equal(router.route("t", at("2024-03-05T00:00:00.000Z")), "t-2024.03.05");
    assert.equal(router.route("t", -1), "t-1970.01.01", "the same, whenever it is asked");
    assert.equal(createRouter({ template: "{topic}-{yyyy.MM.dd}", timezone: "-05:00" }).route("t", -1), "t-1969.12.31");
  });
});

describe("index template validation", () => {
  const rejects = (template: string, why: RegExp): void => {
    assert.throws(
      () => {
        validateIndexTemplate(template);
      },
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.ok(error.message.includes(JSON.stringify(template)), error.message);
        assert.match(error.message, why);
        return true;
      },
    );
  };

  test("accepts valid templates", () => {
    for (const t of ["{topic}", "logs-{topic}-{yyyy.MM.dd}", "{yyyy.MM}", "a{yyyy-MM-dd}b", "x-{HH}", "événements-{topic}", ".hidden-{topic}"]) {
      assert.equal(indexTemplateProblem(t), undefined, t);
    }
  });

  test("rejects uppercase letters in literal parts", () => {
    rejects("Logs-{topic}", /uppercase "L"/);
  });

  test("rejects forbidden characters", () => {
    for (const ch of ["\\", "/", "*", "?", '"', "<", ">", "|", " ", ",", "#", ":"]) rejects(`a${ch}{topic}`, /not allowed/);
  });

  test("rejects names starting with - _ +", () => {
    rejects("-{topic}", /must not start with "-"/);
    rejects("_{topic}", /must not start with "_"/);
    rejects("+{topic}", /must not start with "\+"/);
    rejects("{-yyyy}", /must not start with "-"/);
  });

  test("rejects unknown tokens", () => {
    rejects("{foo}", /unknown token \{foo\}/);
    rejects("x-{mm}", /unknown token \{mm\}/);
    rejects("x-{yyy}", /unknown token/);
    rejects("x-{}", /unknown token/);
    rejects("x-{.}", /unknown token/);
    rejects("x-{Topic}", /unknown token/);
  });

  test("rejects unbalanced braces", () => {
    rejects("{topic", /unbalanced/);
    rejects("topic}", /unbalanced/);
    rejects("{a{topic}}", /unbalanced/);
  });

  test("rejects '.', '..', empty and too long templates", () => {
    rejects(".", /must not be "."/);
    rejects("..", /must not be ".."/);
    rejects("", /empty/);
    rejects("a".repeat(255) + "{topic}", /255 bytes/);
    rejects("a".repeat(250) + "-{yyyy.MM.dd}", /255 bytes/);
    assert.equal(indexTemplateProblem("a".repeat(254) + "{topic}"), undefined);
  });

  test("createRouter rejects bad templates, map values, prefixes and timezones", () => {
    assert.throws(() => createRouter({ template: "Bad" }), ConfigError);
    assert.throws(() => createRouter({ topicMap: { a: "{nope}" } }), ConfigError);
    assert.throws(() => createRouter({ prefix: "{topic}" }), /index prefix/);
    assert.throws(() => createRouter({ prefix: "_x" }), /index prefix/);
    assert.throws(() => createRouter({ timezone: "Europe/Paris" }), /index timezone/);
  });
});

describe("parseUtcOffset", () => {
  test("parses UTC and fixed offsets", () => {
    assert.equal(parseUtcOffset("UTC"), 0);
    assert.equal(parseUtcOffset("Z"), 0);
    assert.equal(parseUtcOffset("+02:00"), 120);
    assert.equal(parseUtcOffset("-05:30"), -330);
    assert.equal(parseUtcOffset("+14:00"), 840);
    assert.equal(parseUtcOffset("-12:00"), -720);
  });

  test("rejects anything else", () => {
    for (const tz of ["", "utc", "+2", "+0200", "+02:60", "+15:00", "-12:30", "Europe/Paris"]) {
      assert.equal(parseUtcOffset(tz), undefined, tz);
    }
  });
});

describe("router: {field:...} templates", () => {
  const template = "logs-{field:service.name}-{yyyy.MM.dd}";

  test("routes by the field's string value, sanitized like a topic", () => {
    const router = createRouter({ template });
    assert.deepEqual(router.fieldPath("t"), ["service", "name"]);
    assert.equal(router.route("t", T, "checkout"), "logs-checkout-2024.03.05");
    assert.equal(router.route("t", T, "Check Out/EU"), "logs-check-out-eu-2024.03.05");
    assert.equal(router.route("t", T, "a\u0000b\nc"), "logs-a-b-c-2024.03.05");
    assert.equal(router.route("t", T, "Ünïcødé"), "logs-ünïcødé-2024.03.05");
    assert.equal(createRouter({ template: "{topic}" }).fieldPath("t"), undefined);
  });

  test("a missing or non-string field takes the fallback, and the reason is reported", () => {
    const reasons: string[] = [];
    const router = createRouter({ template, onFieldFallback: (topic, reason) => reasons.push(`${topic}:${reason}`) });
    assert.equal(router.route("t", T, undefined), "logs-unknown-2024.03.05");
    assert.equal(router.route("t", T, null), "logs-unknown-2024.03.05");
    assert.equal(router.route("t", T, ""), "logs-unknown-2024.03.05", "empty string");
    assert.equal(router.route("t", T, ".."), "logs-unknown-2024.03.05", "nothing but dots");
    assert.equal(router.route("t", T, "ok"), "logs-ok-2024.03.05");
    assert.deepEqual(reasons, ["t:missing", "t:not_string", "t:not_string", "t:not_string"]);
  });

  test("the fallback is configurable in the template", () => {
    const router = createRouter({ template: "logs-{field:tenant|shared}" });
    assert.equal(router.route("t", T), "logs-shared");
    assert.equal(router.route("t", T, "acme"), "logs-acme");
  });

  test("a field that starts the name loses its leading - _ + . and is cut to fit 255 bytes", () => {
    const router = createRouter({ template: "{field:app}-{yyyy.MM}" });
    assert.equal(router.route("t", T, "__private"), "private-2024.03");
    assert.equal(router.route("t", T, "-+._x"), "x-2024.03");
    const long = router.route("t", T, "é".repeat(300));
    assert.ok(Buffer.byteLength(long) <= 255, String(Buffer.byteLength(long)));
    assert.ok(long.endsWith("-2024.03"));
    const both = createRouter({ template: "{topic}-{field:app}" }).route("a".repeat(249), T, "b".repeat(300));
    assert.ok(Buffer.byteLength(both) <= 255);
    assert.ok(both.startsWith("aaa") && both.endsWith("bbb"));
  });

  test("at most maxFieldValues distinct values get an index; later ones take the fallback, counted as limit", () => {
    const reasons: string[] = [];
    const router = createRouter({ template: "{topic}-{field:svc}", maxFieldValues: 2, onFieldFallback: (_t, reason) => reasons.push(reason) });
    assert.equal(router.route("a", T, "one"), "a-one");
    assert.equal(router.route("a", T, "ONE"), "a-one", "a case variant is the same index: no new slot");
    assert.equal(router.route("b", T, "one"), "b-one", "another topic's index is another index");
    assert.equal(router.route("a", T, "two"), "a-unknown");
    assert.equal(router.route("a", T, "two"), "a-unknown", "still refused");
    assert.equal(router.route("a", T, "one"), "a-one", "admitted values keep their index");
    assert.equal(router.route("b", T, "one"), "b-one");
    assert.deepEqual(reasons, ["limit", "limit"]);
    assert.equal(createRouter({ template: "{field:svc}", maxFieldValues: 0 }).route("a", T, "x"), "unknown");
  });

  test("date buckets move per value", () => {
    const router = createRouter({ template });
    const midnight = at("2024-03-06T00:00:00.000Z");
    assert.equal(router.route("t", midnight - 1, "a"), "logs-a-2024.03.05");
    assert.equal(router.route("t", midnight, "b"), "logs-b-2024.03.06");
    assert.equal(router.route("t", midnight, "a"), "logs-a-2024.03.06");
    assert.equal(router.route("t", midnight - 1, undefined), "logs-unknown-2024.03.05");
    assert.equal(router.route("t", midnight, undefined), "logs-unknown-2024.03.06");
  });

  test("templateFor gives each topic its template, the prefix still applies", () => {
    const router = createRouter({ prefix: "k-", templateFor: (topic) => (topic === "orders" ? "orders-{field:region}" : "{topic}") });
    assert.equal(router.route("orders", T, "EU"), "k-orders-eu");
    assert.equal(router.route("other", T, "EU"), "k-other");
    assert.deepEqual(router.fieldPath("orders"), ["region"]);
    assert.equal(router.fieldPath("other"), undefined);
  });

  test("template validation of field groups", () => {
    assert.equal(indexTemplateProblem("logs-{field:service.name}-{yyyy.MM.dd}"), undefined);
    assert.equal(indexTemplateProblem("{field:service.name|no-service}"), undefined);
    assert.match(String(indexTemplateProblem("{field:}")), /field name is empty/);
    assert.match(String(indexTemplateProblem("{field:a..b}")), /must not start or end with "\."/);
    assert.match(String(indexTemplateProblem("{field:a|}")), /fallback after "\|" is empty/);
    assert.match(String(indexTemplateProblem("{field:a|Upper}")), /uppercase "U"/);
    assert.match(String(indexTemplateProblem("{field:a|x y}")), /not allowed/);
    assert.match(String(indexTemplateProblem("{field:a|_x}")), /must not start with "_"/);
    assert.match(String(indexTemplateProblem("{field:a}-{field:b}")), /at most one \{field/);
    assert.match(String(indexTemplateProblem(`${"a".repeat(250)}{field:x|${"y".repeat(10)}}`)), /longer than the 5 bytes/);
  });
});
