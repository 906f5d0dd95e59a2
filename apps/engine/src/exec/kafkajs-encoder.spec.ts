// patches/kafkajs+2.2.4+003 (a send's messages grouped per partition in linear time) and 004
// (varints written in place, small varlongs without Long objects, unzeroed encoder buffers):
// the bytes and groupings must be exactly what the released code produced. The reference here is
// the varint encoding itself (zigzag + LEB128, computed with BigInt), not kafkajs's code.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { leb128, zigzag32, zigzag64 } from '../../test/support/protocol-varints';

interface EncoderInstance {
  writeVarInt(v: number): EncoderInstance;
  writeUVarInt(v: number): EncoderInstance;
  writeVarLong(v: unknown): EncoderInstance;
  writeVarIntBytes(v: Buffer | string | null): EncoderInstance;
  buffer: Buffer;
}
interface EncoderClass {
  new (initialSize?: number): EncoderInstance;
  sizeOfVarInt(v: number): number;
  sizeOfVarLong(v: unknown): number;
}
type GroupMessages = (args: {
  topic: string;
  partitionMetadata: unknown[];
  messages: Array<{ partition: number; value: string }>;
  partitioner: (args: { message: { partition: number } }) => number;
}) => Record<string, Array<{ partition: number; value: string }>>;

const requireKafkajs = createRequire(__filename);
const Encoder = requireKafkajs('kafkajs/src/protocol/encoder') as EncoderClass;
const Long = requireKafkajs('kafkajs/src/utils/long') as { fromString(s: string): unknown };
const groupMessagesPerPartition = requireKafkajs(
  'kafkajs/src/producer/groupMessagesPerPartition',
) as GroupMessages;

const INT32_EDGES = [0, 1, -1, 63, -64, 64, -65, 127, 128, 8191, 8192, -8193, 2 ** 20, -(2 ** 20)];
const INT32_VALUES = [
  ...INT32_EDGES,
  2 ** 30 - 1,
  2 ** 30,
  -(2 ** 30),
  -(2 ** 30) - 1,
  2 ** 31 - 1,
  -(2 ** 31),
  123456789,
  -987654321,
];
const LONG_VALUES = [
  ...INT32_VALUES,
  2 ** 31,
  -(2 ** 31) - 1,
  2 ** 40 + 3,
  -(2 ** 45),
  Number.MAX_SAFE_INTEGER,
];

describe('kafkajs Encoder (patch 004)', () => {
  it('writes zigzag varints of 32-bit values as the protocol defines them', () => {
    for (const v of INT32_VALUES) {
      expect(new Encoder().writeVarInt(v).buffer).toEqual(leb128(zigzag32(v)));
      expect(Encoder.sizeOfVarInt(v)).toBe(leb128(zigzag32(v)).length);
    }
  });

  it('writes unsigned varints of every 32-bit value, negative ones as their unsigned bits', () => {
    for (const v of [...INT32_VALUES, 2 ** 32 - 1])
      expect(new Encoder().writeUVarInt(v).buffer).toEqual(leb128(BigInt(v >>> 0)));
  });

  it('writes varlongs of numbers, strings and Longs alike, small or not', () => {
    for (const v of LONG_VALUES) {
      const expected = leb128(zigzag64(BigInt(v)));
      expect(new Encoder().writeVarLong(v).buffer).toEqual(expected);
      expect(new Encoder().writeVarLong(String(v)).buffer).toEqual(expected);
      expect(new Encoder().writeVarLong(Long.fromString(String(v))).buffer).toEqual(expected);
      expect(Encoder.sizeOfVarLong(v)).toBe(expected.length);
    }
  });

  it('keeps only the written bytes when the buffer grows (no stale memory in the output)', () => {
    const e = new Encoder(1);
    const value = 'x'.repeat(3000);
    e.writeVarInt(5).writeVarIntBytes(value).writeVarLong(-7);
    expect(e.buffer).toEqual(
      Buffer.concat([leb128(zigzag32(5)), leb128(zigzag32(3000)), Buffer.from(value), leb128(zigzag64(-7n))]),
    );
  });
});

describe('kafkajs groupMessagesPerPartition (patch 003)', () => {
  it('groups messages by the partitioner, in their order', () => {
    const messages = Array.from({ length: 1000 }, (_, i) => ({ partition: (i * 7) % 4, value: String(i) }));
    const grouped = groupMessagesPerPartition({
      topic: 't',
      partitionMetadata: [{}, {}, {}, {}],
      messages,
      partitioner: ({ message }) => message.partition,
    });
    expect(Object.keys(grouped)).toEqual(['0', '1', '2', '3']);
    for (const p of [0, 1, 2, 3]) expect(grouped[p]).toEqual(messages.filter((m) => m.partition === p));
  });

  it('groups nothing for a topic without partition metadata', () => {
    expect(
      groupMessagesPerPartition({
        topic: 't',
        partitionMetadata: [],
        messages: [{ partition: 0, value: 'a' }],
        partitioner: () => 0,
      }),
    ).toEqual({});
  });
});
