/**
 * The SASL mechanisms this service speaks, one row each, and everything the code knows
 * about a mechanism in that row: its name, the kafka.sasl settings it cannot work
 * without, what to tell an operator when the broker refuses it, and the `sasl` option
 * kafkajs needs for it. The config format, doc and cross-key rules (src/config/),
 * kafkajs' options (kafka-security.ts) and the failure diagnosis (client/kafka-diagnosis.ts)
 * all derive from this table: a new mechanism is one new row.
 */
import type { Mechanism, SASLOptions } from "kafkajs";
import { mskIamMechanism } from "./msk-iam.ts";
import { createTokenProvider } from "./oauth-token.ts";

/** The kafka.sasl settings (src/config/schema.ts). */
export interface KafkaSaslOptions {
  /** Any case: "SCRAM-SHA-512" and "scram-sha-512" alike; "" = no SASL. */
  readonly mechanism: string;
  readonly username: string;
  readonly password: string;
  readonly oauth: { readonly tokenEndpoint: string; readonly clientId: string; readonly clientSecret: string; readonly scope: string };
  readonly aws: { readonly region: string; readonly accessKeyId: string; readonly secretAccessKey: string; readonly sessionToken: string };
}

export type Environment = Readonly<Record<string, string | undefined>>;

/** A kafka.sasl setting a mechanism cannot work without. */
export interface RequiredSaslSetting {
  /** Its path under kafka.sasl: "username", "oauth.tokenEndpoint". */
  readonly key: string;
  readonly value: (sasl: KafkaSaslOptions) => string;
  /** "text": must not be empty; "http-url": must be an http(s) URL. */
  readonly check: "text" | "http-url";
  /** A secret: a message about it never shows its value. */
  readonly secret: boolean;
}

export interface SaslMechanismSpec {
  /** Lower case, as kafkajs and KAFKA_SASL_MECHANISM (any case) name it. */
  readonly name: string;
  /** What it authenticates with, for the schema's doc. */
  readonly takes: string;
  readonly requires: readonly RequiredSaslSetting[];
  /** When the broker refuses the authentication: what it refused and what to check. */
  readonly refused: string;
  /** kafkajs' `sasl` option for it. */
  readonly kafkajs: (sasl: KafkaSaslOptions, env: Environment) => SASLOptions | Mechanism;
}

const text = (key: string, value: (sasl: KafkaSaslOptions) => string, secret = false): RequiredSaslSetting => ({ key, value, check: "text", secret });

/** What the broker refused for a username and password (also said when no mechanism is set). */
export const PASSWORD_REFUSED = "the credentials: check KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD (and that the user exists for this mechanism)";

type PasswordMechanism = "plain" | "scram-sha-256" | "scram-sha-512";

function usernamePassword<N extends PasswordMechanism>(name: N): SaslMechanismSpec & { readonly name: N } {
  return {
    name,
    takes: "username and password",
    requires: [text("username", (s) => s.username), text("password", (s) => s.password, true)],
    refused: PASSWORD_REFUSED,
    // The cast only merges kafkajs' three identical shapes ({ mechanism: "plain" } & ...): TS cannot for a union of names.
    kafkajs: (sasl) => ({ mechanism: name, username: sasl.username, password: sasl.password }) as SASLOptions,
  };
}

const OAUTHBEARER = {
  name: "oauthbearer",
  takes: "kafka.sasl.oauth.*: OIDC client credentials",
  requires: [
    { key: "oauth.tokenEndpoint", value: (s) => s.oauth.tokenEndpoint, check: "http-url", secret: false },
    text("oauth.clientId", (s) => s.oauth.clientId),
    text("oauth.clientSecret", (s) => s.oauth.clientSecret, true),
  ],
  refused: "the token: check the broker's OAUTHBEARER validation (issuer, audience, signing keys) and KAFKA_SASL_OAUTH_*",
  kafkajs: (sasl) => {
    const provider = createTokenProvider(sasl.oauth);
    return { mechanism: "oauthbearer", oauthBearerProvider: async () => ({ value: (await provider.token()).value }) };
  },
} as const satisfies SaslMechanismSpec;

const AWS_MSK_IAM = {
  name: "aws",
  takes: "AWS_MSK_IAM, kafka.sasl.aws.*",
  requires: [text("aws.region", (s) => s.aws.region)],
  refused: "the AWS credentials: check KAFKA_SASL_AWS_* / AWS_* and the IAM policy",
  // Read at each authentication: rotated credentials (a mounted file, IRSA) are picked up.
  kafkajs: (sasl, env) =>
    mskIamMechanism(sasl.aws.region, () => ({
      accessKeyId: sasl.aws.accessKeyId || (env.AWS_ACCESS_KEY_ID ?? ""),
      secretAccessKey: sasl.aws.secretAccessKey || (env.AWS_SECRET_ACCESS_KEY ?? ""),
      sessionToken: sasl.aws.sessionToken || (env.AWS_SESSION_TOKEN ?? ""),
    })),
} as const satisfies SaslMechanismSpec;

/** Every mechanism, in the order the docs and messages list them. */
export const SASL_MECHANISM_TABLE = [
  usernamePassword("plain"),
  usernamePassword("scram-sha-256"),
  usernamePassword("scram-sha-512"),
  OAUTHBEARER,
  AWS_MSK_IAM,
] as const;

export type SaslMechanismName = (typeof SASL_MECHANISM_TABLE)[number]["name"];

export const SASL_MECHANISM_NAMES: readonly SaslMechanismName[] = SASL_MECHANISM_TABLE.map((m) => m.name);

/** The row of a mechanism named in any case; undefined for "" (no SASL) or an unknown name. */
export function saslMechanism(name: string): SaslMechanismSpec | undefined {
  const wanted = name.toLowerCase();
  return SASL_MECHANISM_TABLE.find((m) => m.name === wanted);
}
