/**
 * Turns a failed request to Elasticsearch into one line naming the cause and what to
 * check, when the cause is a misconfiguration (TLS, credentials) rather than an outage.
 */
import { errors } from "@elastic/elasticsearch";
import { describeError } from "../errors.ts";
import { speaksTls } from "../shared/tls-probe.ts";

/** Known TLS failures: a piece of Node's or OpenSSL's message, and what it means. */
const TLS_CAUSES: readonly (readonly [RegExp, string])[] = [
  [/fingerprint does not match/i, "the certificate does not match ES_CA_FINGERPRINT: check the fingerprint (openssl x509 -noout -fingerprint -sha256 -in ca.crt)"],
  [/self[- ]signed|local issuer|verify the first certificate|unable to get issuer|certificate signature failure/i,
    "the node's certificate is not signed by a trusted CA: check ES_CA_FILE (the CA that signed the node's certificate) or ES_CA_FINGERPRINT"],
  [/expired|not yet valid/i, "the node's certificate is expired or not yet valid"],
  [/altname|does not match certificate|ERR_TLS_CERT_ALTNAME/i, "the node's certificate does not name the host of ES_NODE: use the name it was issued for"],
  [/wrong version number|packet length too long|unknown protocol|EPROTO/i, "the node does not speak TLS: use http:// in ES_NODE, or enable TLS on the node's HTTP layer"],
  [/certificate required|alert bad certificate|alert handshake failure|unknown ca/i,
    "the node refused the client certificate: check ES_CERT_FILE and ES_KEY_FILE (signed by a CA the node trusts)"],
];

function responseReason(error: errors.ResponseError): string {
  const body: unknown = error.body;
  if (typeof body === "object" && body !== null && "error" in body) {
    const cause: unknown = body.error;
    if (typeof cause === "object" && cause !== null && "reason" in cause && typeof cause.reason === "string") return cause.reason;
  }
  return `HTTP ${String(error.statusCode)}`;
}

/** Every message along the cause chain: the transport wraps the socket's error. */
function messages(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    parts.push(current.message, (current as { code?: unknown }).code === undefined ? "" : String((current as { code?: unknown }).code));
    current = current.cause;
  }
  return parts.join(" ");
}

async function plaintextToTls(nodes: readonly string[]): Promise<string | undefined> {
  for (const node of nodes) {
    if (!URL.canParse(node)) continue;
    const url = new URL(node);
    if (url.protocol !== "http:") continue;
    if (await speaksTls(url.hostname, Number(url.port || 80))) {
      return `Elasticsearch: ${url.host} speaks TLS but ES_NODE says http://: use https:// (and ES_CA_FILE for a private CA)`;
    }
  }
  return undefined;
}

/** One line for a misconfiguration, or undefined for anything else (an outage, a timeout). */
export async function explainElasticsearchFailure(error: unknown, nodes: readonly string[]): Promise<string | undefined> {
  if (error instanceof errors.ResponseError) {
    if (error.statusCode === 401) {
      return `Elasticsearch: authentication failed (${responseReason(error)}): check ES_USERNAME/ES_PASSWORD, ES_API_KEY, ES_BEARER_TOKEN or the client certificate (wrong, expired or revoked)`;
    }
    return undefined;
  }
  if (!(error instanceof errors.ConnectionError)) return undefined;
  const text = messages(error);
  for (const [pattern, meaning] of TLS_CAUSES) {
    if (pattern.test(text)) return `Elasticsearch: TLS handshake failed (${describeError(error)}): ${meaning}`;
  }
  if (/hang up|other side closed|ECONNRESET|socket closed|terminated/i.test(text)) return plaintextToTls(nodes);
  return undefined;
}
