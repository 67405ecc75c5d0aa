/**
 * The TLS and SASL options of every Kafka client this service makes (consumer, admin,
 * and any producer made from the same `Kafka`): built once, in createKafka.
 */
import { readFileSync } from "node:fs";
import type { ConnectionOptions } from "node:tls";
import type { Mechanism, SASLOptions } from "kafkajs";
import { ConfigError, describeError } from "../../errors.ts";
import { saslMechanism, type Environment, type KafkaSaslOptions } from "./sasl-mechanisms.ts";

export interface KafkaTlsOptions {
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
  readonly keyPassphrase: string;
  readonly servername: string;
  readonly rejectUnauthorized: boolean;
}

function readPem(key: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new ConfigError(`config: kafka.tls.${key} = "${file}": cannot be read (${describeError(error)})`, error);
  }
}

/** kafkajs' `ssl`: false, or the TLS options (CA, client certificate, server name, verification). */
export function kafkaTls(ssl: boolean, tls: KafkaTlsOptions): false | ConnectionOptions {
  if (!ssl) return false;
  const options: ConnectionOptions = { rejectUnauthorized: tls.rejectUnauthorized };
  if (tls.caFile !== "") options.ca = readPem("caFile", tls.caFile);
  if (tls.certFile !== "") options.cert = readPem("certFile", tls.certFile);
  if (tls.keyFile !== "") options.key = readPem("keyFile", tls.keyFile);
  if (tls.keyPassphrase !== "") options.passphrase = tls.keyPassphrase;
  if (tls.servername !== "") options.servername = tls.servername;
  return options;
}

/** kafkajs' `sasl` for the configured mechanism (sasl-mechanisms.ts), or undefined without SASL. */
export function kafkaSasl(sasl: KafkaSaslOptions, env: Environment = process.env): SASLOptions | Mechanism | undefined {
  if (sasl.mechanism === "") return undefined;
  const spec = saslMechanism(sasl.mechanism);
  if (spec === undefined) throw new ConfigError(`config: kafka.sasl.mechanism = ${JSON.stringify(sasl.mechanism)}: not supported`);
  return spec.kafkajs(sasl, env);
}
