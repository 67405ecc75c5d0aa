/**
 * SASL mechanism AWS_MSK_IAM (Amazon MSK's IAM access control), which kafkajs lacks: its
 * built-in "aws" speaks another protocol. The client sends a JSON document holding a
 * SigV4-presigned "kafka-cluster:Connect" request for the broker's host, as the
 * aws-msk-iam-auth library does. Credentials come from the configuration or the standard
 * AWS_* variables. Checked only against its own unit tests here: no MSK cluster was
 * available.
 */
import { createHash, createHmac } from "node:crypto";
import type { Mechanism } from "kafkajs";

export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
}

const SERVICE = "kafka-cluster";
const ACTION = "kafka-cluster:Connect";

const hmac = (key: Buffer | string, data: string): Buffer => createHmac("sha256", key).update(data).digest();
const sha256 = (data: string): string => createHash("sha256").update(data).digest("hex");
/** RFC 3986 encoding, as SigV4 wants it. */
const encode = (s: string): string => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** The authentication document for one broker host, signed at `now`. */
export function mskIamPayload(host: string, region: string, credentials: AwsCredentials, now: Date): Record<string, string> {
  const amzDate = now.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
  const day = amzDate.slice(0, 8);
  const scope = `${day}/${region}/${SERVICE}/aws4_request`;
  const query: Record<string, string> = {
    Action: ACTION,
    "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
    "X-Amz-Credential": `${credentials.accessKeyId}/${scope}`,
    "X-Amz-Date": amzDate,
    "X-Amz-Expires": "900",
    ...(credentials.sessionToken === "" ? {} : { "X-Amz-Security-Token": credentials.sessionToken }),
    "X-Amz-SignedHeaders": "host",
  };
  const canonicalQuery = Object.keys(query).sort().map((k) => `${encode(k)}=${encode(query[k] ?? "")}`).join("&");
  const canonicalRequest = ["GET", "/", canonicalQuery, `host:${host}`, "", "host", "UNSIGNED-PAYLOAD"].join("\n");
  const toSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256(canonicalRequest)].join("\n");
  const key = [day, region, SERVICE, "aws4_request"].reduce<Buffer | string>((k, part) => hmac(k, part), `AWS4${credentials.secretAccessKey}`);
  const signature = hmac(key, toSign).toString("hex");
  const payload: Record<string, string> = {
    version: "2020_10_22",
    host,
    "user-agent": "kafka-es-transfer",
    action: ACTION,
    "x-amz-algorithm": "AWS4-HMAC-SHA256",
    "x-amz-credential": query["X-Amz-Credential"] ?? "",
    "x-amz-date": amzDate,
    "x-amz-signedheaders": "host",
    "x-amz-expires": "900",
    "x-amz-signature": signature,
  };
  if (credentials.sessionToken !== "") payload["x-amz-security-token"] = credentials.sessionToken;
  return payload;
}

export function mskIamMechanism(region: string, credentials: () => AwsCredentials): Mechanism {
  return {
    mechanism: "AWS_MSK_IAM",
    authenticationProvider: ({ host, saslAuthenticate }) => ({
      async authenticate() {
        const payload = mskIamPayload(host, region, credentials(), new Date());
        await saslAuthenticate({
          request: { encode: () => Buffer.from(JSON.stringify(payload)) },
          response: { decode: (raw: Buffer) => raw, parse: (data: Buffer) => data.toString("utf8") },
        });
      },
    }),
  };
}
