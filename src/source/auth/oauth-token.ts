/**
 * OAUTHBEARER tokens from an OIDC token endpoint with the client-credentials grant (the
 * flow of Strimzi/Keycloak, Confluent Cloud, Redpanda and Azure). kafkajs asks for a
 * token on every new connection: the provider keeps one and renews it before it expires
 * (at 80% of its life), so a connection opened at any time gets a valid one. Neither the
 * secret nor a token is ever logged.
 */
import { TransferError } from "../../errors.ts";

export interface OAuthClientOptions {
  readonly tokenEndpoint: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly scope: string;
}

export interface OAuthToken {
  readonly value: string;
  /** Epoch ms when the token stops being valid. */
  readonly expiresAt: number;
}

/** Renew when this share of the token's life has passed... */
const RENEW_AT = 0.8;
/**
 * ...or when less than this is left: kafkajs re-authenticates a connection 10 s before its
 * session (at most the token's life) ends, so a token handed out with less left would be
 * asked to re-authenticate at once.
 */
const MIN_REMAINING_MS = 15_000;
/** Used when the endpoint gives no lifetime (expires_in, or the JWT's exp). */
const DEFAULT_LIFETIME_S = 300;

/** The `exp` claim of a JWT, in epoch ms, if the token is a JWT that carries one. */
export function jwtExpiry(token: string): number | undefined {
  const payload = token.split(".")[1];
  if (payload === undefined) return undefined;
  try {
    const claims: unknown = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
    const exp = typeof claims === "object" && claims !== null && "exp" in claims ? claims.exp : undefined;
    return typeof exp === "number" ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/** The token of a token-endpoint response body, with its expiry; throws when there is none. */
export function parseTokenResponse(body: unknown, now: number): OAuthToken {
  const record = typeof body === "object" && body !== null ? (body as Record<string, unknown>) : {};
  const value = record.access_token;
  if (typeof value !== "string" || value === "") throw new Error("the response has no access_token");
  const expiresIn = typeof record.expires_in === "number" ? record.expires_in : Number(record.expires_in);
  const expiresAt = Number.isFinite(expiresIn) && expiresIn > 0 ? now + expiresIn * 1000 : (jwtExpiry(value) ?? now + DEFAULT_LIFETIME_S * 1000);
  return { value, expiresAt };
}

/** When a token obtained at `obtainedAt` should be replaced. */
export function renewAt(token: OAuthToken, obtainedAt: number): number {
  const life = Math.max(0, token.expiresAt - obtainedAt);
  return Math.min(obtainedAt + life * RENEW_AT, token.expiresAt - MIN_REMAINING_MS);
}

async function requestToken(options: OAuthClientOptions, timeoutMs: number): Promise<unknown> {
  const form = new URLSearchParams({ grant_type: "client_credentials" });
  if (options.scope !== "") form.set("scope", options.scope);
  const basic = Buffer.from(`${encodeURIComponent(options.clientId)}:${encodeURIComponent(options.clientSecret)}`).toString("base64");
  const response = await fetch(options.tokenEndpoint, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json", authorization: `Basic ${basic}` },
    body: form,
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await response.text();
  if (!response.ok) {
    // The OAuth error code says what is wrong (invalid_client...); the rest may echo input.
    const code = /"error"\s*:\s*"([\w.-]{1,60})"/.exec(text)?.[1];
    const retriable = response.status >= 500 || response.status === 429;
    throw new TransferError(`Kafka: the OAuth token endpoint refused the client credentials: HTTP ${String(response.status)}${code === undefined ? "" : ` ${code}`}: check KAFKA_SASL_OAUTH_CLIENT_ID and KAFKA_SASL_OAUTH_CLIENT_SECRET`, { retriable });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new TransferError("Kafka: the OAuth token endpoint answered without JSON: check KAFKA_SASL_OAUTH_TOKEN_ENDPOINT", { retriable: false });
  }
}

export interface TokenProvider {
  /** A valid token, fetched or renewed when needed (concurrent callers share one request). */
  token(): Promise<OAuthToken>;
}

export function createTokenProvider(options: OAuthClientOptions, now: () => number = Date.now, timeoutMs = 10_000): TokenProvider {
  let current: { token: OAuthToken; renewAt: number } | undefined;
  let pending: Promise<OAuthToken> | undefined;
  const fetchToken = async (): Promise<OAuthToken> => {
    const obtainedAt = now();
    let body: unknown;
    try {
      body = await requestToken(options, timeoutMs);
    } catch (error) {
      if (error instanceof TransferError) throw error;
      const host = URL.canParse(options.tokenEndpoint) ? new URL(options.tokenEndpoint).host : options.tokenEndpoint;
      throw new TransferError(`Kafka: the OAuth token endpoint ${host} is unreachable (${error instanceof Error ? error.message : String(error)}): check KAFKA_SASL_OAUTH_TOKEN_ENDPOINT`, { retriable: true, cause: error });
    }
    let token: OAuthToken;
    try {
      token = parseTokenResponse(body, obtainedAt);
    } catch (error) {
      throw new TransferError(`Kafka: the OAuth token endpoint gave no token (${error instanceof Error ? error.message : String(error)})`, { retriable: false, cause: error });
    }
    current = { token, renewAt: renewAt(token, obtainedAt) };
    return token;
  };
  return {
    token() {
      if (current !== undefined && now() < current.renewAt) return Promise.resolve(current.token);
      pending ??= fetchToken().finally(() => {
        pending = undefined;
      });
      return pending;
    },
  };
}
