// patches/kafkajs+2.2.4+005 (a produced record's encoding: CRC-32C eight bytes at a time, the
// record's fields named instead of the message spread, one shared empty header list) and 006 (a
// consumed record's offset and timestamp summed as numbers when exact, small varlongs read
// without BigInt-backed Longs): the bytes and the decoded fields must be exactly what the
// protocol defines. The references here are the CRC's definition (one bit at a time from the
// Castagnoli polynomial), the record layout of Kafka's protocol guide built with BigInt varints,
// and BigInt sums, not kafkajs's code.
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { leb128, zigzag64 } from '../../test/support/protocol-varints';

const requireKafkajs = createRequire(__filename);
const crc32C = requireKafkajs('kafkajs/src/protocol/recordBatch/crc32C') as (b: Buffer) => number;
const Record = requireKafkajs('kafkajs/src/protocol/recordBatch/record/v0') as (r: {
  offsetDelta?: number;
  timestampDelta?: number;
  key?: Buffer | string | null;
  value: Buffer | string | null;
  headers?: Record<string, string | string[]>;
}) => { buffer: Buffer };
const { RecordBatch } = requireKafkajs('kafkajs/src/protocol/recordBatch/v0') as {
  RecordBatch: (args: {
    records: unknown[];
    firstTimestamp: number | string;
    maxTimestamp: number | string;
    firstOffset?: unknown;
  }) => Promise<{
    buffer: Buffer;
  }>;
};
interface DecoderInstance {
  offset: number;
  readSmallVarLong(): number | undefined;
  readVarLong(): { toString(): string };
}
interface EncoderInstance {
  writeVarLong(v: unknown): EncoderInstance;
  buffer: Buffer;
}
const Encoder = requireKafkajs('kafkajs/src/protocol/encoder') as new () => EncoderInstance;
const Long = requireKafkajs('kafkajs/src/utils/long') as { fromString(s: string): unknown };
const Decoder = requireKafkajs('kafkajs/src/protocol/decoder') as new (b: Buffer) => DecoderInstance;
const decodeRecordBatch = requireKafkajs('kafkajs/src/protocol/recordBatch/v0/decoder') as (
  d: DecoderInstance,
) => Promise<{
  records: Array<{
    key: Buffer | null;
    value: Buffer | null;
    headers: Record<string, Buffer | Buffer[]>;
    offset: string;
    timestamp: string;
  }>;
}>;

/** CRC-32C by its definition: reflected, polynomial 0x82f63b78, one bit at a time. */
function crc32cBitwise(buf: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of buf) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

const varint = (v: number): Buffer => leb128(zigzag64(BigInt(v)));
const varBytes = (b: Buffer | null): Buffer =>
  b === null ? varint(-1) : Buffer.concat([varint(b.length), b]);

/** A record as the protocol lays it out (Length, Attributes, TimestampDelta, OffsetDelta, Key, Value, Headers). */
function recordBytes(
  ts: number,
  offset: number,
  key: Buffer | null,
  value: Buffer,
  headers: Array<[string, string]>,
): Buffer {
  const body = Buffer.concat([
    Buffer.from([0]),
    varint(ts),
    varint(offset),
    varBytes(key),
    varBytes(value),
    varint(headers.length),
    ...headers.map(([k, v]) => Buffer.concat([varBytes(Buffer.from(k)), varBytes(Buffer.from(v))])),
  ]);
  return Buffer.concat([varint(body.length), body]);
}

describe('kafkajs CRC-32C (patch 005)', () => {
  it('gives the check value of CRC-32C and the bitwise definition on every length and alignment', () => {
    expect(crc32C(Buffer.from('123456789'))).toBe(0xe3069283);
    expect(crc32C(Buffer.alloc(0))).toBe(0);
    const data = randomBytes(3000);
    for (let n = 0; n < 300; n++) {
      // Lengths around every multiple of 8, and views that start at odd offsets of a larger buffer.
      const view = data.subarray(n % 7, (n % 7) + n * 9);
      expect(crc32C(view)).toBe(crc32cBitwise(view));
    }
  });
});

