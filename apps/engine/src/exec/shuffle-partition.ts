// Which shuffle partition owns a grouping key. Fixed for the life of a checkpoint (the
// repartition topic has exactly numShufflePartitions partitions), so it must never change:
// a 32-bit FNV-1a over the key's UTF-8 bytes.
export function shufflePartition(key: string, numShufflePartitions: number): number {
  let h = 0x811c9dc5;
  // ASCII keys (the usual JSON group keys) hash their char codes, which are their UTF-8 bytes,
  // without a Buffer per row (every repartitioned row is hashed: issue 20 §5 profile).
  let ascii = true;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c > 0x7f) {
      ascii = false;
      break;
    }
    h ^= c;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  if (ascii) return h % numShufflePartitions;
  h = 0x811c9dc5;
  for (const byte of Buffer.from(key, 'utf8')) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % numShufflePartitions;
}
