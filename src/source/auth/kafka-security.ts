/**
 * The TLS and SASL options of every Kafka client this service makes (consumer, admin,
 * and any producer made from the same `Kafka`): built once, in createKafka.
 */
import { readFileSync } from "node:fs";
import type { ConnectionOptions } from "node:tls";
import type { Mechanism, SASLOptions } from "kafkajs";
import { ConfigError, describeError } from "../../errors.ts";
import { mskIamMechanism } from "./msk-iam.ts";
import { createTokenProvider } from "./oauth-token.ts";

export interface KafkaTlsOptions {
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
  readonly keyPassphrase: string;
  readonly servername: string;
  readonly rejectUnauthorized: boolean;
}

export interface KafkaSaslOptions {
  /** Any case: "SCRAM-SHA-512" and "scram-sha-512" alike; "" = no SASL. */
  readonly mechanism: string;
  readonly username: string;
  readonly password: string;
  readonly oauth: { readonly tokenEndpoint: string; readonly clientId: string; readonly clientSecret: string; readonly scope: string };
  readonly aws: { readonly region: string; readonly accessKeyId: string; readonly secretAccessKey: string; readonly sessionToken: string };
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

/** kafkajs' `sasl` for the configured mechanism, or undefined without SASL. */
export function kafkaSasl(sasl: KafkaSaslOptions, env: Readonly<Record<string, string | undefined>> = process.env): SASLOptions | Mechanism | undefined {
  const mechanism = sasl.mechanism.toLowerCase();
  switch (mechanism) {
    case "":
      return undefined;
    case "plain":
      return { mechanism, username: sasl.username, password: sasl.password };
    case "scram-sha-256":
      return { mechanism, username: sasl.username, password: sasl.password };
    case "scram-sha-512":
      return { mechanism, username: sasl.username, password: sasl.password };
    case "oauthbearer": {
      const provider = createTokenProvider(sasl.oauth);
      return { mechanism, oauthBearerProvider: async () => ({ value: (await provider.token()).value }) };
    }
    case "aws":
      // Read at each authentication: rotated credentials (a mounted file, IRSA) are picked up.
      return mskIamMechanism(sasl.aws.region, () => ({
        accessKeyId: sasl.aws.accessKeyId || (env.AWS_ACCESS_KEY_ID ?? ""),
        secretAccessKey: sasl.aws.secretAccessKey || (env.AWS_SECRET_ACCESS_KEY ?? ""),
        sessionToken: sasl.aws.sessionToken || (env.AWS_SESSION_TOKEN ?? ""),
      }));
    default:
      throw new ConfigError(`config: kafka.sasl.mechanism = ${JSON.stringify(sasl.mechanism)}: not supported`);
  }
}
