/**
 * Does a port speak TLS? Used only to explain a failed connection: a client talking
 * plaintext to a TLS listener (or the reverse) otherwise sees nothing better than a closed
 * connection. Verification is off: the question is the protocol, not the certificate.
 */
import { isIP } from "node:net";
import { connect } from "node:tls";

export function speaksTls(host: string, port: number, timeoutMs = 3_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, rejectUnauthorized: false, ...(isIP(host) === 0 ? { servername: host } : {}) });
    const done = (result: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => { done(false); }, timeoutMs);
    socket.once("secureConnect", () => { done(true); });
    socket.once("error", () => { done(false); });
  });
}

/** host and port of "host:port" or "[v6]:port", or undefined. */
export function hostPort(address: string): { host: string; port: number } | undefined {
  const match = /^\[?([^\]]+?)\]?:(\d+)$/.exec(address);
  return match?.[1] === undefined ? undefined : { host: match[1], port: Number(match[2]) };
}
