/**
 * Every error this service raises says whether trying again can help (`retriable`)
 * and keeps what caused it (`cause`), so the retry policy and the logs never have to
 * guess from a message string.
 */
export class TransferError extends Error {
  readonly retriable: boolean;

  constructor(message: string, options: { retriable: boolean; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.retriable = options.retriable;
  }
}

/** Bad configuration: reported as one line naming the key and value, never a stack trace. */
export class ConfigError extends TransferError {
  constructor(message: string, cause?: unknown) {
    super(message, { retriable: false, cause });
  }
}

/** Elasticsearch could not be reached or answered with a transient failure (429, 5xx, timeout). */
export class SinkUnavailableError extends TransferError {
  constructor(message: string, cause?: unknown) {
    super(message, { retriable: true, cause });
  }
}

/** Elasticsearch permanently rejected a record (mapping or parsing error, invalid index). */
export class RecordRejectedError extends TransferError {
  constructor(message: string, cause?: unknown) {
    super(message, { retriable: false, cause });
  }
}

/** Reads a `retriable` flag from any error: unknown errors are assumed transient. */
export function isRetriable(error: unknown): boolean {
  if (error instanceof TransferError) return error.retriable;
  if (typeof error === "object" && error !== null && "retriable" in error) {
    return error.retriable !== false;
  }
  return true;
}

/** A one-line description of any thrown value, for logs and CLI messages. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

/**
 * A record that cannot be turned into a document as it is (it does not decode against
 * its schema, or is not in the format its topic is configured for). The failure policy
 * decides its fate; `errorType` names why (e.g. `avro_decode_error`), as Elasticsearch's
 * error types do for documents it refuses.
 */
export class RecordDecodeError extends TransferError {
  readonly errorType: string;

  constructor(errorType: string, message: string, cause?: unknown) {
    super(message, { retriable: false, cause });
    this.errorType = errorType;
  }
}
