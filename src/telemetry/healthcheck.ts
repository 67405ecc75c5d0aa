/**
 * `kafka-es-transfer healthcheck`: the container's HEALTHCHECK. It asks the running
 * worker's own /healthz on the port the configuration names, so a non-default
 * METRICS_PORT (or one set in a CONFIG_FILE) is probed where the server really listens.
 */

/** Where a client inside the same container reaches a server bound to `host`. */
export function healthcheckUrl(host: string, port: number): string {
  // A wildcard bind is reachable on loopback; a specific address only on itself.
  const wildcard = host === "" || host === "0.0.0.0" || host === "::";
  const target = wildcard ? "127.0.0.1" : host;
  const bracketed = target.includes(":") ? `[${target}]` : target;
  return `http://${bracketed}:${String(port)}/healthz`;
}

export interface HealthcheckOutcome {
  readonly healthy: boolean;
  /** One line for the container runtime's health log. */
  readonly message: string;
}

/** GET /healthz once; healthy only on a 2xx answer within `timeoutMs`. */
export async function runHealthcheck(host: string, port: number, timeoutMs = 4000): Promise<HealthcheckOutcome> {
  if (port === 0) {
    return { healthy: false, message: "METRICS_PORT is 0 (any free port): set a fixed port to health-check" };
  }
  const url = healthcheckUrl(host, port);
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    const body = (await response.text()).slice(0, 300);
    return { healthy: response.ok, message: `${url} answered ${String(response.status)} ${body}` };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { healthy: false, message: `${url} unreachable: ${reason}` };
  }
}
