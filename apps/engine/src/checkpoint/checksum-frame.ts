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
