/**
 * Checks the certificate and key files a configuration names, the way the TLS stack will
 * read them: they exist, hold PEM, parse, the key opens with its passphrase and belongs to
 * the certificate. Messages name the key and the file, never the content or a passphrase.
 */
import { createPrivateKey, X509Certificate, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g;

/** The file's bytes, or the reason it cannot be read (ENOENT, EACCES...). */
function readFile(file: string): { data: Buffer } | { problem: string } {
  try {
    return { data: readFileSync(file) };
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    return { problem: `cannot read that file (${typeof code === "string" ? code : "unreadable"})` };
  }
}

/** Every PEM certificate in a file, parsed; throws with the reason when one does not parse. */
export function parseCertificates(pem: string): X509Certificate[] {
  return (pem.match(PEM_CERTIFICATE) ?? []).map((block) => new X509Certificate(block));
}

/** Problem with a PEM certificate file (one or more certificates: a CA bundle or a chain), or undefined. */
export function certificateFileProblem(key: string, file: string): string | undefined {
  const read = readFile(file);
  if ("problem" in read) return `${key} = ${JSON.stringify(file)}: ${read.problem}`;
  let certificates: X509Certificate[];
  try {
    certificates = parseCertificates(read.data.toString("latin1"));
  } catch {
    return `${key} = ${JSON.stringify(file)}: holds a certificate that does not parse`;
  }
  if (certificates.length === 0) return `${key} = ${JSON.stringify(file)}: holds no PEM certificate (-----BEGIN CERTIFICATE-----)`;
  return undefined;
}

/** The private key, or the reason it cannot be opened. */
export function openPrivateKey(file: string, passphrase: string): { key: KeyObject } | { problem: string } {
  const read = readFile(file);
  if ("problem" in read) return read;
  const text = read.data.toString("latin1");
  if (!text.includes("PRIVATE KEY-----")) return { problem: "holds no PEM private key (-----BEGIN ... PRIVATE KEY-----)" };
  const encrypted = text.includes("ENCRYPTED");
  if (encrypted && passphrase === "") return { problem: "the key is encrypted: set its passphrase" };
  try {
    return { key: createPrivateKey({ key: read.data, format: "pem", ...(passphrase === "" ? {} : { passphrase }) }) };
  } catch {
    return { problem: encrypted ? "the key does not open with the passphrase given" : "the private key does not parse" };
  }
}

/**
 * Problems with a client certificate and its key: both or neither, each parses, the key
 * opens, and it is the certificate's key.
 */
export function clientCertificateProblems(
  keys: { cert: string; key: string; passphrase: string },
  files: { cert: string; key: string; passphrase: string },
): string[] {
  if (files.cert === "" && files.key === "") {
    return files.passphrase === "" ? [] : [`${keys.passphrase}: set only with ${keys.key}`];
  }
  if (files.cert === "") return [`${keys.cert}: required with ${keys.key}`];
  if (files.key === "") return [`${keys.key}: required with ${keys.cert}`];
  const problems: string[] = [];
  const certProblem = certificateFileProblem(keys.cert, files.cert);
  if (certProblem !== undefined) problems.push(certProblem);
  const opened = openPrivateKey(files.key, files.passphrase);
  if ("problem" in opened) problems.push(`${keys.key} = ${JSON.stringify(files.key)}: ${opened.problem}`);
  if (problems.length > 0 || !("key" in opened)) return problems;
  const [leaf] = parseCertificates(readFileSync(files.cert, "latin1"));
  if (leaf !== undefined && !leaf.checkPrivateKey(opened.key)) {
    problems.push(`${keys.key} = ${JSON.stringify(files.key)}: is not the private key of ${keys.cert} (${JSON.stringify(files.cert)})`);
  }
  return problems;
}

/** The files of one client's TLS settings, named `<prefix>caFile`, `<prefix>certFile`, `<prefix>keyFile`, `<prefix>keyPassphrase`. */
export interface TlsFiles {
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
  readonly keyPassphrase: string;
}

/** Problems with a client's CA file and client certificate (see the two functions above). */
export function tlsFilesProblems(prefix: string, files: TlsFiles): string[] {
  const problems: string[] = [];
  if (files.caFile !== "") {
    const problem = certificateFileProblem(`${prefix}caFile`, files.caFile);
    if (problem !== undefined) problems.push(problem);
  }
  problems.push(
    ...clientCertificateProblems(
      { cert: `${prefix}certFile`, key: `${prefix}keyFile`, passphrase: `${prefix}keyPassphrase` },
      { cert: files.certFile, key: files.keyFile, passphrase: files.keyPassphrase },
    ),
  );
  return problems;
}
