// Which shuffle partition owns a grouping key. Fixed for the life of a checkpoint (the
// repartition topic has exactly numShufflePartitions partitions), so it must never change:
// a 32-bit FNV-1a over the key's UTF-8 bytes.
export function shufflePartition(key: string, numShufflePartitions: number): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(key, 'utf8')) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % numShufflePartitions;
}
