/**
 * Sample traffic of the three shapes log pipelines carry: plain-text access-log
 * lines (what a tailing agent ships), JSON application events (what a structured
 * logger writes), and JSON with nested objects and dotted field names (what
 * Kubernetes and ECS-style shippers produce).
 */
const PATHS = ["/", "/login", "/api/orders", "/api/orders/42", "/api/cart", "/static/app.js", "/healthz"];
const METHODS = ["GET", "GET", "GET", "POST", "PUT", "DELETE"];
const STATUSES = [200, 200, 200, 200, 201, 204, 301, 404, 500, 503];
const SERVICES = ["checkout", "payments", "search", "catalog"];
const LEVELS = ["info", "info", "info", "debug", "warn", "error"];

function pick<T>(items: readonly T[], i: number): T {
  const item = items[i % items.length];
  if (item === undefined) throw new Error("empty sample list");
  return item;
}

function clf(date: Date): string {
  const month = date.toLocaleString("en-US", { month: "short", timeZone: "UTC" });
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${pad(date.getUTCDate())}/${month}/${String(date.getUTCFullYear())}:${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
}

export function accessLogLine(i: number, now = new Date()): string {
  const ip = `10.${String(i % 7)}.${String(i % 251)}.${String((i * 7) % 253)}`;
  return `${ip} - - [${clf(now)}] "${pick(METHODS, i)} ${pick(PATHS, i * 3)} HTTP/1.1" ${String(pick(STATUSES, i * 7))} ${String(200 + ((i * 37) % 5000))} "-" "demo-agent/1.0"`;
}

export function appEvent(i: number, now = new Date()): string {
  const level = pick(LEVELS, i * 5);
  return JSON.stringify({
    "@timestamp": now.toISOString(),
    level,
    service: pick(SERVICES, i),
    message: level === "error" ? `payment provider timed out for order ${String(i)}` : `handled request ${String(i)}`,
    trace_id: (i * 2654435761 % 2 ** 32).toString(16).padStart(8, "0"),
    duration_ms: (i * 13) % 900,
  });
}

export function nestedEvent(i: number): string {
  return JSON.stringify({
    "http.request.method": pick(METHODS, i),
    "http.response.status_code": pick(STATUSES, i * 3),
    "url.path": pick(PATHS, i),
    kubernetes: { namespace: "shop", pod: { name: `web-${String(i % 5)}`, labels: { "app.kubernetes.io/name": "web", "app.kubernetes.io/version": "1.4.2" } } },
    user: { id: i % 1000, roles: ["buyer"] },
  });
}