describe('kafkajs Record (patch 005)', () => {
  it('encodes a record without headers exactly as the protocol lays it out, headers absent or empty alike', () => {
    const key = Buffer.from('user-7');
    const value = Buffer.from('{"clicks":3}');
    const expected = recordBytes(1234, 5, key, value, []);
    expect(Record({ offsetDelta: 5, timestampDelta: 1234, key, value }).buffer).toEqual(expected);
    expect(Record({ offsetDelta: 5, timestampDelta: 1234, key, value, headers: {} }).buffer).toEqual(
      expected,
    );
    expect(Record({ value: Buffer.from('x') }).buffer).toEqual(recordBytes(0, 0, null, Buffer.from('x'), []));
  });

  it('encodes headers, repeated ones in their order', () => {
    const value = Buffer.from('v');
    expect(
      Record({ offsetDelta: 1, timestampDelta: 0, key: null, value, headers: { a: '1', b: ['x', 'y'] } })
        .buffer,
    ).toEqual(
      recordBytes(0, 1, null, value, [
        ['a', '1'],
        ['b', 'x'],
        ['b', 'y'],
      ]),
    );
  });

  it('makes a batch whose CRC covers its body and whose records decode to what was given', async () => {
    const records = [
      Record({
        offsetDelta: 0,
        timestampDelta: 0,
        key: Buffer.from('k0'),
        value: Buffer.from('a'.repeat(500)),
      }),
      Record({
        offsetDelta: 1,
        timestampDelta: 7,
        key: null,
        value: Buffer.from('b'),
        headers: { h: ['1', '2'] },
      }),
    ];
    const { buffer } = await RecordBatch({
      records,
      firstTimestamp: 1_700_000_000_000,
      maxTimestamp: 1_700_000_000_007,
    });
    // FirstOffset int64, Length int32, PartitionLeaderEpoch int32, Magic int8, CRC uint32, then the body.
    expect(buffer.readUInt32BE(17)).toBe(crc32cBitwise(buffer.subarray(21)));
    const decoded = await decodeRecordBatch(new Decoder(buffer));
    expect(
      decoded.records.map((r) => [r.key?.toString() ?? null, r.value?.toString(), r.offset, r.timestamp]),
    ).toEqual([
      ['k0', 'a'.repeat(500), '0', '1700000000000'],
      [null, 'b', '1', '1700000000007'],
    ]);
    expect((decoded.records[1]!.headers.h as Buffer[]).map(String)).toEqual(['1', '2']);
  });
});

describe('kafkajs record decoding (patch 006)', () => {
  it('reads varlongs of up to 7 bytes as numbers, and leaves longer ones unread for readVarLong', () => {
    for (const v of [
      0n,
      1n,
      -1n,
      63n,
      -64n,
      1_700_000_000_000n,
      -(2n ** 40n),
      2n ** 48n - 1n,
      -(2n ** 48n),
    ]) {
      const decoder = new Decoder(new Encoder().writeVarLong(Long.fromString(String(v))).buffer);
      expect(decoder.readSmallVarLong()).toBe(Number(v));
    }
    for (const v of [2n ** 48n, -(2n ** 48n) - 1n, 2n ** 62n, -(2n ** 63n)]) {
      const decoder = new Decoder(new Encoder().writeVarLong(Long.fromString(String(v))).buffer);
      expect(decoder.readSmallVarLong()).toBeUndefined();
      expect(decoder.offset).toBe(0);
      expect(decoder.readVarLong().toString()).toBe(String(v));
    }
  });

  it('gives every record the offset and timestamp of BigInt sums, exact sums and past 2^53 alike', async () => {
    const cases: Array<{ firstOffset: bigint; firstTimestamp: bigint; deltas: bigint[] }> = [
      { firstOffset: 0n, firstTimestamp: 1_700_000_000_000n, deltas: [0n, 5n, 250n, -3n] },
      { firstOffset: 123_456_789_012n, firstTimestamp: -1n, deltas: [0n, 1n] },
      // Offsets past 2^53 and a timestamp delta of 8 bytes: the BigInt path, as released.
      { firstOffset: 2n ** 53n - 2n, firstTimestamp: 2n ** 53n - 1n, deltas: [0n, 1n, 2n ** 50n] },
    ];
    for (const c of cases) {
      const records = c.deltas.map((d, i) =>
        Record({
          offsetDelta: i,
          timestampDelta: Long.fromString(String(d)) as number,
          value: Buffer.from(String(i)),
        }),
      );
      const { buffer } = await RecordBatch({
        records,
        firstOffset: Long.fromString(String(c.firstOffset)),
        firstTimestamp: String(c.firstTimestamp),
        maxTimestamp: String(c.firstTimestamp),
      });
      const decoded = await decodeRecordBatch(new Decoder(buffer));
      expect(decoded.records.map((r) => [r.offset, r.timestamp, String(r.value)])).toEqual(
        c.deltas.map((d, i) => [String(c.firstOffset + BigInt(i)), String(c.firstTimestamp + d), String(i)]),
      );
    }
  });
});
