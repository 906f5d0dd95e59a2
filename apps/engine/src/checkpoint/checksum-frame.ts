// Every checkpoint file is framed as `SLC1 <payload bytes> <crc32 hex>\n<payload>` so that a torn,
// truncated or bit-flipped file is detected on read and reported by name instead of being
// silently treated as absent (which would make the engine skip or reprocess a batch).
import { crc32 } from 'node:zlib';

const MAGIC = 'SLC1';
const MAX_HEADER = 64;

export class CheckpointCorruptError extends Error {
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`corrupt checkpoint file ${file}: ${reason}`);
    this.name = 'CheckpointCorruptError';
  }
}

export function encodeFrame(payload: Buffer): Buffer {
  const header = `${MAGIC} ${payload.length} ${crc32(payload).toString(16).padStart(8, '0')}\n`;
  return Buffer.concat([Buffer.from(header, 'ascii'), payload]);
}

/** Returns the payload, or throws CheckpointCorruptError naming `file`. */
export function decodeFrame(data: Buffer, file: string): Buffer {
  const newline = data.subarray(0, MAX_HEADER).indexOf(0x0a);
  if (newline < 0) throw new CheckpointCorruptError(file, 'missing or unreadable header');
  const [magic, lengthText, crcText, ...rest] = data.subarray(0, newline).toString('ascii').split(' ');
  if (magic !== MAGIC || rest.length > 0 || lengthText === undefined || crcText === undefined) {
    throw new CheckpointCorruptError(file, 'unrecognised header');
  }
  const expectedLength = Number(lengthText);
  const payload = data.subarray(newline + 1);
  if (!Number.isSafeInteger(expectedLength) || payload.length !== expectedLength) {
    throw new CheckpointCorruptError(
      file,
      `expected ${lengthText} payload bytes, found ${payload.length} (truncated?)`,
    );
  }
  const actualCrc = crc32(payload).toString(16).padStart(8, '0');
  if (actualCrc !== crcText)
    throw new CheckpointCorruptError(file, `checksum mismatch (header ${crcText}, content ${actualCrc})`);
  return payload;
}

export function encodeJsonFrame(value: unknown): Buffer {
  return encodeFrame(Buffer.from(JSON.stringify(value), 'utf8'));
}

export function decodeJsonFrame(data: Buffer, file: string): unknown {
  const payload = decodeFrame(data, file);
  try {
    return JSON.parse(payload.toString('utf8')) as unknown;
  } catch (err) {
    throw new CheckpointCorruptError(file, `invalid JSON (${(err as Error).message})`);
  }
}

// ---- streamed frames (state snapshots too large to hold in memory) ----
// The header is written last into a fixed-width slot at the start of the file: the length is
// zero-padded to 16 digits, which decodeFrame reads like any other (Number('000…12') = 12).

/** Bytes reserved at the start of a streamed frame for its header. */
export const STREAMED_HEADER_BYTES = `${MAGIC} ${'0'.repeat(16)} ${'0'.repeat(8)}\n`.length;

/** Running length and CRC-32 of a payload written in chunks. */
export class FrameDigest {
  length = 0;
  crc = 0;

  update(chunk: Buffer): void {
    this.length += chunk.length;
    this.crc = crc32(chunk, this.crc);
  }

  /** The header for the slot of STREAMED_HEADER_BYTES. */
  header(): Buffer {
    const text = `${MAGIC} ${String(this.length).padStart(16, '0')} ${this.crc.toString(16).padStart(8, '0')}\n`;
    return Buffer.from(text, 'ascii');
  }
}

/**
 * The payload of a framed file read in chunks, checked as it goes: a damaged file throws
 * CheckpointCorruptError naming `file` — the header at once, length and checksum after the last
 * chunk (so a caller must treat what it consumed before the end as provisional).
 */
export async function* decodeFrameStream(
  chunks: AsyncIterable<Buffer>,
  file: string,
): AsyncGenerator<Buffer> {
  let head: Buffer | undefined = Buffer.alloc(0);
  let expectedLength = 0;
  let expectedCrc = '';
  const digest = new FrameDigest();
  for await (const chunk of chunks) {
    let body = chunk;
    if (head) {
      head = Buffer.concat([head, chunk]);
      const newline = head.subarray(0, MAX_HEADER).indexOf(0x0a);
      if (newline < 0) {
        if (head.length >= MAX_HEADER) throw new CheckpointCorruptError(file, 'missing or unreadable header');
        continue;
      }
      const [magic, lengthText, crcText, ...rest] = head.subarray(0, newline).toString('ascii').split(' ');
      if (magic !== MAGIC || rest.length > 0 || lengthText === undefined || crcText === undefined)
        throw new CheckpointCorruptError(file, 'unrecognised header');
      expectedLength = Number(lengthText);
      if (!Number.isSafeInteger(expectedLength))
        throw new CheckpointCorruptError(file, 'unrecognised header');
      expectedCrc = crcText;
      body = head.subarray(newline + 1);
      head = undefined;
    }
    if (body.length === 0) continue;
    digest.update(body);
    if (digest.length > expectedLength)
      throw new CheckpointCorruptError(file, `more than the ${expectedLength} payload bytes of its header`);
    yield body;
  }
  if (head) throw new CheckpointCorruptError(file, 'missing or unreadable header');
  if (digest.length !== expectedLength)
    throw new CheckpointCorruptError(
      file,
      `expected ${expectedLength} payload bytes, found ${digest.length} (truncated?)`,
    );
  const actualCrc = digest.crc.toString(16).padStart(8, '0');
  if (actualCrc !== expectedCrc)
    throw new CheckpointCorruptError(file, `checksum mismatch (header ${expectedCrc}, content ${actualCrc})`);
}
