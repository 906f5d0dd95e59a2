// Kafka's varints as its protocol guide defines them (zigzag, then LEB128), computed with BigInt:
// the reference the kafkajs patch specs compare kafkajs's encoder against.

export function leb128(u: bigint): Buffer {
  const bytes: number[] = [];
  while (u >= 0x80n) {
    bytes.push(Number(u & 0x7fn) | 0x80);
    u >>= 7n;
  }
  bytes.push(Number(u));
  return Buffer.from(bytes);
}

export const zigzag64 = (v: bigint): bigint => BigInt.asUintN(64, (v << 1n) ^ (v >> 63n));
export const zigzag32 = (v: number): bigint => BigInt.asUintN(32, BigInt((v << 1) ^ (v >> 31)));
