/**
 * Turns a Kafka connection, authentication or authorization failure into one line naming
 * the side, the cause and what to check. Anything else (a broker restarting, a timeout)
 * gets no explanation: the normal retries handle it.
 */
import { hostPort, speaksTls } from "../../shared/tls-probe.ts";
import { PASSWORD_REFUSED, saslMechanism } from "../auth/sasl-mechanisms.ts";

export interface KafkaFailureContext {
  readonly brokers: readonly string[];
  readonly ssl: boolean;
  /** Normalized ("scram-sha-512"), "" without SASL. */
  readonly mechanism: string;
  readonly groupId: string;
}

/** Names, messages and codes along the error's chain (kafkajs wraps the socket's error). */
function facts(error: unknown): { text: string; types: string } {
  const text: string[] = [];
  const types: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 6 && current instanceof Error; depth++) {
    const extra = current as { code?: unknown; type?: unknown; retriedError?: unknown; originalError?: unknown };
    text.push(current.name, current.message, typeof extra.code === "string" || typeof extra.code === "number" ? String(extra.code) : "");
    if (typeof extra.type === "string") types.push(extra.type);
    current = current.cause ?? extra.originalError ?? extra.retriedError;
  }
  return { text: text.join(" "), types: types.join(" ") };
}

function firstLine(text: string): string {
  return (text.split("\n")[0] ?? "").slice(0, 200);
}

/** The explanation that needs no network (every case but plaintext-to-TLS). */
export function explainKafkaError(error: unknown, context: KafkaFailureContext): string | undefined {
  const { text, types } = facts(error);
  const mech = context.mechanism === "" ? "" : context.mechanism.toUpperCase();
  if (/TOPIC_AUTHORIZATION_FAILED|Topic authorization failed/i.test(`${types} ${text}`)) {
    return "Kafka: not authorized for the topic(s) (missing ACL): grant the worker's principal Read and Describe on each topic it consumes";
  }
  if (/GROUP_AUTHORIZATION_FAILED|group authorization failed/i.test(`${types} ${text}`)) {
    return `Kafka: not authorized for consumer group "${context.groupId}" (missing ACL): grant the worker's principal Read and Describe on the group`;
  }
  if (/CLUSTER_AUTHORIZATION_FAILED|TRANSACTIONAL_ID_AUTHORIZATION_FAILED/.test(types)) {
    return `Kafka: not authorized (missing ACL): ${firstLine(text)}`;
  }
  if (/UNSUPPORTED_SASL_MECHANISM|mechanism is not supported/i.test(`${types} ${text}`)) {
    return `Kafka: the broker does not enable SASL mechanism ${mech} on this listener: check KAFKA_SASL_MECHANISM against the listener's sasl.enabled.mechanisms`;
  }
  if (/SASL_AUTHENTICATION_FAILED|SASLAuthenticationError|authentication failed/i.test(`${types} ${text}`)) {
    const what = saslMechanism(context.mechanism)?.refused ?? PASSWORD_REFUSED;
    return `Kafka: SASL ${mech} authentication failed (bad credentials): the broker refused ${what}`;
  }
  if (/SELF_SIGNED_CERT|UNABLE_TO_GET_ISSUER|UNABLE_TO_VERIFY_LEAF|self-signed|local issuer|verify the first certificate/i.test(text)) {
    return `Kafka: TLS handshake failed (${firstLine(certMessage(text))}): the broker's certificate is not signed by a CA we trust: check KAFKA_SSL_CA_FILE`;
  }
  if (/ERR_TLS_CERT_ALTNAME_INVALID|altnames/i.test(text)) {
    return "Kafka: TLS handshake failed: the broker's certificate does not name the host we connect to: check the hosts in KAFKA_BROKERS or set KAFKA_SSL_SERVERNAME";
  }
  if (/CERT_HAS_EXPIRED|CERT_NOT_YET_VALID/i.test(text)) return "Kafka: TLS handshake failed: the broker's certificate is expired or not yet valid";
  if (/alert bad certificate|certificate required|alert unknown ca|ALERT_BAD_CERTIFICATE|ALERT_CERTIFICATE_REQUIRED|ALERT_UNKNOWN_CA/i.test(text)) {
    return "Kafka: TLS handshake failed: the broker refused our client certificate (or got none): check KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE (signed by a CA the broker trusts)";
  }
  if (context.ssl && /before secure TLS connection|wrong version number|packet length too long|EPROTO/i.test(text)) {
    return "Kafka: TLS handshake failed: the broker's port does not speak TLS: set KAFKA_SSL=false or use the port of the broker's TLS listener";
  }
  return undefined;
}

function certMessage(text: string): string {
  return /self-signed[^|]*?chain|unable to[^|]*?certificate/i.exec(text)?.[0] ?? "certificate not trusted";
}

/**
 * Like explainKafkaError, and for a closed connection asks the broker whether it speaks
 * TLS: kafkajs would otherwise retry for about a minute and then say "Closed connection".
 */
export async function explainKafkaFailure(error: unknown, context: KafkaFailureContext): Promise<string | undefined> {
  const known = explainKafkaError(error, context);
  if (known !== undefined) return known;
  const { text } = facts(error);
  if (!/Closed connection|ECONNRESET|ConnectionClosed/i.test(text)) return undefined;
  if (!context.ssl) {
    for (const broker of context.brokers) {
      const address = hostPort(broker);
      if (address !== undefined && (await speaksTls(address.host, address.port))) {
        return `Kafka: ${broker} speaks TLS but KAFKA_SSL is false: set KAFKA_SSL=true (and KAFKA_SSL_CA_FILE for a private CA)`;
      }
    }
  }
  if (context.mechanism === "") {
    return "Kafka: the broker closed the connection: its listener probably requires SASL: set KAFKA_SASL_MECHANISM and credentials (or use the right port)";
  }
  return undefined;
}
