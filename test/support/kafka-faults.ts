/**
 * Fault injection between kafkajs and the real broker, in-process, through kafkajs'
 * pluggable `socketFactory`: every connection the client opens is a real TCP socket to
 * the broker whose writes pass through here. Each write is one Kafka request (4-byte
 * size, then api key, api version, correlation id), so a fault can target one API:
 * drop the connection when an OffsetCommit goes out, hold a request until the test
 * releases it, freeze all traffic (an expulsion), refuse new connections (a broker that
 * is gone). Responses are never altered. Nothing listens on a port.
 */
import net from "node:net";
import type { ISocketFactory } from "kafkajs";

/** Kafka API keys the tests target. */
export const API = {
  Fetch: 1,
  ListOffsets: 2,
  Metadata: 3,
  OffsetCommit: 8,
  OffsetFetch: 9,
  FindCoordinator: 10,
  JoinGroup: 11,
  Heartbeat: 12,
  LeaveGroup: 13,
  SyncGroup: 14,
} as const;

interface RequestHeader {
  readonly apiKey: number;
  readonly apiVersion: number;
  readonly correlationId: number;
}

/** Reads the header of one framed Kafka request; undefined when the chunk is not one. */
export function parseRequestHeader(chunk: Buffer): RequestHeader | undefined {
  if (chunk.length < 12 || chunk.readInt32BE(0) !== chunk.length - 4) return undefined;
  return { apiKey: chunk.readInt16BE(4), apiVersion: chunk.readInt16BE(6), correlationId: chunk.readInt32BE(8) };
}

type Action = "drop" | "hold";

interface Rule {
  readonly apiKey: number;
  readonly action: Action;
  /** Requests of this API to let through before acting. */
  skip: number;
  readonly triggered: () => void;
  readonly held: (() => void)[];
  released: boolean;
}

/** A held request: `seen` resolves when it was intercepted, `release()` sends it on. */
export interface Hold {
  readonly seen: Promise<void>;
  release(): void;
}

type Write = (chunk: Buffer, ...rest: unknown[]) => boolean;

export class KafkaFaults {
  readonly #sockets = new Set<net.Socket>();
  readonly #rules: Rule[] = [];
  readonly #holds = new Set<Rule>();
  readonly #seen = new Map<number, number>();
  #refusing = false;
  #frozen: (() => void)[] | undefined;

  /** Pass as `new Kafka({ socketFactory })`. */
  readonly socketFactory: ISocketFactory = ({ host, port, onConnect }) => {
    if (this.#refusing) return this.#refused();
    const socket = net.connect({ host, port }, onConnect);
    this.#sockets.add(socket);
    socket.on("close", () => this.#sockets.delete(socket));
    const write = socket.write.bind(socket) as Write;
    (socket as { write: Write }).write = (chunk: Buffer, ...rest: unknown[]) => this.#onWrite(socket, write, chunk, rest);
    return socket;
  };

  /** How many requests of this API went out (or were intercepted). */
  count(apiKey: number): number {
    return this.#seen.get(apiKey) ?? 0;
  }

  /** Drops the connection instead of sending the next request of `apiKey` (after `skip` others). */
  dropNext(apiKey: number, skip = 0): Promise<void> {
    return this.#addRule(apiKey, "drop", skip).seen;
  }

  /** Holds the next request of `apiKey` (after `skip` others) until released. */
  holdNext(apiKey: number, skip = 0): Hold {
    return this.#addRule(apiKey, "hold", skip);
  }

  /** Connections opened from now on fail at once, as if the broker were gone. */
  refuseConnections(refuse: boolean): void {
    this.#refusing = refuse;
  }

  /** Closes every open connection with an error, as a broker crash would. */
  cutAll(): void {
    for (const socket of this.#sockets) socket.destroy(new Error("connection cut (injected fault)"));
  }

  /** Holds every request on every connection (the process looks frozen); returns the thaw. */
  freeze(): () => void {
    const queued: (() => void)[] = [];
    this.#frozen = queued;
    return () => {
      this.#frozen = undefined;
      for (const send of queued.splice(0)) send();
    };
  }

  /** Lets everything through again. */
  clear(): void {
    this.#refusing = false;
    this.#rules.length = 0;
    for (const rule of this.#holds) {
      rule.released = true;
      for (const send of rule.held.splice(0)) send();
    }
    this.#holds.clear();
    this.#frozen?.splice(0).forEach((send) => {
      send();
    });
    this.#frozen = undefined;
  }

  #addRule(apiKey: number, action: Action, skip: number): Hold {
    let triggered: () => void = () => undefined;
    const seen = new Promise<void>((resolve) => {
      triggered = resolve;
    });
    const rule: Rule = { apiKey, action, skip, triggered, held: [], released: false };
    this.#rules.push(rule);
    if (action === "hold") this.#holds.add(rule);
    return {
      seen,
      release: () => {
        rule.released = true;
        const index = this.#rules.indexOf(rule);
        if (index >= 0) this.#rules.splice(index, 1);
        for (const send of rule.held.splice(0)) send();
      },
    };
  }

  #onWrite(socket: net.Socket, write: Write, chunk: Buffer, rest: unknown[]): boolean {
    const header = parseRequestHeader(chunk);
    const send = (): void => {
      if (!socket.destroyed) write(chunk, ...rest);
    };
    if (this.#frozen) {
      this.#frozen.push(send);
      return true;
    }
    if (header === undefined) return write(chunk, ...rest);
    this.#seen.set(header.apiKey, this.count(header.apiKey) + 1);
    const rule = this.#rules.find((r) => r.apiKey === header.apiKey && !r.released);
    if (rule === undefined) return write(chunk, ...rest);
    if (rule.skip > 0) {
      rule.skip -= 1;
      return write(chunk, ...rest);
    }
    // One-shot: the next request of this API passes again.
    this.#rules.splice(this.#rules.indexOf(rule), 1);
    rule.triggered();
    if (rule.action === "drop") {
      socket.destroy(new Error(`connection dropped before api ${String(header.apiKey)} (injected fault)`));
      return false;
    }
    rule.held.push(send);
    return true;
  }

  #refused(): net.Socket {
    const socket = new net.Socket();
    process.nextTick(() => {
      socket.destroy(Object.assign(new Error("connect ECONNREFUSED (injected fault)"), { code: "ECONNREFUSED" }));
    });
    return socket;
  }
}
