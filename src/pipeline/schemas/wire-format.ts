/**
 * The Confluent wire format, as the Java serializers write it:
 *
 *     byte 0     magic byte, always 0
 *     bytes 1-4  schema id, big-endian int32 (the registry's global id)
 *     Protobuf:  the message-index array (which message of the .proto file), as
 *                zigzag varints: the count, then the indexes; the usual [0] is the
 *                single byte 0 (a count of 0)
 *     the rest   the encoded record (Avro binary, Protobuf, or JSON text)
 *
 * Only the framing is read here; the payload goes to the format's own library.
 */
export const MAGIC_BYTE = 0;
export const FRAME_BYTES = 5;

/** Schema id of a framed value, or -1 when `bytes` is not in the wire format. */
export function frameSchemaId(bytes: Buffer | null): number {
  if (bytes === null || bytes.length < FRAME_BYTES || bytes[0] !== MAGIC_BYTE) return -1;
  const id = bytes.readInt32BE(1);
  // Registries hand out positive ids; anything else is not a frame we can resolve.
  return id > 0 ? id : -1;
}

export interface MessageIndexes {
  /** Path to the message: index among the file's top-level messages, then nested ones. */
  readonly indexes: readonly number[];
  /** Where the Protobuf payload starts. */
  readonly payloadOffset: number;
}

const FIRST_MESSAGE: readonly number[] = [0];
/** A .proto file nests messages a few levels deep; a longer path is a corrupt frame. */
const MAX_INDEXES = 64;

/** A zigzag varint (as Kafka's ByteUtils.readVarint writes it) at `at`; throws on a truncated one. */
function readZigzagVarint(bytes: Buffer, at: number): { value: number; next: number } {
  let raw = 0;
  let shift = 0;
  let i = at;
  for (;;) {
    const byte = bytes[i];
    if (byte === undefined) throw new RangeError("truncated message-index varint");
    i += 1;
    raw |= (byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) break;
    shift += 7;
    if (shift > 28) throw new RangeError("message-index varint longer than 5 bytes");
  }
  return { value: (raw >>> 1) ^ -(raw & 1), next: i };
}

/** The message-index array after the 5-byte frame of a Protobuf record. */
export function readMessageIndexes(bytes: Buffer, from = FRAME_BYTES): MessageIndexes {
  // The common case, one zero byte, costs no array.
  if (bytes[from] === 0) return { indexes: FIRST_MESSAGE, payloadOffset: from + 1 };
  const count = readZigzagVarint(bytes, from);
  if (count.value < 0 || count.value > MAX_INDEXES) throw new RangeError(`message-index count ${String(count.value)} out of range`);
  const indexes: number[] = [];
  let at = count.next;
  for (let n = 0; n < count.value; n++) {
    const index = readZigzagVarint(bytes, at);
    if (index.value < 0) throw new RangeError(`negative message index ${String(index.value)}`);
    indexes.push(index.value);
    at = index.next;
  }
  return { indexes, payloadOffset: at };
}

/** The 5-byte frame for `schemaId` (tests and tools write records the way the Java serializers do). */
export function frameHeader(schemaId: number): Buffer {
  const header = Buffer.alloc(FRAME_BYTES);
  header[0] = MAGIC_BYTE;
  header.writeInt32BE(schemaId, 1);
  return header;
}

/** The message-index bytes for `indexes` ([0] -> the single byte 0). */
export function messageIndexBytes(indexes: readonly number[]): Buffer {
  if (indexes.length === 1 && indexes[0] === 0) return Buffer.from([0]);
  const out: number[] = [];
  const write = (value: number): void => {
    let zigzag = ((value << 1) ^ (value >> 31)) >>> 0;
    while (zigzag >= 0x80) {
      out.push((zigzag & 0x7f) | 0x80);
      zigzag >>>= 7;
    }
    out.push(zigzag);
  };
  write(indexes.length);
  for (const index of indexes) write(index);
  return Buffer.from(out);
}
